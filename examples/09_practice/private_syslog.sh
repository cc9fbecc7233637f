#!/bin/sh
# private_syslog.sh COMMAND [ARG...]: run COMMAND where a real syslog daemon listens
# on /dev/log. If the machine runs one, COMMAND just runs. If not (a container, like
# the one that may have built this page), Debian's rsyslogd is started for this run
# only, in a mount and PID namespace of its own: its /dev/log and its log file live
# on a tmpfs no other process sees, and when the namespace ends the kernel kills the
# daemon and drops the mounts, even if this script is killed. COMMAND finds the
# log file in $SYSLOG_FILE.
set -eu
if [ $# -eq 0 ]; then
  echo "usage: private_syslog.sh COMMAND [ARG...]" >&2
  exit 2
fi
skip() { echo "SKIPPED: $1" >&2; exit 77; }
[ -S /dev/log ] && exec "$@"    # the machine's own daemon

if [ "${PRIVATE_SYSLOG_INSIDE:-}" != 1 ]; then
  command -v rsyslogd >/dev/null ||
    skip "no syslog daemon here, and rsyslogd is not installed (tools/setup.sh --tests installs it)"
  ns="--mount --pid --kill-child --propagation private"   # --kill-child: we die, it dies
  [ "$(id -u)" -eq 0 ] || ns="--map-root-user $ns"
  unshare $ns true 2>/dev/null ||
    skip "no syslog daemon here, and no namespace to start a private one in"
  PRIVATE_SYSLOG_INSIDE=1 exec unshare $ns -- "$0" "$@"
fi

# Inside: PID 1 of a new PID namespace, in a mount namespace of our own.
run=/mnt
mount -t tmpfs -o mode=700 private-syslog "$run"
mkdir "$run/dev" "$run/work"
mount --rbind /dev "$run/dev"                 # the real /dev stays reachable...
mount -t tmpfs -o mode=755 private-dev /dev   # ...from a /dev of our own
for entry in "$run"/dev/*; do ln -s "$entry" "/dev/${entry##*/}"; done
cat >"$run/rsyslog.conf" <<EOF
global(workDirectory="$run/work")
module(load="imuxsock")   # binds /dev/log
*.* action(type="omfile" file="$run/syslog" template="RSYSLOG_TraditionalFileFormat")
EOF
rsyslogd -n -f "$run/rsyslog.conf" -i "$run/rsyslogd.pid" &
daemon=$!
tries=0
until [ -S /dev/log ]; do   # the daemon binds it in a few ms; give up after 5 s
  tries=$((tries + 1))
  if ! kill -0 "$daemon" 2>/dev/null || [ "$tries" -gt 50 ]; then
    echo "private_syslog.sh: rsyslogd did not bind /dev/log (exited, or 5 s passed)" >&2
    exit 1
  fi
  sleep 0.1
done
status=0
SYSLOG_FILE="$run/syslog" "$@" || status=$?
kill "$daemon"
wait "$daemon" || true
exit "$status"
