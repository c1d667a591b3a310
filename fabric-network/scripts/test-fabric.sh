#!/usr/bin/env bash
# The Fabric test suite: brings a fresh network up (network-up.sh), runs
#   - fabric-network/parity: solo and Fabric answer a request sequence alike,
#     and the gateway's event stream resumes without gaps or duplicates;
#   - e2e/ against Org1's facade (E2E_ADDR) and, for its cross-organization
#     parts, Org2's (E2E_ADDR2);
# then tears the network down. Without Fabric binaries it prints a SKIPPED
# line and exits 0 (set FABRIC_REQUIRED=1 to make that a failure).
# FABRIC_BENCH=1 also measures submit throughput (see parity/throughput_test.go).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

find_fabric_binaries
if [ ${#MISSING[@]} -gt 0 ]; then
	echo "SKIPPED: fabric binaries not found (${MISSING[*]}); set FABRIC_BIN to the folder holding them"
	[ "${FABRIC_REQUIRED:-0}" = 1 ] && exit 1
	exit 0
fi

"$NETWORK_DIR/scripts/network-up.sh"
trap '"$NETWORK_DIR/scripts/network-down.sh"' EXIT

cd "$REPO_DIR"
status=0
if compgen -G "e2e/*.go" >/dev/null; then
	# One process per test: each gets its own key space (the suite draws a
	# run id per process) on the shared ledger. TestWorkflow goes first: it
	# works every task waiting for its organizations on the whole ledger, so
	# the tasks that other tests leave waiting would be its too.
	tests=$(go test -list '.*' ./e2e/ | grep '^Test' | awk '$0 == "TestWorkflow" {print; next} {rest = rest $0 "\n"} END {printf "%s", rest}' || true)
	[ -n "$tests" ] || { echo "e2e: cannot list the tests"; status=1; }
	for name in $tests; do
		E2E_ADDR=$FACADE1_ADDR E2E_ADDR2=$FACADE2_ADDR E2E_CHANNEL=$CHANNEL \
			go test -count=1 -timeout 20m -run "^$name\$" -v ./e2e/ >"$STATE/logs/e2e-$name.log" 2>&1 || status=1
		result=$(grep -E "^--- (PASS|FAIL|SKIP): $name " "$STATE/logs/e2e-$name.log" | head -1 | cut -d' ' -f2 | tr -d :)
		echo "e2e $name: ${result:-FAIL (see $STATE/logs/e2e-$name.log)}"
		if [ "$result" = FAIL ]; then grep -E "_test.go:[0-9]+:" "$STATE/logs/e2e-$name.log" | head -5; fi
	done
else
	echo "e2e: no suite in e2e/ yet"
fi
# After e2e: these tests leave tasks waiting, which TestWorkflow would run.
FABRIC_ENV=$STATE/env go test -count=1 -v ./fabric-network/parity/ || status=1
if [ $status -ne 0 ]; then
	echo "FAIL: fabric tests (logs kept in $STATE/logs)"
	# Keep the logs for a post-mortem.
	trap '"$NETWORK_DIR/scripts/network-down.sh" --keep-logs' EXIT
	exit 1
fi
echo "PASS: fabric tests"
