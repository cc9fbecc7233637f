#!/bin/sh
# core_session.sh PROGRAM: run PROGRAM with core dumps allowed (ulimit -c) in an
# empty directory, then open the core file its crashed child left with gdb.
# Where the kernel sends cores elsewhere (core_pattern "|systemd-coredump ...",
# an absolute path) it says so and exits 77 (CTest: skipped).
set -eu
if [ $# -ne 1 ]; then
  echo "usage: core_session.sh PROGRAM" >&2
  exit 2
fi
skip() { echo "SKIPPED: $1" >&2; exit 77; }
pattern=$(cat /proc/sys/kernel/core_pattern)
case $pattern in
  '|'* | /*) skip "this kernel writes core files elsewhere (core_pattern: $pattern)" ;;
esac
program=$(realpath "$1")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
ulimit -c unlimited 2>/dev/null || skip "core dumps are not allowed here (ulimit -c)"
echo "\$ ulimit -c unlimited; ./$(basename "$program")"
"$program"
set -- core*
[ -e "$1" ] || skip "no core file was written (core_pattern: $pattern)"
echo "\$ gdb -batch -ex bt -c core ./$(basename "$program")"
gdb -batch -nx -q -iex "set debug-file-directory /nonexistent" -ex bt -c "$1" "$program" 2>&1
