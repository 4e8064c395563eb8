#!/usr/bin/env bash
# The multi-process scale-out test: a standalone broker process, three worker processes, 200,000
# events, kill -9 of one worker, a replacement and a fourth worker, then every output compared
# with the reference. scripts/test.sh runs it too; this runs it alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product salespulse >&2
SALESPULSE_SCALE_BINARY="$(swift build -c release --show-bin-path)/salespulse" swift test --filter ScaleOutTests
