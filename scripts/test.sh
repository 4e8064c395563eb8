#!/usr/bin/env bash
# The whole test suite: format lint, unit, mock-cluster integration and multi-process scale-out
# tests (swift test), a short libFuzzer pass over the decoder, then
# a smoke test of the CLI itself (bad config exits 2; the embedded demo fires both alert kinds
# and stops cleanly on SIGINT).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== swift format lint" >&2
swift format lint --strict -r Sources Tests Package.swift
echo "== swift test" >&2
# The multi-process scale-out test runs the salespulse binary itself: build it first.
swift build --product salespulse
swift test
echo "== decoder fuzzing (30 s)" >&2
scripts/fuzz.sh 30
echo "== CLI smoke test" >&2
scripts/smoke.sh
