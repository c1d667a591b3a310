#!/usr/bin/env bash
# couchdb.sh — a throw-away CouchDB-compatible server for tests.
#
# It runs pouchdb-server (npm package, pinned below; it speaks the CouchDB
# HTTP API) in memory on a free loopback port. Real Apache CouchDB 3.x works
# as well: set COUCHDB_URL yourself and skip this script.
#
#   scripts/couchdb/couchdb.sh install        install pouchdb-server if missing
#   scripts/couchdb/couchdb.sh start          start it; prints COUCHDB_URL=... and
#                                             COUCHDB_STATE=<dir> (eval-able)
#   scripts/couchdb/couchdb.sh stop <dir>     stop the server started with state <dir>
#
# Environment:
#   FEDCHAIN_CACHE_DIR  where to install (default: <repo>/.cache, git-ignored)
#   NPM                 npm client to use (default: npm)
#
# scripts/couchdb/with-couchdb.sh wraps a command with start/stop.
set -euo pipefail

POUCHDB_SERVER_VERSION=4.2.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${FEDCHAIN_CACHE_DIR:-$repo/.cache}
prefix=$cache/pouchdb-server-$POUCHDB_SERVER_VERSION
bin=$prefix/node_modules/pouchdb-server/bin/pouchdb-server

log() { echo "couchdb.sh: $*" >&2; }

installed() {
	[[ -f $bin ]] && node -e '
		const v = require(process.argv[1]).version;
		process.exit(v === process.argv[2] ? 0 : 1)' \
		"$prefix/node_modules/pouchdb-server/package.json" "$POUCHDB_SERVER_VERSION" 2>/dev/null
}

cmd_install() {
	command -v node >/dev/null || { log "node is not installed (need Node >= 18)"; exit 1; }
	installed && return 0
	mkdir -p "$prefix"
	# One installer at a time (parallel make targets share the cache).
	exec 9>"$prefix.lock"
	if command -v flock >/dev/null; then flock 9; fi
	installed && return 0
	log "installing pouchdb-server@$POUCHDB_SERVER_VERSION into $prefix (once)"
	"${NPM:-npm}" install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
		"pouchdb-server@$POUCHDB_SERVER_VERSION" >&2
	installed || { log "install failed: $bin missing or wrong version"; exit 1; }
}

free_port() {
	node -e '
		const s = require("net").createServer();
		s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# answers URL: true when URL answers 200 (node, so curl is not needed).
answers() {
	node -e '
		require("http").get(process.argv[1], r => process.exit(r.statusCode === 200 ? 0 : 1))
			.on("error", () => process.exit(1))
			.setTimeout(2000, () => process.exit(1));' "$1"
}

cmd_start() {
	cmd_install
	local state port pid url i
	state=$(mktemp -d "${TMPDIR:-/tmp}/fedchain-couchdb.XXXXXX")
	for attempt in 1 2 3; do
		port=$(free_port)
		url=http://127.0.0.1:$port
		# pouchdb-server writes config.json and log.txt into its working dir.
		(cd "$state" && exec node "$bin" --in-memory --host 127.0.0.1 --port "$port" \
			--no-stdout-logs >"$state/server.out" 2>&1) &
		pid=$!
		echo "$pid" >"$state/pid"
		for i in $(seq 1 100); do
			if answers "$url/"; then
				echo "$url" >"$state/url"
				echo "COUCHDB_URL=$url"
				echo "COUCHDB_STATE=$state"
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		log "pouchdb-server did not answer on $url (attempt $attempt):"
		tail -n 20 "$state/server.out" >&2 || true
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$state"
	exit 1
}

cmd_stop() {
	local state=${1:?usage: couchdb.sh stop <state dir>} pid i
	[[ -f $state/pid ]] || { log "no server state in $state"; return 0; }
	pid=$(cat "$state/pid")
	if kill "$pid" 2>/dev/null; then
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -rf "$state"
}

case ${1:-} in
install) cmd_install ;;
start) cmd_start ;;
stop) shift; cmd_stop "$@" ;;
*) echo "usage: $0 install | start | stop <state dir>" >&2; exit 2 ;;
esac
