"""The .expect format: what an example's output must show (see CONTRIBUTING.md).

    exit N | signal NAME     expected ending (first pattern line; default: exit 0)
    = text                   a line equal to text
    ~ regex                  a line fully matching regex
    ...                      any number of lines
    {  ...patterns...  }     the enclosed patterns match the next lines in any order
"""
import re
import sys
import signal
from functools import lru_cache


class ExpectError(Exception):
    pass


class Spec:
    def __init__(self, items, exit_code, signo):
        self.items, self.exit_code, self.signo = items, exit_code, signo


def parse(text, origin="<expect>"):
    items, stack, exit_code, signo = [], [], 0, None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\n")
        where = f"{origin}:{number}"
        if not line.strip() or line.startswith("#"):
            continue
        target = stack[-1] if stack else items
        if line.startswith("exit ") and not items and not stack:
            exit_code = int(line.split()[1])
        elif line.startswith("signal ") and not items and not stack:
            name = line.split()[1]
            if not hasattr(signal.Signals, name):
                raise ExpectError(f"{where}: unknown signal {name}")
            exit_code, signo = None, signal.Signals[name].value
        elif line.startswith("= "):
            target.append(("=", line[2:]))
        elif line.startswith("~ "):
            try:
                target.append(("~", re.compile(line[2:])))
            except re.error as e:
                raise ExpectError(f"{where}: bad regular expression: {e}") from None
        elif line == "...":
            if stack:
                raise ExpectError(f"{where}: '...' cannot stand inside {{ }}")
            target.append(("...", None))
        elif line == "{":
            if stack:
                raise ExpectError(f"{where}: groups do not nest")
            stack.append([])
        elif line == "}":
            if not stack:
                raise ExpectError(f"{where}: '}}' without '{{'")
            items.append(("{}", stack.pop()))
        else:
            raise ExpectError(f"{where}: a pattern line starts with '= ', '~ ', "
                              f"'...', '{{' or '}}': {line!r}")
    if stack:
        raise ExpectError(f"{origin}: '{{' is never closed")
    if not any(kind != "..." for kind, _ in items):
        raise ExpectError(f"{origin}: no pattern that could fail")
    return Spec(items, exit_code, signo)


def parse_file(path):
    with open(path, encoding="utf-8") as f:
        return parse(f.read(), path)


def line_matches(pattern, line):
    kind, value = pattern
    return line == value if kind == "=" else value.fullmatch(line) is not None


def describe(pattern):
    kind, value = pattern
    return f"= {value}" if kind == "=" else f"~ {value.pattern}"


def group_matches(patterns, lines):
    """Can each pattern take a distinct line (bipartite matching, small sizes)?"""
    owner = {}

    def place(p, seen):
        for i, line in enumerate(lines):
            if i not in seen and line_matches(patterns[p], line):
                seen.add(i)
                if i not in owner or place(owner[i], seen):
                    owner[i] = p
                    return True
        return False

    return all(place(p, set()) for p in range(len(patterns)))


def match(items, lines):
    """Return (ok, furthest_item, furthest_line) for the best partial match."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * len(lines) + 1000))
    best = [0, 0]

    @lru_cache(maxsize=None)
    def go(i, j):
        if (i, j) > tuple(best):
            best[:] = [i, j]
        if i == len(items):
            return j == len(lines)
        kind, value = items[i]
        if kind == "...":
            return any(go(i + 1, k) for k in range(j, len(lines) + 1))
        if kind == "{}":
            n = len(value)
            return j + n <= len(lines) and group_matches(value, lines[j:j + n]) \
                and go(i + 1, j + n)
        return j < len(lines) and line_matches(items[i], lines[j]) and go(i + 1, j + 1)

    return go(0, 0), best[0], best[1]


SHOW_WHOLE = 12   # outputs up to this many lines are shown whole on a mismatch


def check(spec, output, exit_code, signo):
    """None when output and ending match the spec, else a readable explanation."""
    problems = []
    if spec.signo is not None and signo != spec.signo:
        got = f"signal {signal.Signals(signo).name}" if signo else f"exit {exit_code}"
        problems.append(f"expected to end by signal {signal.Signals(spec.signo).name}, got {got}")
    if spec.signo is None and (signo is not None or exit_code != spec.exit_code):
        got = f"signal {signal.Signals(signo).name}" if signo else f"exit {exit_code}"
        problems.append(f"expected exit {spec.exit_code}, got {got}")
    lines = output.splitlines()
    ok, i, j = match(spec.items, lines)
    if not ok:
        if i < len(spec.items):
            kind, value = spec.items[i]
            wanted = (f"{{ {len(value)} lines in any order: "
                      + "; ".join(describe(p) for p in value) + " }") if kind == "{}" \
                else "..." if kind == "..." else describe(spec.items[i])
        else:
            wanted = "end of output"
        got = repr(lines[j]) if j < len(lines) else "end of output"
        # A short output is shown whole: in a race the line that says what went
        # wrong (a worker killed, say) can come after the first line that differs.
        first, last = (0, len(lines)) if len(lines) <= SHOW_WHOLE \
            else (max(0, j - 3), min(len(lines), j + 4))
        context = "\n".join(f"  {'>' if k == j else ' '} {k + 1:3}| {lines[k]}"
                            for k in range(first, last))
        problems.append(f"output does not match at line {j + 1}:\n"
                        f"  expected: {wanted}\n  got:      {got}\n{context}")
    return "\n".join(problems) or None
