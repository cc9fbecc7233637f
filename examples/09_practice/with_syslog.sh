#!/bin/sh
# with_syslog.sh PROGRAM [ARG...]: run a program that logs through syslog(3), then
# read back what the system log stored from it (the journal, or rsyslog's
# /var/log/syslog, or the file of a daemon private_syslog.sh started), matched by
# the PIDs the program printed. With no daemon at all it says so and exits 77
# (CTest: skipped).
set -eu
if [ $# -eq 0 ]; then
  echo "usage: with_syslog.sh PROGRAM [ARG...]" >&2
  exit 2
fi
skip() { echo "SKIPPED: $1" >&2; exit 77; }
[ -S /dev/log ] || skip "no system log on this machine: /dev/log is missing (no syslog daemon, no journald)"
ident=$(basename "$1")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$@" >"$out" 2>&1 || status=$?
cat "$out"
[ "$status" -eq 0 ] || exit "$status"
# LOG_PERROR's copies name each sender: ident[pid]. Only this run's records.
pids=$(sed -n "s/^$ident\[\([0-9]*\)\]:.*/\1/p" "$out" | sort -u | paste -sd'|' -)
records=$(grep -cE "^$ident\[($pids)\]:" "$out" || true)
from_file() {   # a daemon writes asynchronously: wait (at most 5 s) for every record
  tries=0
  while :; do
    stored=$(grep -cE "$ident\[($pids)\]:" "$1" 2>/dev/null) || stored=0
    [ "$stored" -lt "$records" ] && [ "$tries" -lt 50 ] || break
    tries=$((tries + 1))
    sleep 0.1
  done
  grep -E "$ident\[($pids)\]:" "$1" || true
  if [ "$stored" -lt "$records" ]; then
    echo "with_syslog.sh: $1 holds $stored of the $records records sent" >&2
    exit 1
  fi
}
if [ -n "${SYSLOG_FILE:-}" ]; then
  echo "--- what the system log stored from $ident (rsyslogd, private to this run):"
  from_file "$SYSLOG_FILE"
elif [ -S /run/systemd/journal/socket ] && command -v journalctl >/dev/null; then
  echo "--- what the system log stored from $ident (journald):"
  journalctl --sync 2>/dev/null || true   # ask journald to write what it has received
  journalctl --quiet --no-pager --identifier="$ident" --since=-60s -o short |
    grep -E "$ident\[($pids)\]:"
elif [ -r /var/log/syslog ]; then
  echo "--- what the system log stored from $ident (/var/log/syslog):"
  from_file /var/log/syslog
else
  skip "a daemon listens on /dev/log, but neither the journal nor /var/log/syslog can be read here"
fi
