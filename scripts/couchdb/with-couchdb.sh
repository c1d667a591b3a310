#!/usr/bin/env bash
# with-couchdb.sh CMD [ARGS...] — run CMD with COUCHDB_URL pointing at a
# CouchDB server, and say which one.
#
# The server is, in this order:
#   1. $COUCHDB_URL when it is set (your own CouchDB 3.x, credentials in the
#      URL): CMD runs against it;
#   2. Apache CouchDB from $COUCHDB_HOME (default: ../shared/couchdb next to
#      the repository, the release every developer machine and CI have): a
#      throw-away single node is started on a free loopback port with its data
#      in a temporary folder, and stopped afterwards;
#   3. pouchdb-server (scripts/couchdb/couchdb.sh), an in-memory look-alike,
#      only when neither of the above is there.
#
# COUCHDB_SERVER is exported to CMD as "apache" or "pouchdb" (read from the
# server's welcome banner, not guessed from the source), COUCHDB_PID as the
# server's process id when this script started an Apache CouchDB (so that
# CMD can read its CPU time from /proc), and the line
# "with-couchdb.sh: <server> <version> at <url>" goes to stderr.
# With COUCHDB_REQUIRE_APACHE=1 (CI sets it) anything but Apache CouchDB is an
# error: a look-alike never proves that CouchDB mode works.
# The exit code is CMD's.
set -euo pipefail

[[ $# -gt 0 ]] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
log() { echo "with-couchdb.sh: $*" >&2; }

# banner URL: prints "apache VERSION" or "pouchdb VERSION" from GET /.
banner() {
	node -e '
		const u = new URL(process.argv[1]);
		const auth = u.username ? "Basic " + Buffer.from(decodeURIComponent(u.username) + ":" + decodeURIComponent(u.password)).toString("base64") : undefined;
		const req = require("http").get({host: u.hostname, port: u.port, path: "/", headers: auth ? {authorization: auth} : {}}, r => {
			let body = "";
			r.on("data", c => body += c);
			r.on("end", () => {
				try {
					const b = JSON.parse(body);
					const v = b.version || "?";
					if (b.couchdb === "Welcome" && b.vendor && /Apache/.test(b.vendor.name || "")) console.log("apache " + v);
					else if (b["express-pouchdb"] || b.couchdb === "Welcome") console.log("pouchdb " + v);
					else process.exit(1);
				} catch (e) { process.exit(1); }
			});
		});
		req.on("error", () => process.exit(1));
		req.setTimeout(5000, () => process.exit(1));' "$1"
}

redact() { sed -E 's#//[^/@]*@#//***@#' <<<"$1"; }

free_port() {
	node -e '
		const s = require("net").createServer();
		s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

cleanup=()
run_cleanup() {
	local c
	for c in "${cleanup[@]}"; do eval "$c" || true; done
}
trap run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

source=""
if [[ -n ${COUCHDB_URL:-} ]]; then
	source="COUCHDB_URL"
else
	home=${COUCHDB_HOME:-$repo/../shared/couchdb}
	if [[ -x $home/start.sh && -x $home/stop.sh ]]; then
		dir=$(mktemp -d "${TMPDIR:-/tmp}/fedchain-couchdb.XXXXXX")
		started=""
		for attempt in 1 2 3; do
			port=$(free_port)
			if url=$("$home/start.sh" "$dir" "$port"); then
				started=1
				break
			fi
			log "Apache CouchDB did not start on port $port (attempt $attempt)"
		done
		[[ -n $started ]] || { rm -rf "$dir"; exit 1; }
		cleanup+=("'$home/stop.sh' '$dir' >/dev/null 2>&1; rm -rf '$dir'")
		COUCHDB_URL=$url
		COUCHDB_PID=$(cat "$dir/couchdb.pid" 2>/dev/null || true)
		export COUCHDB_PID
		source="$home"
	else
		out=$("$here/couchdb.sh" start)
		COUCHDB_URL=$(sed -n 's/^COUCHDB_URL=//p' <<<"$out")
		state=$(sed -n 's/^COUCHDB_STATE=//p' <<<"$out")
		cleanup+=("'$here/couchdb.sh' stop '$state'")
		source="pouchdb-server fallback (no Apache CouchDB at $home, no COUCHDB_URL)"
	fi
fi

if ! b=$(banner "$COUCHDB_URL"); then
	log "no CouchDB answers at $(redact "$COUCHDB_URL")"
	exit 1
fi
COUCHDB_SERVER=${b%% *}
log "$( [[ $COUCHDB_SERVER == apache ]] && echo "Apache CouchDB" || echo "pouchdb-server") ${b#* } at $(redact "$COUCHDB_URL") (from $source)"
if [[ ${COUCHDB_REQUIRE_APACHE:-0} == 1 && $COUCHDB_SERVER != apache ]]; then
	log "COUCHDB_REQUIRE_APACHE=1 but the server is not Apache CouchDB: refusing to run"
	exit 1
fi
export COUCHDB_URL COUCHDB_SERVER
set +e
"$@"
rc=$?
set -e
exit "$rc"
