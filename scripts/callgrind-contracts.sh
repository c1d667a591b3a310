#!/usr/bin/env bash
# callgrind-contracts.sh [REV]: instructions per operation of the contract
# benchmarks, counted by valgrind's callgrind inside the chaincode's Invoke
# (the contract's own path: decoding, rules, ledger view, encoding; not the
# benchmark's harness nor solo's commit), for the work tree or, with REV, for
# that commit. Compare two revisions on the same machine:
#
#	scripts/callgrind-contracts.sh main; scripts/callgrind-contracts.sh
#
# Each figure is (I(N2) - I(N1)) / (N2 - N1), so that set-up cancels out.
# GOGC=off keeps the collector's timing out of the counts (count allocations
# with go test -benchmem instead); GOMAXPROCS=1; asyncpreemptoff because
# callgrind asserts on Go's preemption signal; cpu.rdtscp=off because
# valgrind 3.19 cannot decode RDTSCP. Sequential benchmarks only: in the
# parallel ones (solo/solobench) goroutine switches inside Invoke move the
# counts by ±20%. About 5 minutes on a quiet 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind not found: apt-get install valgrind" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/callgrind-contracts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$PWD
if [ $# -gt 0 ]; then
	git archive --prefix=src/ "$1" | tar -x -C "$tmp"
	src=$tmp/src
fi
(cd "$src" && go test -c -o "$tmp/computetask.test" ./contracts/computetask && go test -c -o "$tmp/chaincode.test" ./contracts/chaincode)
count() { # binary package-dir bench N
	(cd "$src/$2" && GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off GOMAXPROCS=1 \
		valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect='*chaincode.(*Chaincode).Invoke' \
		"$tmp/$1" -test.run '^$' -test.bench "$3" -test.benchtime "${4}x" 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
}
per() { # label binary package-dir bench N1 N2
	local a b
	a=$(count "$2" "$3" "$4" "$5")
	b=$(count "$2" "$3" "$4" "$6")
	printf '%-28s %12d instructions/op\n' "$1" $(((b - a) / ($6 - $5)))
}
per computetask/RegisterTasks computetask.test contracts/computetask '^BenchmarkRegisterTasks$' 1 4
per computetask/QueryTasksPages computetask.test contracts/computetask '^BenchmarkQueryTasksPages$' 5 20
per computetask/TaskLifecycle computetask.test contracts/computetask '^BenchmarkTaskLifecycle$' 20 80
per chaincode/GetFunction chaincode.test contracts/chaincode '^BenchmarkTransactions$/^Evaluate$/^GetFunction$' 100 400
