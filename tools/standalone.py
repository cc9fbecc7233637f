#!/usr/bin/python3
"""Build one example the way a reader would: alone, in an empty directory.

    standalone.py SOURCE.cpp "BUILD COMMAND" [HEADER...]

Copies SOURCE.cpp (and the headers it includes, as its page offers them for download)
into a fresh temporary directory and runs BUILD COMMAND there, exactly as the example's
page shows it. Fails if a file still has a region marker line (readers download
these very copies), if the command fails, prints a warning, or does not produce the
executable.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from listings import MARKER  # noqa: E402  (tools/listings.py: "// ANCHOR..." lines)


def main():
    if len(sys.argv) < 3 or any(a.startswith("-") for a in sys.argv[1:2] + sys.argv[3:]):
        print("standalone.py: usage: standalone.py SOURCE.cpp 'BUILD COMMAND' [HEADER...]",
              file=sys.stderr)
        return 2
    source, command, headers = sys.argv[1], sys.argv[2], sys.argv[3:]
    for path in [source] + headers:
        if not os.path.isfile(path):
            print(f"standalone.py: no such file: {path}", file=sys.stderr)
            return 2
    for path in [source] + headers:
        with open(path, encoding="utf-8") as f:
            marked = [n for n, line in enumerate(f, 1) if MARKER.match(line)]
        if marked:
            print(f"FAIL: {path}:{marked[0]}: a region marker line in what readers download "
                  f"({len(marked)} in all; tools/listings.py removes them)")
            return 1
    name = os.path.splitext(os.path.basename(source))[0]
    with tempfile.TemporaryDirectory(prefix=f"standalone-{name}-") as work:
        for path in [source] + headers:
            shutil.copy(path, work)
        print(f"$ cd {work}\n$ {command}", flush=True)
        result = subprocess.run(command, shell=True, cwd=work, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        print(result.stdout, end="")
        if result.returncode != 0:
            print(f"FAIL: the command exited with status {result.returncode}")
            return 1
        if "warning:" in result.stdout:
            print("FAIL: the command printed warnings")
            return 1
        if not os.access(os.path.join(work, name), os.X_OK):
            print(f"FAIL: the command did not produce ./{name}")
            return 1
    print(f"ok: {name} builds alone with the command on its page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
