#!/bin/sh
# rsh_agent.sh [OPTIONS] HOST COMMAND...: what ssh does for mpirun, for a host that is
# a network namespace (see two_hosts.sh). Options (ssh's -x and the like) are ignored;
# COMMAND (Open MPI's daemon, orted, with its arguments) runs in HOST's namespace under
# HOST's hostname, through sh -c as ssh would run it.
set -eu
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
if [ $# -lt 2 ]; then
  echo "usage: rsh_agent.sh [OPTIONS] HOST COMMAND..." >&2
  exit 2
fi
host=$1
shift
case $host in
  node1 | node2) ;;
  *) echo "rsh_agent.sh: unknown host '$host' (only node1, node2)" >&2; exit 255 ;;
esac
exec ip netns exec "${MPI_TWO_HOSTS_PREFIX:?set by two_hosts.sh}-$host" \
  unshare --uts sh -c 'hostname "$0" && exec sh -c "$1"' "$host" "$*"
