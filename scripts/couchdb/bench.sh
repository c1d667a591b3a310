#!/usr/bin/env bash
# bench.sh — the load tool on CouchDB ($COUCHDB_URL, see with-couchdb.sh) next
# to the embedded store, alternated in one session (these machines are
# noisy: compare the ratios), $BENCH_RUNS times (default 2):
#   - the default workload (8 concurrent callers, every phase);
#   - sequential one-task RegisterTasks by one caller ($SEQ_TASKS calls,
#     default 1000), the call pattern of a backend that registers a plan one
#     task at a time;
#   - on CouchDB, the floor under that: one caller's bare journal-sized PUTs
#     through net/http next to the store's own commits of the same size
#     (BenchmarkSequentialCommit in solo/couchstore).
# When $COUCHDB_PID names the server's process (with-couchdb.sh sets it when
# it started the server), each progress line of the CouchDB runs ends with
# the CPU seconds (user + system) that CouchDB spent during that phase, and
# each run with its total: the measure that a loaded machine blurs least.
# Extra load-tool flags for the default workload: $BENCH_FLAGS.
set -euo pipefail
[[ -n ${COUCHDB_URL:-} ]] || { echo "bench.sh: COUCHDB_URL is not set (run through scripts/couchdb/with-couchdb.sh)" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$repo" && go build -o "$tmp/orchestrator" ./cmd/orchestrator && go test -c -tags couchdb -o "$tmp/couchstore.test" ./solo/couchstore/)
runs=${BENCH_RUNS:-2}
# couch_cpu: CouchDB's CPU time so far, in clock ticks ("" without a pid).
couch_cpu() {
	[[ -n ${COUCHDB_PID:-} && -r /proc/$COUCHDB_PID/stat ]] || return 0
	local st
	st=$(cat "/proc/$COUCHDB_PID/stat") || return 0
	st=${st##*) }
	# shellcheck disable=SC2086
	set -- $st
	echo $((${12} + ${13}))
}
# stamp: copies the load tool's output, adding CouchDB's CPU seconds to each
# progress line ("# phase ...") and a total at the end.
stamp() {
	local start prev cur line hz
	hz=$(getconf CLK_TCK)
	start=$(couch_cpu)
	if [[ -z $start ]]; then
		cat
		return
	fi
	prev=$start
	while IFS= read -r line; do
		if [[ $line == "# "* && $line != "# targets"* ]]; then
			cur=$(couch_cpu)
			line="$line   couchdb_cpu=$(awk -v t=$((cur - prev)) -v hz="$hz" 'BEGIN { printf "%.2fs", t / hz }')"
			prev=$cur
		fi
		printf '%s\n' "$line"
	done
	cur=$(couch_cpu)
	echo "CouchDB CPU for the whole run: $(awk -v t=$((cur - start)) -v hz="$hz" 'BEGIN { printf "%.2f s", t / hz }')"
}
seq_flags=(--phases tasks --functions 1 --samples 10 --plans 1 --tasks-per-plan "${SEQ_TASKS:-1000}" --task-batch 1 --concurrency 1 --probes=false)
# shellcheck disable=SC2086
for run in $(seq "$runs"); do
	for store in embedded couchdb; do
		flags=(--self)
		filter=cat
		if [[ $store == couchdb ]]; then
			flags+=(--self-couchdb "$COUCHDB_URL")
			filter=stamp
		fi
		echo "== run $run, $store store, default workload"
		"$tmp/orchestrator" bench "${flags[@]}" ${BENCH_FLAGS:-} 2>/dev/null | grep --line-buffered -v '^{' | $filter
		echo "== run $run, $store store, sequential one-task RegisterTasks"
		"$tmp/orchestrator" bench "${flags[@]}" "${seq_flags[@]}" 2>/dev/null | grep --line-buffered -v '^{' | $filter
	done
	echo "== run $run, CouchDB floor: bare journal PUT vs store commit, 1 caller"
	"$tmp/couchstore.test" -test.run '^$' -test.bench SequentialCommit -test.benchtime 300x 2>/dev/null | grep '^Benchmark'
done
