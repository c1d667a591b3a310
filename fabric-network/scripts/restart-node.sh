#!/usr/bin/env bash
# Starts again a process of the local network that died or was killed
# (the fault tests kill -9 them): restart-node.sh NAME, NAME being a pid
# file's name in $FABRIC_STATE/pids (orderer0, peer1, chaincode, facade1,
# ...). It runs the command that network-up.sh started NAME with, with the
# same environment, appending to the same log, and refuses while NAME is
# still alive.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

name=${1:?usage: restart-node.sh NAME}
cmd=$STATE/cmds/$name.sh
[ -r "$cmd" ] || die "no start command for $name in $STATE/cmds"
if check_alive "$name"; then
	die "$name is still running (pid $(cat "$STATE/pids/$name.pid"))"
fi
nohup bash "$cmd" >>"$STATE/logs/$name.log" 2>&1 &
echo $! >"$STATE/pids/$name.pid"
log "$name restarted (pid $!)"
