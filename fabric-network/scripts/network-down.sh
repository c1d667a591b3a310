#!/usr/bin/env bash
# Stops every process that network-up.sh started (by the pids it recorded)
# and removes the network's state folder. With --keep-logs it keeps
# $FABRIC_STATE/logs for a post-mortem.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

keep_logs=false
[ "${1:-}" = --keep-logs ] && keep_logs=true

# descendants PID: the pids of PID's children, grandchildren... (a peer's
# chaincode processes when it launched them itself).
descendants() {
	local child
	for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$child"
		descendants "$child"
	done
}

if [ -d "$STATE/pids" ]; then
	pids=()
	for f in "$STATE"/pids/*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		if [[ $pid == docker:* ]]; then
			FABRIC_STATE=$STATE compose rm -s -f "${pid#docker:}" >/dev/null 2>&1 || log "could not remove container ${pid#docker:}"
			rm -f "$f"
			continue
		fi
		if kill -0 "$pid" 2>/dev/null; then
			for child in $(descendants "$pid"); do
				kill -TERM "$child" 2>/dev/null || true
				pids+=("$child")
			done
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
		rm -f "$f"
	done
	for ((i = 0; i < 100 && ${#pids[@]} > 0; i++)); do
		alive=()
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive+=("$pid")
		done
		pids=("${alive[@]+"${alive[@]}"}")
		[ ${#pids[@]} -gt 0 ] && sleep 0.1
	done
	for pid in "${pids[@]+"${pids[@]}"}"; do
		log "process $pid did not stop in 10s: killing it"
		kill -KILL "$pid" 2>/dev/null || true
	done
fi
if $keep_logs; then
	find "$STATE" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} + 2>/dev/null || true
	log "network stopped; logs kept in $STATE/logs"
else
	rm -rf "$STATE"
	log "network stopped; $STATE removed"
fi
