#!/bin/sh
# with_syslog.sh PROGRAM [ARG...]: run a program that logs through syslog(3), then
# read back what the system log stored from it: the journal (journalctl) or
# /var/log/syslog (rsyslog). Containers often run no syslog daemon; then it says
# so and exits 77 (CTest: skipped), rather than pretend the records arrived.
set -eu
if [ $# -eq 0 ]; then
  echo "usage: with_syslog.sh PROGRAM [ARG...]" >&2
  exit 2
fi
skip() { echo "SKIPPED: $1" >&2; exit 77; }
[ -S /dev/log ] || skip "no system log on this machine: /dev/log is missing (no syslog daemon, no journald)"
ident=$(basename "$1")
since=$(date +%s)
"$@"
echo "--- what the system log stored from $ident:"
if [ -S /run/systemd/journal/socket ] && command -v journalctl >/dev/null; then
  journalctl --sync 2>/dev/null || true   # ask journald to write what it has received
  journalctl --quiet --no-pager --identifier="$ident" --since="@$since" -o short
elif [ -r /var/log/syslog ]; then
  sleep 1   # rsyslog writes asynchronously
  grep -F "$ident[" /var/log/syslog | tail -n 6
else
  skip "a daemon listens on /dev/log, but neither the journal nor /var/log/syslog can be read here"
fi
