#!/usr/bin/env bash
# Builds and runs the worker. Without --brokers it is the demo (`salespulse run --embedded`): an
# embedded Kafka-protocol broker and a simulated CRM feed, with live KPIs and alerts.
# Extra arguments go to `salespulse run` (e.g. --brokers host:9092, --config DIR, --no-live).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product salespulse >&2
demo=(--embedded)
for arg in "$@"; do
  case $arg in --brokers | --brokers=*) demo=() ;; esac
done
exec .build/release/salespulse run "${demo[@]}" "$@"
