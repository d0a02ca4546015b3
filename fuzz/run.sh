#!/bin/sh
# Runs every libFuzzer target (fuzz/<name>_fuzz.cpp) for N seconds on its seeds.
#   fuzz/run.sh [seconds=30] [build-dir=build/fuzz]
# Configures and builds the fuzzers with clang when needed. New inputs go to
# <build-dir>/corpus/<name>, so the committed seeds in fuzz/seeds/<name> stay as they
# are; a crashing input is saved to <build-dir>/artifacts/ and the script fails.
set -eu
secs=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build/fuzz}

if [ ! -f "$build/build.ninja" ]; then
    CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DLMX_BUILD_FUZZERS=ON -DLMX_BUILD_TESTS=OFF -DLMX_BUILD_CLI=OFF
fi
names=$(for f in "$root"/fuzz/*_fuzz.cpp; do basename "$f" _fuzz.cpp; done)
targets=$(for n in $names; do printf 'fuzz_%s ' "$n"; done)
# shellcheck disable=SC2086  # one word per target
ninja -C "$build" -j2 $targets

mkdir -p "$build/artifacts"
for n in $names; do
    mkdir -p "$build/corpus/$n"
    echo "== fuzz_$n for ${secs}s"
    "$build/fuzz/fuzz_$n" -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$n-" \
        "$build/corpus/$n" "$root/fuzz/seeds/$n"
done
