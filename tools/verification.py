#!/usr/bin/python3
"""Summarise how every example was verified, for the pages to show.

    verification.py OUT.json BUILD_DIR...

Reads BUILD_DIR/results.jsonl (one line per checked run, written by runner.py
--log during ctest) from each build directory — GCC, Clang, ASan+UBSan, TSan —
and writes, per example and configuration, how many runs there were and how many
passed. The cpp-example directive prints this under each example.
"""
import collections
import json
import os
import sys


def main():
    if len(sys.argv) < 3:
        print("usage: verification.py OUT.json BUILD_DIR...", file=sys.stderr)
        return 2
    out, build_dirs = sys.argv[1], sys.argv[2:]
    configs, examples = {}, collections.defaultdict(dict)
    for build in build_dirs:
        log = os.path.join(build, "results.jsonl")
        if not os.path.isfile(log):
            print(f"verification.py: {log} is missing (was ctest run there?)", file=sys.stderr)
            return 1
        with open(log, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                configs[r["config"]] = r["compiler"]
                counts = examples[r["example"]].setdefault(r["config"], {"runs": 0, "passed": 0})
                counts["runs"] += 1
                counts["passed"] += bool(r["ok"])
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"configs": configs, "examples": examples}, f, indent=1, sort_keys=True)
    failed = sum(c["runs"] - c["passed"] for e in examples.values() for c in e.values())
    runs = sum(c["runs"] for e in examples.values() for c in e.values())
    print(f"verification: {len(examples)} examples, {len(configs)} configurations "
          f"({', '.join(sorted(configs))}), {runs} runs, {failed} failed -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
