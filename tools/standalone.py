#!/usr/bin/python3
"""Build one example the way a reader would: alone, in an empty directory.

    standalone.py SOURCE.cpp "BUILD COMMAND"

Copies SOURCE.cpp into a fresh temporary directory and runs BUILD COMMAND there,
exactly as the example's page shows it. Fails if the command fails, prints a
warning, or does not produce the executable.
"""
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) != 3:
        print("standalone.py: usage: standalone.py SOURCE.cpp 'BUILD COMMAND'", file=sys.stderr)
        return 2
    source, command = sys.argv[1], sys.argv[2]
    if not os.path.isfile(source):
        print(f"standalone.py: no such file: {source}", file=sys.stderr)
        return 2
    name = os.path.splitext(os.path.basename(source))[0]
    with tempfile.TemporaryDirectory(prefix=f"standalone-{name}-") as work:
        shutil.copy(source, work)
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
