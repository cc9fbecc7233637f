#!/bin/sh
# strace_ff.sh PROGRAM [ARG...]: trace every process of PROGRAM into its own file
# (strace -ff -o trace: trace.<pid>), then print each file under its name.
set -eu
if [ $# -eq 0 ]; then
  echo "usage: strace_ff.sh PROGRAM [ARG...]" >&2
  exit 2
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
strace -ff -qq -e trace=clone,wait4,exit_group -e signal=SIGSEGV -o "$dir/trace" "$@"
# Print a process's file, then the files of the children it forked (the pids its
# clone() calls returned). Birth order, not pid order: as text "10000" sorts before
# "9999", and the pid counter wraps to small numbers at pid_max.
children() { sed -n 's/^clone(.*) = \([0-9][0-9]*\)$/\1/p' "$1"; }
show() {
  echo "== ${1##*/}"
  cat "$1"
  for pid in $(children "$1"); do
    if [ -f "$dir/trace.$pid" ]; then show "$dir/trace.$pid"; fi
  done
}
forked=" $(for file in "$dir"/trace.*; do children "$file"; done | tr '\n' ' ') "
for file in "$dir"/trace.*; do   # the roots: files no clone() in the trace created
  case $forked in *" ${file##*.} "*) ;; *) show "$file" ;; esac
done
