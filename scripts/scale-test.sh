#!/usr/bin/env bash
# The multi-process scale-out tests: a standalone broker process and worker processes on a
# backlog of over 500,000 events at the default settings: three workers started together; a
# kill -9 of a worker owning partitions, a replacement and a fourth worker; the only worker
# killed mid-backlog. Every output is compared with the reference. scripts/test.sh runs them
# too; this runs them alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product salespulse >&2
SALESPULSE_SCALE_BINARY="$(swift build -c release --show-bin-path)/salespulse" swift test --filter ScaleOutTests
