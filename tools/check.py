#!/usr/bin/python3
"""Check your answer to an exercise with the checks the build runs on every example.

    check.py [--build DIR] [--repeats N] EXERCISE SOLUTION.cpp
    check.py [--build DIR] --list

EXERCISE is the id the page shows (e.g. 02_communication/pipe_word_count). The checks:
  1. build: your file, compiled with the command the exercise's page shows;
  2. output: one run through tools/runner.py with the exercise's arguments, matched
     against the exercise's .expect patterns (tools/expect.py) and its exit status;
  3. clean-up: that run's leak audit (tools/runner.py): no process left running, no
     /dev/shm entry, message queue or System V object left behind;
  4. repeats: N runs in all (default 20), each checked as in 2 and 3;
  5. sanitizers: the same command with ASan+UBSan, one checked run, no report.
Each check prints PASS or FAIL and, for a failure, why: the output line that did not
match, the process or object left behind, the sanitizer's first report.

Exit status: 0 when every check passes, 1 when one fails, 2 for bad input (unknown
exercise, missing file, a file that does not compile, no build to read from).
The exercises are those declared with tutorial_exercise() (cmake/TutorialExample.cmake),
read from the build's manifest (DIR/examples.json; DIR: --build, else
$TUTORIAL_BUILD_DIR, else build/ next to tools/).
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

TOOLS = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(TOOLS, "runner.py")
# The ASan+UBSan flags of the sanitizer build (TUTORIAL_SANITIZE=address, CMakeLists.txt).
SANITIZE = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=all", "-g"]
SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak)Sanitizer.*|.*runtime error: .*")


def bad_input(message):
    print(f"check.py: {message}", file=sys.stderr)
    sys.exit(2)


def exercises(build):
    path = os.path.join(build, "examples.json")
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)["examples"]
    except (OSError, ValueError) as e:
        bad_input(f"cannot read the exercise list {path} ({e}): build the examples "
                  "first (tools/site.sh --no-serve, or cmake --build build), or name "
                  "the build directory with --build")
    return {e["id"]: e for e in entries if "exercise" in e}


def compile_answer(entry, solution, workdir, extra):
    """Build with the page's command (plus `extra` flags); None or the compiler's errors."""
    name = entry["name"]
    shutil.copyfile(solution, os.path.join(workdir, f"{name}.cpp"))
    command = shlex.split(entry["build_command"])
    command[1:1] = extra
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    if done.returncode != 0:   # the messages name the reader's file, not our copy
        errors = (done.stdout + done.stderr).strip().replace(f"{name}.cpp:", f"{solution}:")
        return errors or f"exit status {done.returncode}"
    return None


def run_once(entry, workdir, label, env=None):
    """One run through the runner: (output, list of problems)."""
    ex = entry["exercise"]
    prefix = os.path.join(workdir, f"run-{label}")
    subprocess.run([sys.executable, RUNNER, "--expect", ex["expect"], "--out", prefix,
                    "--timeout", str(ex["timeout"]), "--name", entry["id"], "--",
                    f"./{entry['name']}", *ex["args"]],
                   cwd=workdir, capture_output=True, env=env)
    try:
        with open(prefix + ".json", encoding="utf-8") as f:
            report = json.load(f)
        with open(prefix + ".txt", encoding="utf-8") as f:
            output = f.read()
    except (OSError, ValueError) as e:
        return "", [f"the runner wrote no report ({e})"]
    for note in report["audit"]["notes"] if label == "1" else []:   # e.g. not root
        print(f"note  {note}")
    return output, report["audit"]["problems"]


LEFT_BEHIND = re.compile(r"left a process running|left /dev/|left a System V")


def explain(problem):
    """The runner's finding, in plain words first."""
    if problem.startswith("timed out"):
        return ("it did not finish in time (" + problem + "); something waited for "
                "ever: a pipe whose write end is still open somewhere, a child never "
                "told to stop, a lock never released?")
    if problem.startswith("left a process running"):
        return problem + " (a child nobody waited for, or one still blocked)"
    if problem.startswith("left /dev/shm/"):
        return problem + " (a shared-memory name never shm_unlink()ed)"
    if problem.startswith("left /dev/mqueue/"):
        return problem + " (a message queue never mq_unlink()ed)"
    return problem


class Report:
    def __init__(self):
        self.failed = 0

    def check(self, ok, what, details=()):
        print(f"{'PASS' if ok else 'FAIL'}  {what}")
        for d in details:
            print("      " + d.rstrip().replace("\n", "\n      "))
        self.failed += not ok
        sys.stdout.flush()

    def skip(self, what, why):
        print(f"SKIP  {what}: {why}")


def judge_run(report, output, problems, label):
    """Checks 2 and 3 for one run; True when both pass."""
    leaks = [p for p in problems if LEFT_BEHIND.match(p)]
    others = [p for p in problems if p not in leaks]
    report.check(not others, f"output and exit status ({label})", [explain(p) for p in others])
    report.check(not leaks, f"clean-up: nothing left behind ({label})",
                 [explain(p) for p in leaks])
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", help="build directory with examples.json")
    ap.add_argument("--list", action="store_true", help="list the exercises")
    ap.add_argument("--repeats", type=int, default=20, help="runs in all (default 20)")
    ap.add_argument("exercise", nargs="?", help="e.g. 02_communication/pipe_word_count")
    ap.add_argument("solution", nargs="?", help="your .cpp file")
    args = ap.parse_args()
    build = args.build or os.environ.get("TUTORIAL_BUILD_DIR") or \
        os.path.join(TOOLS, "..", "build")
    known = exercises(build)
    if args.list:
        for ex_id, entry in sorted(known.items()):
            print(f"{ex_id}  (starter: {entry['exercise']['starter']})")
        return 0
    if not args.exercise or not args.solution:
        bad_input("usage: check.py [--build DIR] EXERCISE SOLUTION.cpp (or --list)")
    if args.repeats < 1:
        bad_input("--repeats must be at least 1")
    entry = known.get(args.exercise)
    if entry is None:
        bad_input(f"no exercise {args.exercise!r}; the exercises are: "
                  + ", ".join(sorted(known)))
    if not os.path.isfile(args.solution):
        bad_input(f"{args.solution}: no such file")

    print(f"Checking {args.solution} against {args.exercise}")
    report = Report()
    with tempfile.TemporaryDirectory(prefix="check-") as workdir:
        errors = compile_answer(entry, args.solution, workdir, [])
        if errors:
            lines = errors.splitlines()
            first = next((l for l in lines if ": error:" in l), lines[0])
            bad_input(f"{args.solution} does not compile with the page's command\n"
                      f"  {entry['build_command']}\nfirst error: {first}")
        report.check(True, f"build: {entry['build_command']}")

        output, problems = run_once(entry, workdir, "1")
        if judge_run(report, output, problems, "run 1"):
            for i in range(2, args.repeats + 1):
                output, problems = run_once(entry, workdir, str(i))
                if problems:
                    report.check(False, f"repeats: run {i} of {args.repeats} failed",
                                 [explain(p) for p in problems])
                    break
            else:
                report.check(True, f"repeats: all {args.repeats} runs passed")
        else:
            report.skip("repeats", "run 1 failed already")

        label = "ASan+UBSan"
        errors = compile_answer(entry, args.solution, workdir, SANITIZE)
        if errors:
            report.check(False, f"{label}: build", [errors.splitlines()[0]])
        else:
            output, problems = run_once(entry, workdir, "sanitized")
            found = next((m.group(0).strip() for m in map(SANITIZER_REPORT.search,
                          output.splitlines()) if m), None)
            if found:
                report.check(False, f"{label}: the sanitizers reported a bug",
                             [f"first report: {found}"])
            else:
                report.check(not problems, f"{label}: one checked run, no report",
                             [explain(p) for p in problems])

    if report.failed:
        print(f"NOT ACCEPTED: {report.failed} check(s) failed")
        return 1
    print("ACCEPTED: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
