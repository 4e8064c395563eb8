#!/usr/bin/env bash
# Fuzzes the event decoder, then the worker's own binary records, with libFuzzer for a bounded
# time each.
#
#   scripts/fuzz.sh [SECONDS]     default 60
#
# Builds fuzz/DecoderFuzzer.swift with the SalesKPI sources and -sanitize=fuzzer,address,
# seeds it with the committed corpus (Tests/Corpus/good and Tests/Corpus/bad) and runs it.
# A crash, sanitizer report or broken contract stops it with the offending input saved under
# .build-fuzz/ and a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
out=.build-fuzz
mkdir -p "$out/corpus"
# A Swift runtime trap is reported by libFuzzer's own handler: Swift's backtracer, run under
# AddressSanitizer, trips ASan itself, takes minutes and hides the trap's report.
export SWIFT_BACKTRACE=enable=no

# Runs one fuzzer, its output kept whole in a log; prints the final stats, and on a failure
# the report (everything but libFuzzer's progress lines), which a plain tail could cut off.
fuzz() {
  local log=$1
  shift
  local rc=0
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    grep -v -E '^#[0-9]+' "$log" | tail -150
    echo "fuzz: $1 failed (exit $rc); the whole output is in $log"
    return "$rc"
  fi
  tail -25 "$log"
}
swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
  -module-name DecoderFuzzer -package-name SalesPulse \
  $(find Sources/SalesKPI -name '*.swift' | sort) fuzz/DecoderFuzzer.swift -o "$out/decoder-fuzzer"
# New interesting inputs go to the working corpus; the committed seeds stay untouched.
fuzz "$out/decoder-fuzzer.log" "$out/decoder-fuzzer" "$out/corpus" Tests/Corpus/good Tests/Corpus/bad \
  -max_total_time="$SECONDS_TO_RUN" -max_len=70000 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$out/" -print_final_stats=1
# The binary records the worker reads back from its own topics (decoded event copies, shard
# and rollup changelogs): untrusted too, fuzzed the same way (fuzz/StateFuzzer.swift).
mkdir -p "$out/state-corpus"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
  -module-name StateFuzzer -package-name SalesPulse \
  $(find Sources/SalesKPI -name '*.swift' | sort) fuzz/StateFuzzer.swift -o "$out/state-fuzzer"
fuzz "$out/state-fuzzer.log" "$out/state-fuzzer" "$out/state-corpus" \
  -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$out/state-" -print_final_stats=1
