#!/usr/bin/env bash
# Smoke test of the salespulse executable, as a user runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product salespulse >&2
bin=.build/debug/salespulse
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAILED: $1"; fail=$((fail + 1)); }

# A bad configuration (for check-config and for the worker), a folder that does not exist, and
# command-line misuse: exit code 2 and a message naming what is wrong, before any broker or
# feed starts.
mkdir -p "$work/badconf"
printf 'time:\n  allowed_lateness: soon\n' > "$work/badconf/worker.yaml"
expect_misuse() {
  local what=$1 needle=$2
  shift 2
  set +e
  timeout 20 "$bin" "$@" > "$work/misuse.out" 2>&1
  local code=$?
  set -e
  if [ "$code" -eq 2 ] && grep -q -- "$needle" "$work/misuse.out" && ! grep -q "broker.*runs at" "$work/misuse.out"; then
    ok "$what exits 2 naming $needle, nothing started"
  else
    bad "$what: exit $code: $(head -5 "$work/misuse.out")"
  fi
}
expect_misuse "check-config with a bad config" "time.allowed_lateness" check-config --config "$work/badconf"
expect_misuse "run with a bad config" "time.allowed_lateness" run --no-live --config "$work/badconf"
expect_misuse "run with a missing config folder" "--config $work/nowhere" run --no-live --config "$work/nowhere"
expect_misuse "an unknown option" "--bogus" run --bogus
expect_misuse "a malformed option value" "--seconds" run --seconds soon
expect_misuse "a negative duration" "--seconds" run --seconds -5
expect_misuse "a broker with no brokers" "--count" broker --count 0
expect_misuse "simulate without brokers" "--brokers" simulate --config "$work"
# Production never runs on simulated data by accident: no brokers and no --embedded is an error.
expect_misuse "run without brokers or --embedded" "kafka.brokers is empty" run --no-live --config config
expect_misuse "run --embedded with brokers" "--embedded runs its own broker" run --embedded --no-live --brokers h:9092
expect_misuse "notify without brokers" "notify needs --brokers" notify --config config
expect_misuse "run --until-end with --embedded" "--until-end reads what the topics hold" run --until-end --embedded --no-live
printf 'webhooks:\n  - {name: x, kind: pager, url: "https://example.com"}\n' > "$work/badconf/notify.yaml"
expect_misuse "notify with a bad notify.yaml" "webhooks\[0\].kind" notify --brokers h:9092 --notify-config "$work/badconf/notify.yaml"
if "$bin" check-config --config config > "$work/good.out" 2>&1 && grep -q "configuration OK" "$work/good.out"; then ok "shipped config is valid"; else bad "check-config on config/: $(cat "$work/good.out")"; fi

# The README's run command (scripts/run.sh: --embedded): embedded broker, simulated feed, alerts
# within 60 s, a clean stop on SIGINT.
"$bin" run --embedded --config config > "$work/run.out" 2> "$work/run.err" &
pid=$!
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
  if grep -q "target.slipping" "$work/run.out" && grep -q "cac.spike" "$work/run.out" && grep -q "COMPANY" "$work/run.out"; then break; fi
  sleep 1
done
elapsed=$SECONDS
kill -INT "$pid"
set +e
wait "$pid"
code=$?
set -e
if grep -q "target.slipping" "$work/run.out" && grep -q "cac.spike" "$work/run.out"; then ok "run shows target.slipping and cac.spike alerts (by ${elapsed}s)"; else bad "alerts missing: $(tail -40 "$work/run.out") $(tail -20 "$work/run.err")"; fi
if grep -q "region" "$work/run.out" && grep -q "COMPANY" "$work/run.out"; then ok "run shows the region KPI table"; else bad "no KPI table in output"; fi
if [ "$code" -eq 0 ] && grep -q "stopped cleanly" "$work/run.out"; then ok "SIGINT stops cleanly with exit 0"; else bad "stop: exit $code: $(tail -5 "$work/run.out") $(tail -5 "$work/run.err")"; fi

# A bounded run (run --until-end) on a broker holding simulated history: it reads every input
# partition to the end it found, publishes every final and exits 0 by itself.
"$bin" broker --config config --bootstrap-file "$work/bootstrap" > "$work/broker.out" 2>&1 &
bpid=$!
for _ in $(seq 1 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
brokers=$(cat "$work/bootstrap" 2>/dev/null || true)
timeout 15 "$bin" simulate --config config --brokers "$brokers" --backfill-days 10 > "$work/sim.out" 2>&1 || true
set +e
timeout 180 "$bin" run --until-end --no-live --config config --brokers "$brokers" > "$work/bounded.out" 2> "$work/bounded.err"
code=$?
set -e
finals=$(sed -n 's/.*(\([0-9]*\) final).*/\1/p' "$work/bounded.out")
if [ "$code" -eq 0 ] && grep -q "bounded run complete" "$work/bounded.err" && [ "${finals:-0}" -gt 0 ]; then
  ok "run --until-end exits 0 by itself after ${finals} finals"
else
  bad "run --until-end: exit $code: $(tail -5 "$work/bounded.out") $(tail -5 "$work/bounded.err")"
fi
# The same group under another time zone: its state cannot be restored, so the bounded run
# exits 1 with the reason instead of waiting for an operator. The mock holds the join of a group
# the last run just left: 44 s here (that run's session timeout - 1 s) with a 10 s
# max.poll.interval.ms (which must not be below the session timeout), its full 5 min with the
# default one.
set +e
SALESPULSE_TIME_TIME_ZONE=UTC SALESPULSE_KAFKA_PROPERTIES_MAX_POLL_INTERVAL_MS=10000 \
  SALESPULSE_KAFKA_PROPERTIES_SESSION_TIMEOUT_MS=6000 timeout 120 "$bin" run --until-end --no-live --config config --brokers "$brokers" > "$work/refused.out" 2> "$work/refused.err"
code=$?
set -e
if [ "$code" -eq 1 ] && grep -q "bounded run abandoned.*this worker has UTC" "$work/refused.err"; then
  ok "run --until-end under another time zone exits 1 with the reason"
else
  bad "run --until-end under another time zone: exit $code: $(tail -5 "$work/refused.out") $(tail -5 "$work/refused.err")"
fi
kill "$bpid" 2>/dev/null || true
wait "$bpid" 2>/dev/null || true

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
