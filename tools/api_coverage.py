#!/usr/bin/python3
"""Check that docs/python-to-cpp.rst has a row for every public name Python has.

    api_coverage.py [--list] [PAGE]

The names come from the running Python itself (run it with Debian's /usr/bin/python3),
so a new Python version's names show up by themselves:
  * multiprocessing: the public attributes of the default context, get_context();
  * each submodule in MODULES: its __all__ (the names it declares public), plus the
    few documented names EXTRA lists that __all__ leaves out;
  * each class in CLASSES: its public attributes (no leading underscore), minus those
    of a listed base class, which have rows of their own.

The page declares the scope of each table in a comment, `.. api: SCOPE`; in each row
the literals of the first cell are names in that scope (a call's `(...)` is ignored).
Exits 1 naming every name without a row and every row naming something Python lacks,
2 on bad input, 0 otherwise. --list prints the derived names and exits.
"""
import argparse
import importlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "python-to-cpp.rst")
MODULES = ["multiprocessing.connection", "multiprocessing.shared_memory",
           "multiprocessing.managers", "multiprocessing.pool",
           "multiprocessing.sharedctypes", "concurrent.futures"]
# Documented, used by readers, but not in their module's __all__.
EXTRA = {"multiprocessing.connection": ["Connection"],
         "multiprocessing.managers": ["Namespace"],
         "concurrent.futures.process": ["BrokenProcessPool"]}
CLASSES = ["multiprocessing.Process", "multiprocessing.queues.Queue",
           "multiprocessing.queues.JoinableQueue", "multiprocessing.queues.SimpleQueue",
           "multiprocessing.connection.Connection", "multiprocessing.connection.Listener",
           "multiprocessing.pool.Pool", "multiprocessing.pool.AsyncResult",
           "multiprocessing.shared_memory.SharedMemory",
           "multiprocessing.shared_memory.ShareableList",
           "multiprocessing.managers.BaseManager", "multiprocessing.managers.SyncManager",
           "multiprocessing.managers.SharedMemoryManager",
           "concurrent.futures.Future", "concurrent.futures.ProcessPoolExecutor"]
SCOPE = re.compile(r"^\.\. api: (\S+)\s*$")
ROW = re.compile(r"^\s+\* - (.*)$")
LITERAL = re.compile(r"``([^`]+)``")


def resolve(dotted):
    """The object a dotted name stands for; 'multiprocessing' is the default context."""
    if dotted == "multiprocessing":
        return importlib.import_module("multiprocessing").get_context()
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)


def public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


def expected_names():
    """{scope: set of names}, derived from Python."""
    names = {"multiprocessing": public(resolve("multiprocessing"))}
    for mod in MODULES:
        names[mod] = set(resolve(mod).__all__)
    for mod, extra in EXTRA.items():
        names.setdefault(mod, set()).update(extra)
    classes = {c: resolve(c) for c in CLASSES}
    for name, cls in classes.items():
        own = public(cls)
        for base in cls.__mro__[1:]:
            if base in classes.values():
                own -= public(base)
        names[name] = own
    return names


def page_rows(path):
    """[(line number, scope, name)] for every name in a first cell of the page."""
    rows, scope, first_cell = [], None, False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = SCOPE.match(line)
            if m:
                scope = m.group(1)
                continue
            m = ROW.match(line)
            if m and scope:
                for lit in LITERAL.findall(m.group(1)):
                    rows.append((number, scope, lit.split("(")[0].strip()))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 usage="%(prog)s [--list] [PAGE]")
    ap.add_argument("--list", action="store_true", help="print the derived names")
    ap.add_argument("page", nargs="?", default=PAGE)
    args = ap.parse_args()
    expected = expected_names()
    if args.list:
        for scope in expected:
            print(f"{scope}: {' '.join(sorted(expected[scope]))}")
        return 0
    if not os.path.isfile(args.page):
        ap.error(f"no such page: {args.page}")
    rows = page_rows(args.page)
    errors, covered = [], set()
    for number, scope, name in rows:
        try:
            resolve(f"{scope}.{name}")
        except (ImportError, AttributeError):
            errors.append(f"{args.page}:{number}: {scope}.{name}: Python has no such name")
            continue
        if name not in expected.get(scope, ()):
            errors.append(f"{args.page}:{number}: {scope}.{name}: not a public name of "
                          f"{scope} (wrong table?)")
        covered.add((scope, name))
    for scope in expected:
        for name in sorted(expected[scope]):
            if (scope, name) not in covered:
                errors.append(f"{args.page}: {scope}.{name}: no row")
    for e in errors:
        print(e)
    total = sum(len(v) for v in expected.values())
    mapped = sum(1 for s in expected for n in expected[s] if (s, n) in covered)
    print(f"{mapped} of {total} names mapped"
          f" (Python {sys.version.split()[0]}); {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
