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
for file in "$dir"/trace.*; do
  echo "== ${file##*/}"
  cat "$file"
done
