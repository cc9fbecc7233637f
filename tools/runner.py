#!/usr/bin/python3
"""Run one example program, capture its output, audit what it leaves behind.

    runner.py [--expect FILE] [--out PREFIX] [--timeout S] [--name NAME]
              [--compiler TEXT] [--skip-exit N] -- COMMAND [ARG...]

Writes PREFIX.txt (stdout and stderr interleaved in the order written, through one
pipe) and PREFIX.json (exit status or signal, wall time, platform facts, audit and
expectation results). Exits 0 only when the program ended as expected, its output
matched the .expect patterns and it left no process, shared-memory object, message
queue or System V IPC object behind.

Hygiene audit: the runner makes itself a child subreaper, so every orphaned
descendant is re-parented to it and can be found and killed. As root it also runs the
example in private mount and IPC namespaces with a fresh /dev/shm and mqueue
filesystem, so what is left there belongs to this example alone, even when tests run
in parallel; otherwise it compares snapshots of the shared directories and says so.
"""
import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expect  # noqa: E402  (tools/expect.py: the .expect matcher)

PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWNS, CLONE_NEWIPC = 0x00020000, 0x08000000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
GRACE_SECONDS = 0.5   # time for just-orphaned descendants to finish exiting
MQUEUE_DIR = "/dev/mqueue"

libc = ctypes.CDLL(None, use_errno=True)


def fail_usage(message):
    print(f"runner: {message}", file=sys.stderr)
    sys.exit(2)


def private_namespaces():
    """Give this process (and so the example) its own /dev/shm and message queues.

    Returns True on success; False when not permitted (not root), in which case
    the audit falls back to before/after snapshots of the shared directories."""
    if libc.unshare(CLONE_NEWNS | CLONE_NEWIPC) != 0:
        return False
    libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    if libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", 0, b"mode=1777") != 0:
        return False
    os.makedirs(MQUEUE_DIR, exist_ok=True)
    return libc.mount(b"mqueue", MQUEUE_DIR.encode(), b"mqueue", 0, None) == 0


def listing(directory):
    try:
        return set(os.listdir(directory))
    except OSError:
        return None   # not there (e.g. /dev/mqueue not mounted): cannot audit it


SYSV = {"shm": ("shared memory segment", "-m"), "sem": ("semaphore set", "-s"),
        "msg": ("message queue", "-q")}


def sysv_objects():
    """{(kind, key, id)} of the System V IPC objects of this IPC namespace."""
    found = set()
    for kind in SYSV:
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1:
                found.add((kind, fields[0], fields[1]))
    return found


def descendants():
    """PIDs of every live process whose ancestry leads to this runner."""
    parent_of = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
                fields = stat[stat.rindex(")") + 2:].split()
                if fields[0] != "Z":   # zombies are reaped below, not "alive"
                    parent_of[int(entry)] = int(fields[1])
            except (OSError, ValueError):
                pass
    me, found = os.getpid(), []
    for pid in parent_of:
        p, seen = pid, 0
        while p in parent_of and seen < 64:
            p, seen = parent_of[p], seen + 1
            if p == me:
                found.append(pid)
                break
    return found


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_tree():
    """SIGKILL every descendant until none is left; return what was found."""
    report = []
    for _ in range(50):
        pids = descendants()
        if not pids:
            break
        for pid in pids:
            report.append(f"pid {pid}: {command_line(pid)}")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
        reap_orphans()
    return sorted(set(report))


def run(command, timeout):
    """Run command with stdout+stderr on one pipe. Returns (output, status, secs, timed_out)."""
    read_end, write_end = os.pipe()
    env = dict(os.environ)
    if os.geteuid() == 0:   # Open MPI refuses root unless told; CI runs as root
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    start = time.monotonic()
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=write_end,
                                stderr=write_end, env=env)
    except OSError as e:
        fail_usage(f"cannot start {command[0]}: {e.strerror}")
    os.close(write_end)
    chunks, timed_out, exited_at = [], False, None
    # Read until EOF. EOF comes when the example and every descendant holding the
    # pipe are gone; if a descendant keeps it open after the example has ended,
    # stop reading after 2 s and let the audit report that process.
    while True:
        now = time.monotonic()
        if now >= start + timeout:
            timed_out = True
            break
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if exited_at is not None and now > exited_at + 2:
            break
        ready, _, _ = select.select([read_end], [], [], min(start + timeout - now, 0.2))
        if ready:
            data = os.read(read_end, 65536)
            if not data:
                break
            chunks.append(data)
    if timed_out and proc.poll() is None:
        proc.kill()
    status = proc.wait()
    elapsed = time.monotonic() - start
    if timed_out:
        kill_tree()
    while select.select([read_end], [], [], 0)[0]:   # what was written before we stopped
        data = os.read(read_end, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(read_end)
    return b"".join(chunks).decode(errors="replace"), status, elapsed, timed_out


def platform_facts(compiler):
    commit = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                             "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {
        "compiler": compiler,
        "kernel": f"Linux {platform.release()}",
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "date": datetime.date.today().isoformat(),
        "commit": commit or "unknown",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--expect", help=".expect file with the output patterns")
    ap.add_argument("--out", help="write PREFIX.txt and PREFIX.json")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    ap.add_argument("--name", default="", help="example name for the report")
    ap.add_argument("--compiler", default="", help="compiler and version, for the report")
    ap.add_argument("--log", help="append a one-line JSON result to this file")
    ap.add_argument("--config", default="", help="build configuration, for --log")
    ap.add_argument("--skip-exit", type=int, help="this exit status means the program could "
                    "not run here (it says why): report SKIPPED, not a failure")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        fail_usage("no command given (usage: runner.py [options] -- COMMAND [ARG...])")
    if args.timeout <= 0:
        fail_usage("--timeout must be positive")
    spec = None
    if args.expect:
        try:
            spec = expect.parse_file(args.expect)
        except (OSError, expect.ExpectError) as e:
            fail_usage(f"{args.expect}: {e}")

    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        fail_usage("cannot become a child subreaper")
    isolated = private_namespaces()
    before = {d: listing(d) for d in ("/dev/shm", MQUEUE_DIR)}
    sysv_before = sysv_objects()

    output, status, elapsed, timed_out = run(command, args.timeout)

    problems, notes = [], []
    deadline = time.monotonic() + GRACE_SECONDS
    while descendants() and time.monotonic() < deadline:
        reap_orphans()
        time.sleep(0.02)
    leftovers = kill_tree()
    reap_orphans()
    if timed_out:
        problems.append(f"timed out after {args.timeout:g} s: killed the whole process tree")
    elif leftovers:
        problems += [f"left a process running: {p}" for p in leftovers]
    for directory, old in before.items():
        new = listing(directory)
        if old is None or new is None:
            notes.append(f"could not audit {directory}: it is not mounted")
            continue
        for name in sorted(new - old):
            problems.append(f"left {directory}/{name} behind (removed)")
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass

    for kind, key, ident in sorted(sysv_objects() - sysv_before):
        what, option = SYSV[kind]
        problems.append(f"left a System V {what} behind (key {int(key):#010x}, id {ident}) (removed)")
        subprocess.run(["ipcrm", option, ident], capture_output=True)
    signo = -status if status < 0 else None
    exit_code = status if status >= 0 else None
    skipped = args.skip_exit is not None and exit_code == args.skip_exit and not problems
    match_error = expect.check(spec, output, exit_code, signo) if spec and not skipped else None
    if match_error:
        problems.append(match_error)

    report = {
        "example": args.name,
        "command": command,
        "exit_status": exit_code,
        "signal": signal.Signals(signo).name if signo else None,
        "wall_seconds": round(elapsed, 3),
        "timed_out": timed_out,
        "skipped": skipped,
        "audit": {"isolated": isolated, "leftover_processes": leftovers,
                  "problems": problems, "notes": notes},
        "platform": platform_facts(args.compiler),
        "ok": not problems,
    }
    if args.log:   # one short line per run, appended (O_APPEND: parallel runs are safe)
        line = json.dumps({"example": args.name, "config": args.config,
                           "compiler": args.compiler, "ok": not problems,
                           "problems": problems[:3]}) + "\n"
        with open(args.log, "a") as f:
            f.write(line)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out + ".txt", "w") as f:
            f.write(output)
        with open(args.out + ".json", "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    else:
        sys.stdout.write(output)
    ended = f"signal {report['signal']}" if signo else f"exit {exit_code}"
    label = args.name or " ".join(command)
    if skipped:   # CTest's SKIP_REGULAR_EXPRESSION matches this line
        reason = output.strip().splitlines()[-1:] or ["no reason given"]
        print(f"SKIPPED {label} ({ended}): {reason[0]}", file=sys.stderr)
        return 0
    if problems:
        print(f"FAIL {label} ({ended}, {elapsed:.2f} s)", file=sys.stderr)
        for p in problems:
            print("  " + p.replace("\n", "\n  "), file=sys.stderr)
        return 1
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    print(f"ok   {label} ({ended}, {elapsed:.2f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
