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
swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
  -module-name DecoderFuzzer -package-name SalesPulse \
  $(find Sources/SalesKPI -name '*.swift' | sort) fuzz/DecoderFuzzer.swift -o "$out/decoder-fuzzer"
# New interesting inputs go to the working corpus; the committed seeds stay untouched.
"$out/decoder-fuzzer" "$out/corpus" Tests/Corpus/good Tests/Corpus/bad \
  -max_total_time="$SECONDS_TO_RUN" -max_len=70000 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$out/" -print_final_stats=1 2>&1 | tail -25
# The binary records the worker reads back from its own topics (decoded event copies, shard
# and rollup changelogs): untrusted too, fuzzed the same way (fuzz/StateFuzzer.swift).
mkdir -p "$out/state-corpus"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
  -module-name StateFuzzer -package-name SalesPulse \
  $(find Sources/SalesKPI -name '*.swift' | sort) fuzz/StateFuzzer.swift -o "$out/state-fuzzer"
"$out/state-fuzzer" "$out/state-corpus" \
  -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$out/state-" -print_final_stats=1 2>&1 | tail -25
