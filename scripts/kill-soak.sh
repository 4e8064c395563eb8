#!/usr/bin/env bash
# The kill test, repeated: N runs (default 20) of three workers on a 500,000-event backlog with
# kill -9 of one at a varied moment (the start of the backlog, mid-way, during a rebalance, during
# a restore; each with a seeded extra delay), a replacement, a fourth worker and a clean stop.
# Not part of scripts/test.sh: about three minutes a run. Prints how many runs held.
#
#   scripts/kill-soak.sh [N]
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
scripts/setup.sh
swift build --build-tests >&2 || exit 1
swift build -c release --product salespulse >&2 || exit 1
bin="$(swift build -c release --show-bin-path)/salespulse"
moments=(start mid rebalance restore)
held=0
logs=$(mktemp -d)
for k in $(seq 1 "$N"); do
  moment=${moments[$(((k - 1) % 4))]}
  log="$logs/run-$k-$moment.log"
  if SALESPULSE_SCALE_BINARY="$bin" SALESPULSE_KILL_MOMENT="$moment" SALESPULSE_KILL_SEED="$k" \
    swift test --skip-build --filter "MultiProcessTests/killReplaceAndGrow" >"$log" 2>&1; then
    held=$((held + 1))
    result=held
  else
    result=FAILED
  fi
  echo "run $k ($moment, seed $k): $result; $(grep -h 'FIGURES dead letters\|FIGURES [0-9]* finals' "$log" | sed 's/.*FIGURES //' | tr '\n' ';')"
done
echo "$held of $N runs held; logs in $logs"
[ "$held" -eq "$N" ]
