#!/usr/bin/env bash
# Builds and runs the worker. With no brokers configured (the shipped config/), it starts an
# embedded Kafka-protocol broker and a simulated CRM feed and shows live KPIs and alerts.
# Extra arguments go to `salespulse run` (e.g. --brokers host:9092, --config DIR, --no-live).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product salespulse >&2
exec .build/release/salespulse run "$@"
