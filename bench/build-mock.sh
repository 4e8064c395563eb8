#!/usr/bin/env bash
# Builds librdkafka 2.0.2 from Debian's source package with the mock cluster's per-partition
# retention caps (5 MiB / 100,000 batches, which silently delete older data) raised, for the
# benchmark's broker only. SalesPulse itself always links the system librdkafka.
#
# Output: $BENCH_DIR/mock/librdkafka.a and headers; prints nothing else on success.
set -euo pipefail
BENCH_DIR=${BENCH_DIR:-"$(cd "$(dirname "$0")/.." && pwd)/.build-bench"}
out="$BENCH_DIR/mock"
[[ -f "$out/lib/librdkafka.a" ]] && exit 0
mkdir -p "$BENCH_DIR/src"
cd "$BENCH_DIR/src"

sudo_() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! ls -d librdkafka-2.0.2 >/dev/null 2>&1; then
  # A deb-src entry derived from the machine's own Debian source list.
  if ! apt-get source --print-uris librdkafka=2.0.2-1 >/dev/null 2>&1; then
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
      sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
        sudo_ tee /etc/apt/sources.list.d/salespulse-bench-src.sources >/dev/null
    else
      grep -h '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
        sudo_ tee /etc/apt/sources.list.d/salespulse-bench-src.list >/dev/null
    fi
    sudo_ apt-get update -qq
  fi
  command -v dpkg-source >/dev/null || sudo_ apt-get install -y -qq dpkg-dev >/dev/null
  apt-get source -qq librdkafka=2.0.2-1 >/dev/null
fi

cd librdkafka-2.0.2
# The two caps, raised far past any benchmark: 64 GiB and 100 million batches per partition.
grep -q 'max_cnt  = 100000000;' src/rdkafka_mock.c ||
  sed -i 's/mpart->max_size = 1024 \* 1024 \* 5;/mpart->max_size = 1024LL * 1024 * 1024 * 64;/;
        s/mpart->max_cnt  = 100000;/mpart->max_cnt  = 100000000;/' src/rdkafka_mock.c
grep -q 'max_cnt  = 100000000;' src/rdkafka_mock.c
# Plain build: the broker needs no TLS, SASL or compression libraries.
./configure --prefix="$out" --disable-ssl --disable-gssapi --disable-sasl --disable-zstd \
  --disable-lz4-ext --disable-curl --disable-zlib >/dev/null
make -j"$(nproc)" -C src librdkafka.a >/dev/null 2>&1 || make -C src librdkafka.a
mkdir -p "$out/lib" "$out/include/librdkafka"
cp src/librdkafka.a "$out/lib/"
cp src/rdkafka.h src/rdkafka_mock.h "$out/include/librdkafka/"
