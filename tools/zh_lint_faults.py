#!/usr/bin/python3
"""Check zh_lint.py against broken copies: a clean catalogue passes, and each kind of
fault put into a copy of it is reported under its rule (exit 1); bad input exits 2.

    zh_lint_faults.py        (no arguments; exit 0 when every check holds)
"""
import os
import subprocess
import sys
import tempfile

LINT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zh_lint.py")
CLEAN = {
    "The **common mistakes** to avoid.": "需要避免的\\ **常见错误**。",
    "Each process waits at the barrier.": "每个进程都在屏障（barrier）处等待。",
    "``wait()`` returns 0 to one process.": "``wait()`` 给一个进程返回 0。",
    "Half of the time.": "一半的时间。",
}
# rule -> (msgid, faulty msgstr)
FAULTS = {
    "markup": ("The **common mistakes** to avoid.", "需要避免的**常见错误**。"),
    "lint-marker": ("Half of the time.", "一半的时间。 #noqa"),
    "ascii-quote": ("Half of the time.", "\\\"一半\\\"的时间。"),
    "fullwidth-space": ("``wait()`` returns 0 to one process.", "``wait()`` 给一个进程返回 0 。"),
    "english-term": ("Half of the time.", "一半的 worker 时间。"),
    "term-variant": ("Each process waits at the barrier.", "每个进程都在栅栏处等待。"),
    "percent": ("Half of the time.", "50 % 的时间。"),
    "times-fewer": ("Half of the time.", "时间降低 2 倍。"),
}


def catalogue(messages):
    body = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
    return body + "".join(f'\nmsgid "{i}"\nmsgstr "{s}"\n' for i, s in messages.items())


def lint(*args):
    result = subprocess.run([sys.executable, LINT, *args], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def main():
    if len(sys.argv) > 1:
        print("usage: zh_lint_faults.py   (no arguments)", file=sys.stderr)
        return 2
    failures = []

    def expect(what, code, output, status, text):
        ok = code == status and text in output
        print(f"{'ok  ' if ok else 'FAIL'} {what}: exit {code}")
        if not ok:
            failures.append(what)
            print(output)

    with tempfile.TemporaryDirectory(prefix="zh-lint-") as tmp:
        def write(name, messages):
            path = os.path.join(tmp, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(catalogue(messages))
            return path

        clean = write("clean.po", CLEAN)
        expect("clean catalogue", *lint(clean), 0, "0 findings")
        for rule, (msgid, msgstr) in FAULTS.items():
            expect(rule, *lint(write(f"{rule}.po", dict(CLEAN, **{msgid: msgstr}))), 1,
                   f": {rule}: ")
        other = write("other.po", dict(CLEAN, **{"Half of the time.": "一半时间。"}))
        expect("two-translations", *lint(clean, other), 1, ": two-translations: ")
        expect("missing file", *lint(os.path.join(tmp, "nope.po")), 2, "no such file")
        notes = os.path.join(tmp, "notes.txt")
        open(notes, "w").close()
        expect("not a .po file", *lint(notes), 2, "not a .po file")
        with open(os.path.join(tmp, "bad.po"), "w") as f:
            f.write('msgid "a"\nmsgstr "b"\ngarbage\n')
        expect("malformed .po", *lint(os.path.join(tmp, "bad.po")), 2, "not PO syntax")
    print(f"{len(FAULTS) + 5 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
