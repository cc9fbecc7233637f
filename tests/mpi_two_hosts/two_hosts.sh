#!/bin/sh
# two_hosts.sh PROGRAM [ARG...]: run an MPI program on two "hosts", node1 and node2,
# with 2 ranks each, the way mpirun runs it on two machines.
#
# Each host is a network namespace (its own interfaces, addresses, ports) with its own
# hostname (a UTS namespace); a veth pair is the cable between them. Open MPI starts its
# daemon on node2 through an rsh agent (rsh_agent.sh) instead of ssh, and the ranks talk
# over TCP on the test subnet only. Needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN;
# without them it says so and exits 77 (CTest: skipped). The namespaces are removed on
# every exit path. Nothing outside the two namespaces is addressed or changed.
set -eu
if [ $# -eq 0 ]; then
  echo "usage: two_hosts.sh PROGRAM [ARG...]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
subnet=10.213.77.0/24            # private test subnet: only node1 and node2 live here
ns_prefix="mpi2h-$$"             # unique per run: parallel and repeated runs never meet
ns1="$ns_prefix-node1" ns2="$ns_prefix-node2"

skip() {
  echo "SKIPPED: two-host MPI run: $1; it needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN." >&2
  exit 77
}
cleanup() {
  ip netns delete "$ns1" 2>/dev/null || true   # deleting a namespace deletes its veth end
  ip netns delete "$ns2" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Skip only for want of privilege; with it, any failure below fails the run (set -e).
cap_eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
has_cap() { [ $(( (0x$cap_eff >> $1) & 1 )) -eq 1 ]; }
has_cap 12 || skip "no CAP_NET_ADMIN (cannot create network namespaces or veth pairs)"
has_cap 21 || skip "no CAP_SYS_ADMIN (cannot mount a namespace or set a hostname)"

# A run killed with SIGKILL (a time-out) cannot clean up: remove what such runs
# left, recognised by a PID in the name that is no longer running.
for stale in /run/netns/mpi2h-*-node1 /run/netns/mpi2h-*-node2; do
  [ -e "$stale" ] || continue
  pid=${stale#/run/netns/mpi2h-}
  pid=${pid%-node?}
  kill -0 "$pid" 2>/dev/null || ip netns delete "${stale#/run/netns/}" 2>/dev/null || rm -f "$stale"
done

ip netns add "$ns1"
ip netns add "$ns2"
# The cable: one veth pair, an end created directly inside each namespace.
ip link add veth-mpi netns "$ns1" type veth peer name veth-mpi netns "$ns2"
ip -n "$ns1" addr add 10.213.77.1/24 dev veth-mpi
ip -n "$ns2" addr add 10.213.77.2/24 dev veth-mpi
for ns in "$ns1" "$ns2"; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set veth-mpi up
done

# mpirun runs on node1. The agent maps a host name to its namespace.
export MPI_TWO_HOSTS_PREFIX="$ns_prefix"
ip netns exec "$ns1" unshare --uts sh -c 'hostname node1 && exec "$@"' sh \
  mpirun --allow-run-as-root --host node1:2,node2:2 -np 4 \
    --mca plm_rsh_agent "$here/rsh_agent.sh" \
    --mca btl tcp,self \
    --mca btl_tcp_if_include "$subnet" --mca oob_tcp_if_include "$subnet" \
    "$@" || status=$?

# Proof that the ranks talked across the cable: node2's end of it counted packets.
packets() { ip netns exec "$ns2" cat "/sys/class/net/veth-mpi/statistics/$1_packets"; }
echo "veth cable: node2 received $(packets rx) packets from node1 and sent $(packets tx)"
exit "${status:-0}"
