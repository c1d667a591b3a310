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
# Extra load-tool flags for the default workload: $BENCH_FLAGS.
set -euo pipefail
[[ -n ${COUCHDB_URL:-} ]] || { echo "bench.sh: COUCHDB_URL is not set (run through scripts/couchdb/with-couchdb.sh)" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$repo" && go build -o "$tmp/orchestrator" ./cmd/orchestrator && go test -c -tags couchdb -o "$tmp/couchstore.test" ./solo/couchstore/)
runs=${BENCH_RUNS:-2}
seq_flags=(--phases tasks --functions 1 --samples 10 --plans 1 --tasks-per-plan "${SEQ_TASKS:-1000}" --task-batch 1 --concurrency 1 --probes=false)
# shellcheck disable=SC2086
for run in $(seq "$runs"); do
	for store in embedded couchdb; do
		flags=(--self)
		[[ $store == couchdb ]] && flags+=(--self-couchdb "$COUCHDB_URL")
		echo "== run $run, $store store, default workload"
		"$tmp/orchestrator" bench "${flags[@]}" ${BENCH_FLAGS:-} 2>/dev/null | grep -v '^{'
		echo "== run $run, $store store, sequential one-task RegisterTasks"
		"$tmp/orchestrator" bench "${flags[@]}" "${seq_flags[@]}" 2>/dev/null | grep -v '^{'
	done
	echo "== run $run, CouchDB floor: bare journal PUT vs store commit, 1 caller"
	"$tmp/couchstore.test" -test.run '^$' -test.bench SequentialCommit -test.benchtime 300x 2>/dev/null | grep '^Benchmark'
done
