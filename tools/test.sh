#!/usr/bin/env bash
# Run every test CI runs. Installs what is missing first (tools/setup.sh --tests).
#   1. Clang, ASan+UBSan and TSan builds: every example built with -Werror, run,
#      its output checked and its leftovers audited; bad arguments rejected.
#   2. GCC build: the same, every checked run repeated $REPEAT times (default 10)
#      to catch flakes, each BENCHMARK example and each "break it" mutant
#      $BENCHMARK_REPEAT times (default 5: benchmarks run alone and take seconds; most
#      mutants wait out a time-out on purpose); standalone builds with the page's
#      command; Catch2;
#      fault injection (label fault: each IPC call an example makes, failing once).
#   3. The site in both languages (strict), showing how each example was verified,
#      then the site tests: translations, links, browser, accessibility, HTML.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 0 ]; then
  echo "usage: tools/test.sh   (REPEAT=N, BENCHMARK_REPEAT=N change the repeat counts)" >&2
  exit 2
fi
repeat="${REPEAT:-10}"
bench_repeat="${BENCHMARK_REPEAT:-5}"
tools/setup.sh --tests
start=$SECONDS
stage() { printf '\n=== %s (%d s)\n' "$*" "$((SECONDS - start))"; }

for preset in clang asan tsan; do
  stage "$preset: build and check every example"
  rm -f "build-$preset/results.jsonl"
  cmake --preset "$preset" >/dev/null
  # The sanitizer builds run the examples only: building the Catch2 programs there
  # (a third of their compile time) would check nothing. Clang compiles everything.
  if [ "$preset" = clang ]; then
    cmake --build --preset "$preset"
  else
    cmake --build --preset "$preset" --target examples
  fi
  ctest --preset "$preset" -L "run|args"
done

stage "gcc: build, capture, and run every example $repeat times ($bench_repeat for benchmarks and mutants)"
rm -f build/results.jsonl
cmake --preset default >/dev/null
cmake --build --preset default --target examples unit-tests
ctest --preset default -L run -LE "benchmark|mutant" --repeat "until-fail:$repeat"
ctest --preset default -L "benchmark|mutant" --repeat "until-fail:$bench_repeat"
stage "gcc: bad arguments, standalone builds, Catch2, the exercise checker"
ctest --preset default -L "args|standalone|unit|exercise"
stage "gcc: fault injection (each IPC call failing once; tests/fault/)"
ctest --preset default -L fault

stage "site: both languages, with the verification summary"
tools/verification.py build/verification.json build build-clang build-asan build-tsan
cmake --build --preset default
ctest --preset default -L "site|archive"
stage "tools/test.sh: all tests passed"
