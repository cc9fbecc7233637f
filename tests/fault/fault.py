#!/usr/bin/python3
"""Run an example with each IPC call it makes failing once; it must fail honestly.

    fault.py --shim LIB [--timeout S] -- PROGRAM [ARG...]

First a count run (through tools/runner.py, with the LD_PRELOAD shim LIB counting)
finds which intercepted calls the program makes and how often per process. Then, for
each such call, one run with its 1st call failing and, if a process made it twice or
more, one with its 2nd. Each run goes through tools/runner.py's audit and passes when
the program ended by itself within the time-out, exited with a non-zero status,
printed a line naming the failed call (one the normal run does not print, numbers
aside), left
no process, /dev/shm entry or message queue behind, and the fault really fired.
One line per run; exit 0 when every run passes, 1 otherwise, 77 (CTest: skipped)
when the program makes none of the intercepted calls.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "runner.py")
# A message may name the call a program made through a near relative.
NAMES = {"pipe2": ("pipe2", "pipe"), "posix_spawnp": ("posix_spawnp", "posix_spawn")}
SKIPPED = 77
DIGITS = re.compile(r"\d+")   # pids and times differ from run to run


def run(args, work, label, env):
    """One run of the program through the runner; returns (report, output lines)."""
    prefix = os.path.join(work, label)
    command = (["/usr/bin/env", f"LD_PRELOAD={os.path.abspath(args.shim)}"]
               + [f"{k}={v}" for k, v in env.items()] + args.command)
    subprocess.run([sys.executable, RUNNER, "--timeout", str(args.timeout), "--name", label,
                    "--out", prefix, "--"] + command, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    try:
        with open(prefix + ".json", encoding="utf-8") as f:
            report = json.load(f)
        with open(prefix + ".txt", encoding="utf-8") as f:
            return report, f.read().splitlines()
    except OSError as e:
        sys.exit(f"fault.py: the runner wrote no report for {label}: {e}")


def counts(log):
    """{call: most calls one process made} from the shim's count log."""
    made = {}
    try:
        with open(log, encoding="utf-8") as f:
            for line in f:
                _, call, n = line.split()
                made[call] = max(made.get(call, 0), int(n))
    except FileNotFoundError:
        pass
    return made


def judge(report, lines, normal, call, fired):
    """(what is wrong with one injected run, the line naming the call)."""
    problems = []
    if report["timed_out"]:
        problems.append("did not end by itself within the time-out")
    elif report["signal"]:
        problems.append(f"killed by {report['signal']}")
    elif report["exit_status"] == 0:
        problems.append("exit status 0")
    problems += report["audit"]["problems"]
    pattern = re.compile(r"\b(?:%s)\b" % "|".join(NAMES.get(call, (call,))))
    said = next((line for line in lines if pattern.search(line)
                 and DIGITS.sub("0", line) not in normal), None)
    if said is None:
        problems.append(f"no message names {call}")
    if not fired:
        problems.append(f"the fault never fired (no {call} call this time)")
    return problems, said


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shim", required=True, help="the fault_shim shared library")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    args.command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not args.command:
        ap.error("no program given (fault.py --shim LIB -- PROGRAM [ARG...])")
    if not os.path.isfile(args.shim):
        ap.error(f"no such shim: {args.shim} (build the fault_shim target)")

    with tempfile.TemporaryDirectory(prefix="fault-") as work:
        log = os.path.join(work, "count.log")
        report, normal = run(args, work, "count", {"FAULT_LOG": log})
        made = counts(log)
        summary = ", ".join(f"{c} ×{n}" for c, n in sorted(made.items())) or "none"
        print(f"count run: exit {report['exit_status']}; intercepted calls: {summary}")
        if not report["ok"] or report["exit_status"] != 0:
            print("FAIL the normal run fails already: " + "; ".join(report["audit"]["problems"]))
            return 1
        if not made:
            print("skipped: the program makes none of the intercepted calls")
            return SKIPPED
        failed = 0
        for call in sorted(made):
            for at in (1, 2)[:made[call]]:
                label = f"{call}-{at}"
                fired_file = os.path.join(work, label + ".fired")
                report, lines = run(args, work, label, {
                    "FAULT_CALL": call, "FAULT_AT": at, "FAULT_FIRED": fired_file})
                normal_lines = {DIGITS.sub("0", line) for line in normal}
                problems, said = judge(report, lines, normal_lines, call,
                                       os.path.exists(fired_file))
                ended = (f"signal {report['signal']}" if report["signal"]
                         else f"exit {report['exit_status']}")
                if problems:
                    failed += 1
                    print(f"FAIL {call} #{at}: {ended}: " + "; ".join(problems))
                else:
                    print(f"ok   {call} #{at}: {ended}, {report['wall_seconds']:.2f} s: {said.strip()}")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
