#!/usr/bin/env bash
# The Fabric throughput benchmark: brings a fresh network up (network-up.sh,
# orderer BatchTimeout 100ms unless FABRIC_BATCH_TIMEOUT says otherwise, no
# facades unless FABRIC_BENCH_VIA=facade), measures through Org1's gateway
#   - RegisterTasks submits of 50 tasks (TestRegisterTasksThroughput),
#   - RegisterDataManager submits (TestSubmitThroughput),
# at concurrency 1 and 32 (FABRIC_BENCH_CONCURRENCY), FABRIC_BENCH_SECONDS
# (default 10) each, then tears the network down. It prints one line per
# measurement:
#
#   BENCH fabric RegisterTasks x50 c=32: 17.0 submits/s, 850 tasks/s, p50 ..., p99 ... (...; orderer BatchTimeout 100ms, ...; policy MAJORITY Endorsement)
#
# Without Fabric binaries it prints a SKIPPED line and exits 0 (set
# FABRIC_REQUIRED=1 to make that a failure). FABRIC_BENCH_TESTS selects the
# tests (a go test -run pattern).
set -euo pipefail
export FABRIC_BATCH_TIMEOUT=${FABRIC_BATCH_TIMEOUT:-100ms}
source "$(dirname "$0")/lib.sh"

find_fabric_binaries
if [ ${#MISSING[@]} -gt 0 ]; then
	echo "SKIPPED: fabric bench: Fabric binaries not found (${MISSING[*]}); set FABRIC_BIN to the folder holding them"
	[ "${FABRIC_REQUIRED:-0}" = 1 ] && exit 1
	exit 0
fi

if [ "${FABRIC_BENCH_VIA:-gateway}" != facade ]; then
	export FABRIC_FACADES=${FABRIC_FACADES:-0}
fi
"$NETWORK_DIR/scripts/network-up.sh" >"${TMPDIR:-/tmp}/fedchain-bench-fabric-up.log" 2>&1 || {
	cat "${TMPDIR:-/tmp}/fedchain-bench-fabric-up.log"
	exit 1
}
rm -f "${TMPDIR:-/tmp}/fedchain-bench-fabric-up.log"
trap '"$NETWORK_DIR/scripts/network-down.sh" >/dev/null' EXIT

cd "$REPO_DIR"
out=$STATE/logs/bench.log
status=0
FABRIC_BENCH=1 FABRIC_ENV=$STATE/env go test -count=1 -timeout 20m -v \
	-run "${FABRIC_BENCH_TESTS:-^(TestRegisterTasksThroughput|TestSubmitThroughput)\$}" \
	./fabric-network/parity/ >"$out" 2>&1 || status=1
sed -n 's/^.*\(BENCH fabric \)/\1/p' "$out"
if [ $status -ne 0 ]; then
	grep -E "^\s+\S+_test.go:[0-9]+:|^(FAIL|panic)" "$out" | grep -v "BENCH fabric" | head -10
	echo "FAIL: fabric bench (log kept in $STATE/logs)"
	trap '"$NETWORK_DIR/scripts/network-down.sh" --keep-logs >/dev/null' EXIT
	exit 1
fi
