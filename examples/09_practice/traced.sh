#!/bin/sh
# traced.sh TOOL [ARG...]: run a debugger or tracer (gdb, strace) on a program, if
# this machine lets one process trace another (ptrace). Containers and hardened
# kernels often do not; then it says so and exits 77 (CTest: skipped).
set -eu
if [ $# -eq 0 ]; then
  echo "usage: traced.sh TOOL [ARG...]" >&2
  exit 2
fi
skip() { echo "SKIPPED: $1" >&2; exit 77; }
command -v "$1" >/dev/null || skip "$1 is not installed (Debian package $1)"
case $(basename "$1") in   # can the tool trace a trivial program here?
  strace | strace_ff.sh) strace -qq -o /dev/null /bin/true 2>/dev/null || skip "ptrace is not allowed here" ;;
  gdb) gdb -batch -nx -ex run --args /bin/true 2>&1 | grep -q "exited normally" ||
         skip "ptrace is not allowed here" ;;
esac
exec "$@"
