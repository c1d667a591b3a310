#!/usr/bin/env bash
# with-couchdb.sh CMD [ARGS...] — run CMD with COUCHDB_URL pointing at a
# CouchDB-compatible server.
#
# If COUCHDB_URL is already set (for instance to a real Apache CouchDB 3.x,
# credentials in the URL), CMD simply runs against it. Otherwise an in-memory
# pouchdb-server is started on a free loopback port (installed on first use,
# see couchdb.sh), CMD runs with COUCHDB_URL set, and the server is stopped
# afterwards. The exit code is CMD's.
set -euo pipefail

[[ $# -gt 0 ]] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

if [[ -n ${COUCHDB_URL:-} ]]; then
	exec "$@"
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$("$here/couchdb.sh" start)
COUCHDB_URL=$(sed -n 's/^COUCHDB_URL=//p' <<<"$out")
state=$(sed -n 's/^COUCHDB_STATE=//p' <<<"$out")
trap '"$here/couchdb.sh" stop "$state"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export COUCHDB_URL
echo "with-couchdb.sh: pouchdb-server at $COUCHDB_URL" >&2
set +e
"$@"
rc=$?
set -e
exit "$rc"
