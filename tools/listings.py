#!/usr/bin/python3
"""Named regions of an example's source, and its marker-free text.

    listings.py SOURCE.cpp OUT.cpp    check SOURCE's markers, write it without them

A line ``// ANCHOR: name`` starts region ``name`` and ``// ANCHOR_END: name`` ends it
(name: [a-z0-9_]+). Regions neither nest nor overlap. Marker lines are never shown:
the page, the download and the chapter archive all have the text without them, and
every line number on the page is a line number of that text. A malformed, unbalanced
or duplicate marker is an error naming the file and the line. The Sphinx directive
(docs/_ext/cpp_example.py) imports parse(); CMake runs this file to write the copy
that readers download.
"""
import os
import re
import sys

MARKER = re.compile(r"^\s*//\s*ANCHOR")
VALID = re.compile(r"^\s*// (ANCHOR|ANCHOR_END): ([a-z0-9_]+)\s*$")


class MarkerError(Exception):
    pass


def parse(path):
    """(marker-free text, {region: (first line, last line)}) of the file at path."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    kept, regions, open_name, open_at = [], {}, None, 0

    def error(number, message):
        raise MarkerError(f"{path}:{number}: {message}")

    for number, line in enumerate(lines, 1):
        if not MARKER.match(line):
            kept.append(line)
            continue
        match = VALID.match(line)
        if not match:
            error(number, f"malformed marker {line.strip()!r} (write "
                  "'// ANCHOR: name' or '// ANCHOR_END: name', name in [a-z0-9_])")
        kind, name = match.groups()
        if kind == "ANCHOR":
            if open_name:
                error(number, f"region {name!r} starts inside region {open_name!r} "
                      f"(opened on line {open_at}); regions do not nest")
            if name in regions:
                error(number, f"region {name!r} is defined twice")
            open_name, open_at = name, number
            regions[name] = (len(kept) + 1, None)
        else:
            if open_name != name:
                error(number, f"ANCHOR_END: {name} without a matching ANCHOR: {name}"
                      + (f" (region {open_name!r} is open)" if open_name else ""))
            first = regions[name][0]
            if len(kept) < first:
                error(number, f"region {name!r} is empty")
            regions[name] = (first, len(kept))
            open_name = None
    if open_name:
        error(open_at, f"region {open_name!r} is never closed (no ANCHOR_END: {open_name})")
    return "".join(kept), regions


def main(argv):
    if len(argv) != 3 or argv[1].startswith("-"):
        print("usage: listings.py SOURCE.cpp OUT.cpp", file=sys.stderr)
        return 2
    source, out = argv[1], argv[2]
    try:
        text, _ = parse(source)
    except OSError as e:
        print(f"listings.py: cannot read {source}: {e.strerror}", file=sys.stderr)
        return 2
    except MarkerError as e:
        print(f"{e}", file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
