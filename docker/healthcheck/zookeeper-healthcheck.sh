#!/usr/bin/env bash
# ZooKeeper healthcheck: exit 0 only when ZooKeeper serves requests.
#
# Sends the `srvr` four-letter command (whitelisted by `4lw.commands.whitelist=srvr`; `ruok` and
# `mntr` are not whitelisted by default) and requires a `Mode:` line. A refused connection, a
# server that is up but not serving ("This ZooKeeper instance is not currently serving
# requests"), or a non-whitelisted command all fail. Uses bash's /dev/tcp, so it needs no `nc`.
#
# Usage: zookeeper-healthcheck.sh [HOST] [PORT]
#   defaults: ZOOKEEPER_HEALTHCHECK_HOST or localhost; ZOOKEEPER_CLIENT_PORT (set in the
#   Confluent image) or 2181.
set -u
host="${1:-${ZOOKEEPER_HEALTHCHECK_HOST:-localhost}}"
port="${2:-${ZOOKEEPER_CLIENT_PORT:-2181}}"

out="$(timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; printf srvr >&3; cat <&3' \
    "$host" "$port" 2>/dev/null)" || true
if grep -Eq '^Mode: (standalone|leader|follower|observer)' <<<"$out"; then
    grep -E '^(Zookeeper version|Mode):' <<<"$out"
    exit 0
fi
echo "zookeeper-healthcheck: $host:$port is not serving (srvr said: ${out:-nothing})" >&2
exit 1
