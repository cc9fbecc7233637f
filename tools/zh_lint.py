#!/usr/bin/python3
"""Lint the Chinese catalogues: markup that renders, one term, one style.

    zh_lint.py [--counts] [--exclude TEXT]... [PO_FILE...]

Without files, every catalogue under docs/locales/zh_CN/LC_MESSAGES is checked.
Prints `file:line: rule: message` per finding, then a count per rule; exits 1 on
any finding, 2 on bad input. --counts prints only the counts. --exclude skips the
catalogues whose path contains TEXT (for local work only; the site test checks all).

Rules:
  markup            a msgstr that docutils does not parse as Sphinx would (system
                    messages, leftover ** * `), whose inline markup differs from the
                    msgid's (a literal, role or link lost or added, bold or italic lost), or
                    bold/italic on punctuation alone
  lint-marker       " #noqa", NOLINT, "type: ignore"... copied into a translation
  ascii-quote       "..." or '...' around Chinese (use “”)
  fullwidth-space   a space before or after full-width punctuation (use `\\ ` where
                    reST needs a boundary)
  english-term      an English glossary term left in Chinese running text (outside
                    literals, and outside the （English） brackets of a first use)
  term-variant      the msgid uses a glossary term, the msgstr lacks its rendering
  two-translations  one msgid translated two ways across the catalogues
  percent           "50 %" or "５０％": the site writes 50%
  times-fewer       "降低/便宜/减少 N 倍": write "不到 1/N" or "只有 1/N"

The term table comes from docs/glossary.rst, lines like `   worker process (工作进程)`.
A word a rule mistakes (a condition variable's "signal" is 通知, not 信号) is allowed
for one message by a translator comment above it: `# zh_lint: allow term-variant signal`.
"""
import argparse
import collections
import glob
import io
import os
import re
import sys

import docutils.frontend
import docutils.utils
from docutils import nodes
from docutils.parsers.rst import Parser, roles

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOGUE = os.path.join(ROOT, "docs", "locales", "zh_CN", "LC_MESSAGES")
GLOSSARY = os.path.join(ROOT, "docs", "glossary.rst")
RULES = ("markup", "lint-marker", "ascii-quote", "fullwidth-space", "english-term",
         "term-variant", "two-translations", "percent", "times-fewer")

CJK = "\u3400-\u4dbf\u4e00-\u9fff"
FULLWIDTH = "，。、；：！？（）【】《》“”‘’「」"
HAS_CJK = re.compile(f"[{CJK}]")
LINT_MARKER = re.compile(r"#\s*(noqa|type:\s*ignore|pragma|pylint|nolint)\b|NOLINT",
                         re.I)
ASCII_QUOTE = re.compile(f"\"[^\"\\n]{{0,40}}[{CJK}][^\"\\n]{{0,40}}\""
                         f"|(?<![A-Za-z])'[^'\\n]{{0,40}}[{CJK}][^'\\n]{{0,40}}'")
# A space next to full-width punctuation; "\ " (reST's invisible boundary) is fine.
SPACE = re.compile(f"(?<!\\\\)[ \\t\\u3000]+[{FULLWIDTH}]|[{FULLWIDTH}][ \\t\\u3000]+")
PERCENT = re.compile(r"\d+(\.\d+)?[ \u00a0\u3000]+[%％]|\d+(\.\d+)?％|[０-９]+")
TIMES_FEWER = re.compile(r"(降低|减少|便宜|缩小|(?<![至最不])少|(?<![大缩])小|(?<![降])低)了?\s*(约|大约|近)?\s*[\d.]+\s*倍")
# Roles whose text is prose (a title), not code: their title is running text.
PROSE_ROLES = {"doc", "ref", "term", "numref", "any", "abbr", "dfn", "guilabel"}


def glossary_terms(path=GLOSSARY):
    """[(english, chinese)] from the glossary's term lines, longest English first."""
    with open(path, encoding="utf-8") as f:
        pairs = re.findall(r"^   ([^ ].*?) \((.+)\)$", f.read(), flags=re.M)
    return sorted(pairs, key=lambda p: -len(p[0]))


def any_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """Stands in for Sphinx's roles (:func:, :doc:, :c:func:, ...): a prose role with
    an explicit title (:doc:`管道 <pipes>`) renders as its title, any other role as a
    literal (a name: :func:`fork`, :doc:`pipes`), each tagged with the role's name."""
    text = docutils.utils.unescape(text)
    if name.split(":")[-1] in PROSE_ROLES and re.search(r"\S\s*<[^<>]*>$", text):
        title = re.sub(r"\s*<[^<>]*>$", "", text)     # an explicit title is prose
        node = nodes.inline(rawtext, title, classes=["role-" + name])
    else:
        node = nodes.literal(rawtext, text, classes=["role-" + name])
    return [node], []


_lookup = roles.role


def role_lookup(name, language, lineno, reporter):
    fn, messages = _lookup(name, language, lineno, reporter)
    if fn is None:
        return (lambda *a, **k: any_role(name, *a[1:], **k)), []
    return fn, messages


roles.role = role_lookup
_PARSER = Parser()
_SETTINGS = docutils.frontend.get_default_settings(Parser) \
    if hasattr(docutils.frontend, "get_default_settings") else \
    docutils.frontend.OptionParser(components=(Parser,)).get_default_values()
_SETTINGS.report_level = 5
_SETTINGS.halt_level = 5
_SETTINGS.warning_stream = io.StringIO()


class Rendered:
    """One message parsed by docutils, as Sphinx parses a msgstr."""

    def __init__(self, text):
        doc = docutils.utils.new_document("<msg>", _SETTINGS)
        _PARSER.parse(text, doc)
        self.problems = [m.astext().split("\n")[0] for m in doc.findall(nodes.system_message)
                         if m["level"] >= 2]
        self.literals = collections.Counter()
        self.roles = collections.Counter()
        self.links = collections.Counter()
        self.styles = collections.Counter()
        self.punct_styles = []
        for node in doc.findall(nodes.Element):
            role = [c for c in node["classes"] if c.startswith("role-")]
            if role:
                self.roles[role[0][5:]] += 1
            if isinstance(node, nodes.literal):
                self.literals[node.astext()] += 1
            elif isinstance(node, nodes.reference) and node.get("refuri"):
                self.links[node["refuri"]] += 1
            elif isinstance(node, (nodes.strong, nodes.emphasis)):
                self.styles[node.tagname] += 1
                if not re.search(r"\w", node.astext()):
                    self.punct_styles.append(node.astext())
        # Running text: everything outside literals and literal blocks.
        parts = []
        for t in doc.findall(nodes.Text):
            if not any(isinstance(a, (nodes.literal, nodes.literal_block, nodes.system_message,
                                      nodes.problematic))
                       for a in _ancestors(t)):
                parts.append(str(t))
        self.text = " ".join(parts)


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def term_pattern(english):
    words = re.sub(r"\\[ -]", r"[\\s-]+", re.escape(english))
    return re.compile(f"(?<![A-Za-z0-9_-]){words}(s|es)?(?![A-Za-z0-9_-])")


class Linter:
    def __init__(self, terms):
        self.terms = [(en, zh, term_pattern(en), re.compile(term_pattern(en).pattern, re.I))
                      for en, zh in terms]
        self.findings = []
        self.allowed = ()

    def report(self, path, line, rule, message):
        if not any(rule == r and f"{w!r}" in message for r, w in self.allowed):
            self.findings.append((path, line, rule, message))

    def message(self, path, line, msgid, msgstr, allowed=()):
        self.allowed = allowed
        src, dst = Rendered(msgid), Rendered(msgstr)
        self.markup(path, line, src, dst)
        for m in LINT_MARKER.finditer(dst.text):
            self.report(path, line, "lint-marker", f"{m.group(0)!r} in the translation")
        for m in ASCII_QUOTE.finditer(dst.text):
            self.report(path, line, "ascii-quote", f"{m.group(0)} (use “”)")
        for m in SPACE.finditer(msgstr):
            self.report(path, line, "fullwidth-space",
                        f"space next to {m.group(0).strip()!r} in …{_around(msgstr, m)}…")
        for m in PERCENT.finditer(dst.text):
            self.report(path, line, "percent", f"{m.group(0)!r} (write 50%)")
        for m in TIMES_FEWER.finditer(dst.text):
            self.report(path, line, "times-fewer",
                        f"{m.group(0)!r}: a reduction is not 'N 倍'; write 不到 1/N")
        if HAS_CJK.search(msgstr):
            self.english_terms(path, line, dst.text)
            self.term_variants(path, line, src.text, dst.text)

    def markup(self, path, line, src, dst):
        for problem in dst.problems:
            if problem not in src.problems:
                self.report(path, line, "markup", f"docutils: {problem}")
        if dst.problems:
            return
        for mark in ("**", "``", "`", "*"):
            if dst.text.count(mark) > src.text.count(mark):
                self.report(path, line, "markup", f"{mark!r} shown as text")
                break
        for what in ("literals", "roles", "links", "styles"):
            a, b = getattr(src, what), getattr(dst, what)
            # Code, roles and links are the msgid's; emphasis may be added, not lost.
            lost, added = dict(a - b), dict(b - a) if what != "styles" else {}
            if lost or added:
                self.report(path, line, "markup",
                            f"{what} differ from the msgid's: "
                            + ", ".join(f"{k} {v}" for k, v in
                                        (("lost", lost), ("added", added)) if v))
        for text in dst.punct_styles:
            self.report(path, line, "markup", f"bold/italic on punctuation only: {text!r}")

    def english_terms(self, path, line, text):
        # A first use shows the English in full-width brackets: 写时复制（copy-on-write）.
        masked = re.sub(r"（[^（）]*）", lambda m: " " * len(m.group(0)), text)
        for en, zh, exact, _ in self.terms:
            for m in exact.finditer(masked):
                self.report(path, line, "english-term",
                            f"{m.group(0)!r} in Chinese text: the glossary says {zh}")
            masked = exact.sub(lambda m: " " * len(m.group(0)), masked)

    def term_variants(self, path, line, source, text):
        for en, zh, _, anycase in self.terms:
            if anycase.search(source):
                if zh not in text:
                    self.report(path, line, "term-variant",
                                f"msgid says {en!r}; the translation lacks {zh}")
                source = anycase.sub(" ", source)


def _around(text, m, width=12):
    return text[max(0, m.start() - width):m.end() + width]


def read_catalogue(path):
    """[(line, msgid, msgstr, allowed)] of the translated, non-fuzzy messages of a .po
    file. A small reader of our own: babel does not say on which line a message starts.
    allowed: (rule, word) pairs from translator comments `# zh_lint: allow RULE WORD`,
    for a word the rule mistakes, e.g. a condition variable's "signal" (通知)."""
    entries, current, field, fuzzy, allowed = [], None, None, False, []

    def flush():
        if current and current["msgid"] and current["msgstr"] and not fuzzy:
            entries.append((current["line"], current["msgid"], current["msgstr"],
                            tuple(current["allowed"])))

    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if line.startswith("#,") and "fuzzy" in line:
                flush()
                current, field, fuzzy = None, None, True
            elif line.startswith("# zh_lint: allow "):
                allowed.append(tuple(line.split()[3:5]))
            elif line.startswith("#") or not line:
                continue
            elif line.startswith("msgctxt") or line.startswith("msgid "):
                if not (current and field == "msgctxt"):
                    if current is not None and field == "msgstr":
                        flush()
                        fuzzy = False
                    current = {"line": number, "msgid": "", "msgstr": "", "msgctxt": "",
                               "allowed": allowed}
                    allowed = []
                field = line.split()[0]
                current[field] += _unquote(line[len(field):].strip(), path, number)
            elif line.startswith("msgid_plural"):
                field = "plural"
                current[field] = ""
            elif line.startswith("msgstr"):
                if current is None:
                    raise ValueError(f"{path}:{number}: msgstr without msgid")
                field = "msgstr"
                current[field] += _unquote(line.split(None, 1)[1], path, number)
            elif line.startswith('"'):
                if current is None or field is None:
                    raise ValueError(f"{path}:{number}: string outside a message")
                current[field] += _unquote(line, path, number)
            else:
                raise ValueError(f"{path}:{number}: not PO syntax: {line[:40]!r}")
    if current is not None and field == "msgstr":
        flush()
    return entries


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "r": "\r"}


def _unquote(token, path, number):
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        raise ValueError(f"{path}:{number}: not a quoted string: {token[:40]!r}")
    return re.sub(r'\\(.)', lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)),
                  token[1:-1])


def main(argv):
    parser = argparse.ArgumentParser(
        prog="zh_lint.py", description=__doc__.split("\n")[0],
        usage="zh_lint.py [--counts] [--exclude TEXT]... [PO_FILE...]")
    parser.add_argument("files", nargs="*", metavar="PO_FILE")
    parser.add_argument("--counts", action="store_true", help="print only the counts")
    parser.add_argument("--exclude", action="append", default=[], metavar="TEXT",
                        help="skip catalogues whose path contains TEXT (local work only)")
    args = parser.parse_args(argv)      # exits 2 with a usage line on a bad option
    files = args.files or sorted(glob.glob(os.path.join(CATALOGUE, "**", "*.po"),
                                           recursive=True))
    for path in files:
        if not path.endswith(".po") or not os.path.isfile(path):
            print(f"zh_lint.py: {path}: " +
                  ("not a .po file" if os.path.isfile(path) else "no such file"),
                  file=sys.stderr)
            return 2
    files = [p for p in files if not any(text in p for text in args.exclude)]
    if not files:
        print("zh_lint.py: no catalogue to check", file=sys.stderr)
        return 2
    try:
        catalogues = {path: read_catalogue(path) for path in files}
        terms = glossary_terms()
    except (ValueError, UnicodeDecodeError, OSError) as error:
        print(f"zh_lint.py: {error}", file=sys.stderr)
        return 2
    linter = Linter(terms)
    translations = collections.defaultdict(list)
    for path, entries in catalogues.items():
        full = os.path.abspath(path)
        name = os.path.relpath(full, ROOT) if full.startswith(ROOT + os.sep) else path
        for line, msgid, msgstr, allowed in entries:
            linter.message(name, line, msgid, msgstr, allowed)
            translations[msgid].append((name, line, msgstr))
    linter.allowed = ()
    for msgid, uses in translations.items():
        forms = collections.Counter(s for _, _, s in uses)
        if len(forms) > 1:
            usual = forms.most_common(1)[0][0]
            where = next(f"{n}:{l}" for n, l, s in uses if s == usual)
            for name, line, msgstr in uses:
                if msgstr != usual:
                    linter.report(name, line, "two-translations",
                                  f"{msgid[:50]!r} is {msgstr[:40]!r} here, "
                                  f"{usual[:40]!r} at {where}")
    counts = collections.Counter(rule for _, _, rule, _ in linter.findings)
    if not args.counts:
        for finding in linter.findings:
            print("%s:%d: %s: %s" % finding)
    messages = sum(len(e) for e in catalogues.values())
    print(f"zh_lint.py: {len(files)} catalogues, {messages} messages, "
          f"{len(linter.findings)} findings")
    for rule in RULES:
        print(f"  {rule:17} {counts[rule]}")
    return 1 if linter.findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
