#!/usr/bin/env bash
# Kafka healthcheck: exit 0 only when the broker answers an admin request.
#
# Why not `kafka-broker-api-versions`: it exits 0 even when it cannot connect. `kafka-topics
# --list` exits 1 when the admin request fails, and the timeouts below bound it to ~10 s
# instead of the client default of 60 s.
#
# Usage: kafka-healthcheck.sh [BOOTSTRAP]
#   BOOTSTRAP defaults to KAFKA_HEALTHCHECK_BOOTSTRAP or localhost:9092.
#   KAFKA_TOPICS_CMD picks the topic tool (default `kafka-topics`, as in the Confluent image;
#   scripts/kafka-local env points it at a wrapper over the cached jars).
set -u
bootstrap="${1:-${KAFKA_HEALTHCHECK_BOOTSTRAP:-localhost:9092}}"
topics_cmd="${KAFKA_TOPICS_CMD:-kafka-topics}"

# Inside the broker's container the tool would inherit the broker's JMX port and heap: a JMX
# port already in use makes every tool run fail, healthy broker or not.
unset JMX_PORT KAFKA_JMX_OPTS KAFKA_OPTS KAFKA_LOG4J_OPTS
export KAFKA_HEAP_OPTS="-Xmx128m"

cfg="$(mktemp)"
trap 'rm -f "$cfg"' EXIT
cat >"$cfg" <<CFG
request.timeout.ms=5000
default.api.timeout.ms=10000
socket.connection.setup.timeout.ms=3000
socket.connection.setup.timeout.max.ms=3000
retries=1
CFG

if err="$(timeout 30 "$topics_cmd" --bootstrap-server "$bootstrap" --command-config "$cfg" --list 2>&1 >/dev/null)"; then
    echo "kafka-healthcheck: broker at $bootstrap is serving"
    exit 0
fi
echo "kafka-healthcheck: broker at $bootstrap is not serving" >&2
[[ -n "$err" ]] && tail -n 3 <<<"$err" >&2
exit 1
