#!/usr/bin/python3
"""Does each example's page show every distinctive call the example makes?

    visibility.py --build DIR [--stats] [CHAPTER...]

Reads the manifest (DIR/examples.json) and the built site (DIR/site/<lang>/). For each
example of the chapters named (default: every chapter) it lists the distinctive calls
its source and the headers it declares (HEADERS) make (fork, exec*, waitpid, pipe,
mmap, shm_open, pthread_*, sem_*, mq_*, socketpair, epoll_*, sigaction, MPI_*, ...;
plumbing such as read/write/close is not counted) and looks for each in the code its page shows without a click: the region
views (a header's too) and, unless it is folded, the whole listing, in English and in
Chinese. A header's calls may show in that header's regions under any example of the
same page: a page shows a shared header once. Exits 1 and lists every call a page
hides. --stats prints, per chapter and for all of them, the lines shown against the
lines of the files (a header counts once, as a file of its own chapter, with the most
of it that one page shows; an empty line between regions counts as shown), the
examples whose calls are all visible, the median file length and the files shown
whole; it always exits 0.
"""
import argparse
import json
import os
import re
import statistics
import sys
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import listings  # noqa: E402  (tools/listings.py: the marker-free text)

LANGUAGES = ("en", "zh_CN")
CALL = re.compile(r"""(?<![\w.>:])(?:::)?\b(
    fork | vfork | clone3? | exec(?:l|lp|le|v|vp|vpe|ve) | fexecve
  | wait | waitpid | waitid | wait3 | wait4
  | pipe2? | mkfifo | socketpair | sendmsg | recvmsg | dup2 | dup3
  | mmap | munmap | mremap | shm_open | shm_unlink | ftruncate | memfd_create
  | pthread_\w+ | sem_\w+ | mq_\w+ | epoll_\w+ | pidfd_\w+ | posix_spawn\w*
  | sigaction | sigprocmask | sigwait\w* | sigsuspend | signalfd | eventfd
  | kill | killpg | prctl | setsid | setpgid | flock | lockf | unshare
  | sched_setaffinity | MPI_\w+
)\s*\(""", re.X)
# Not calls but as telling: a system call by number, an fcntl() lock.
TOKEN = re.compile(r"\b(SYS_pidfd_\w+|SYS_clone3?|F_(?:OFD_)?(?:SETLKW?|GETLK))\b")
# Comments and literals say nothing about what a program calls.
NOISE = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
# A name after one of these words is a call; after any other word, a declaration.
CALLING_WORDS = {"return", "else", "co_return", "throw", "case", "do", "not", "and", "or"}


def calls(code):
    """The distinctive calls in C++ code, as a set of names."""
    code = NOISE.sub(" ", code)
    found = set()
    for m in CALL.finditer(code):
        before = re.search(r"(\w+)\s*$", code[:m.start()])
        if before is None or before.group(1) in CALLING_WORDS:
            found.add(m.group(1))
    return found | set(TOKEN.findall(code))


class Page(HTMLParser):
    """The code blocks of one page, each with its example, line numbers, and whether
    it is folded (inside <details>) and part of the example's full block."""
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.codes, self.hosts, self.code = [], [], set(), None

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attrs = dict(attrs)
        self.stack.append((tag, attrs))
        if tag == "div" and "data-example" in attrs and attrs.get("id", "").startswith("example-"):
            self.hosts.add(attrs["data-example"])
        if tag == "pre":
            example = next((a["data-example"] for t, a in reversed(self.stack)
                            if "data-example" in a), None)
            cpp = any("highlight-cpp" in a.get("class", "") for _, a in self.stack)
            if example and cpp:
                file = next((a["data-file"] for t, a in reversed(self.stack)
                             if "data-file" in a), None)
                self.code = {"example": example, "file": file, "text": [], "numbers": [],
                             "folded": any(t == "details" for t, _ in self.stack)}
                self.codes.append(self.code)

    def handle_endtag(self, tag):
        if tag == "pre":
            self.code = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.code is None:
            return
        if any(t == "span" and "linenos" in a.get("class", "") for t, a in self.stack):
            self.code["numbers"].append(int(data))
        else:
            self.code["text"].append(data)


def shown(site, lang):
    """{example: (visible code, {file: visible line numbers}, {header: visible code})}
    from the pages hosting them; file is None for the example's .cpp, a header's name
    for its regions. The last map is the page's: a header shown once on a page, under
    any of its examples, is visible to every example of that page."""
    result = {}
    root = os.path.join(site, lang)
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith("_") and d != "source"]
        for name in files:
            if not name.endswith(".html"):
                continue
            page = Page()
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                page.feed(f.read())
            on_page, page_numbers = {}, {}   # header: its code, its line numbers shown
            for c in page.codes:
                if c["file"] is not None and not c["folded"]:
                    on_page[c["file"]] = on_page.get(c["file"], "") + "".join(c["text"])
                    page_numbers.setdefault(c["file"], set()).update(c["numbers"])
            for example in page.hosts:
                visible = [c for c in page.codes if c["example"] == example and not c["folded"]]
                numbers = {}
                for c in visible:
                    numbers.setdefault(c["file"], set()).update(c["numbers"])
                result[example] = ("".join("".join(c["text"]) for c in visible), numbers,
                                   on_page, page_numbers)
    return result


def blank_lines(text):
    """Line numbers of the empty lines: a region ends before the blank line that
    separates it from the next, so a file shown by regions leaves those out."""
    return {i for i, line in enumerate(text.splitlines(), 1) if not line.strip()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="build directory (examples.json, site/)")
    ap.add_argument("--stats", action="store_true", help="print the figures, check nothing")
    ap.add_argument("chapters", nargs="*", help="chapter folders (default: all)")
    args = ap.parse_args()
    try:
        with open(os.path.join(args.build, "examples.json"), encoding="utf-8") as f:
            # An exercise's reference solution is folded on purpose (it is the answer).
            examples = [e for e in json.load(f)["examples"]
                        if "run_of" not in e and "exercise" not in e]
    except (OSError, ValueError) as e:
        ap.error(f"cannot read the manifest in {args.build}: {e}")
    known = sorted({e["chapter"] for e in examples})
    unknown = set(args.chapters) - set(known)
    if unknown:
        ap.error(f"no such chapter: {', '.join(sorted(unknown))} (chapters: {', '.join(known)})")
    chapters = args.chapters or known
    site = os.path.join(args.build, "site")
    languages = [lang for lang in LANGUAGES if os.path.isdir(os.path.join(site, lang))]
    if "en" not in languages:
        ap.error(f"no built site in {site}/en (cmake --build {args.build} --target site)")
    pages = {lang: shown(site, lang) for lang in languages}

    problems, figures, header_rows = [], {}, {}
    for example in examples:
        if example["chapter"] not in chapters:
            continue
        text, _ = listings.parse(example["source"])
        made, total = calls(text), len(text.splitlines())
        headers = []   # (name, lines) of the headers this chapter owns
        header_calls = {}   # header name: the calls it makes
        for header in example.get("headers", []):
            header_text, _ = listings.parse(header["source"])
            header_calls[os.path.basename(header["source"])] = calls(header_text)
            if os.path.basename(os.path.dirname(header["source"])) == example["chapter"]:
                headers.append((os.path.basename(header["source"]),
                                len(header_text.splitlines()), blank_lines(header_text)))
        row = figures.setdefault(example["chapter"], [])
        for lang in languages:
            if example["id"] not in pages[lang]:
                problems.append(f"{lang}: no page shows {example['id']} in full")
                continue
            code, numbers, on_page, page_numbers = pages[lang][example["id"]]
            # The program's own calls must show in its own listing; a header's may
            # show in that header's listing anywhere on the same page.
            seen_calls = calls(code)
            missing = made - seen_calls
            for name, used in header_calls.items():
                missing |= used - seen_calls - calls(on_page.get(name, ""))
            hidden = sorted(missing)
            if hidden:
                problems.append(f"{lang}: {example['id']}: the page hides "
                                + ", ".join(hidden))
            if lang == "en":
                shown_lines = numbers.get(None, set()) | blank_lines(text)
                row.append((total, len(shown_lines & set(range(1, total + 1))), not hidden))
                for name, lines, blank in headers:
                    # A header is one file however many examples include it: it counts
                    # once, with the most of it one page shows, under any of the page's
                    # programs (whole if one page shows every line), its calls visible
                    # if every page shows them.
                    seen = len((page_numbers.get(name, set()) | blank) & set(range(1, lines + 1)))
                    key = (example["chapter"], name)
                    old = header_rows.get(key, (lines, 0, True))
                    header_rows[key] = (lines, max(old[1], seen), old[2] and not hidden)
    for (chapter, _), row in sorted(header_rows.items()):
        figures.setdefault(chapter, []).append(row)
    if args.stats:
        print(f"{'chapter':<20} {'lines shown':>18} {'calls all visible':>18} "
              f"{'median':>6} {'shown whole':>12}")
        everything = []
        for chapter in chapters + ["all"]:
            row = everything if chapter == "all" else figures.get(chapter, [])
            if chapter != "all":
                everything += row
            if not row:
                continue
            total, seen = sum(r[0] for r in row), sum(r[1] for r in row)
            print(f"{chapter:<20} {seen:>6} of {total:>5} {100 * seen / total:3.0f} %"
                  f" {sum(r[2] for r in row):>7} of {len(row):>3}   "
                  f"{statistics.median(r[0] for r in row):>6g} "
                  f"{sum(r[0] == r[1] for r in row):>5} of {len(row):>3}")
        return 0
    for p in problems:
        print(p)
    checked = sum(len(r) for r in figures.values()) - len(header_rows)
    print(f"visibility: {checked} examples of {', '.join(chapters)} in {', '.join(languages)}: "
          + (f"{len(problems)} problem(s)" if problems else "every call is visible"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
