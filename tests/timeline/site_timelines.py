#!/usr/bin/python3
"""Every page that asks for a timeline (`.. cpp-timeline::` in its .rst) has one per
request in both languages: an inline <svg class="timeline"> with role="img", a title,
one lane per process, and aria-describedby naming the event list (its text
alternative) inside the same <figure class="timeline">; the caption gives the strace
command; the Chinese page's words are Chinese. At least MIN_PAGES pages have one.

    site_timelines.py SITE_DIR [DOCS_DIR]     (CTest: site.timelines, label site)
"""
import os
import re
import sys

MIN_PAGES = 20
FIGURE = re.compile(r'<figure class="timeline" id="([^"]+)">(.*?)</figure>', re.S)


def requested(docs):
    """{page path without .rst: number of timelines its source asks for}"""
    pages = {}
    for folder, _, names in os.walk(docs):
        for name in names:
            if name.endswith(".rst"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    n = len(re.findall(r"^\.\. cpp-timeline:: \S+", f.read(), re.M))
                if n:
                    pages[os.path.relpath(os.path.join(folder, name), docs)[:-4]] = n
    return pages


def problems_of(html, wanted, lang):
    figures = FIGURE.findall(html)
    if len(figures) != wanted:
        return [f"{len(figures)} figure.timeline, the source asks for {wanted}"]
    found = []
    for ident, body in figures:
        svg = re.search(r"<svg ([^>]*)>(.*?)</svg>", body, re.S)
        if not svg or 'class="timeline"' not in svg.group(1) or 'role="img"' not in svg.group(1):
            found.append(f"{ident}: no <svg class=\"timeline\" role=\"img\">")
            continue
        described = re.search(r'aria-describedby="([^"]+)"', svg.group(1))
        labelled = re.search(r'aria-labelledby="([^"]+)"', svg.group(1))
        if not labelled or f'<title id="{labelled.group(1)}">' not in svg.group(2):
            found.append(f"{ident}: the svg has no title named by aria-labelledby")
        events = described and re.search(rf'<ol id="{described.group(1)}">(.*?)</ol>', body, re.S)
        if not events or len(re.findall(r"<li>", events.group(1))) < 3:
            found.append(f"{ident}: no event list (3 or more items) named by aria-describedby")
        if len(re.findall(r'class="tl-lane"', svg.group(2))) < 2:
            found.append(f"{ident}: fewer than two process lanes")
        caption = re.search(r"<figcaption>(.*?)</figcaption>", body, re.S)
        if not caption or "strace -f -ttt" not in re.sub(r"<[^>]+>", "", caption.group(1)):
            found.append(f"{ident}: the caption does not give the strace command")
        axis = re.search(r'<text class="tl-axis" [^>]*>([^<]*)</text>', svg.group(2))
        chinese = bool(axis and re.search(r"[\u4e00-\u9fff]", axis.group(1)))
        if chinese != (lang == "zh_CN"):
            found.append(f"{ident}: the axis label {axis.group(1) if axis else None!r} "
                         f"is not in the page's language")
    return found


def main(argv):
    if len(argv) not in (2, 3) or argv[1].startswith("-"):
        print("usage: " + __doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    site = argv[1]
    docs = argv[2] if len(argv) == 3 else os.path.join(os.path.dirname(__file__), "..", "..", "docs")
    pages = requested(docs)
    bad = []
    if len(pages) < MIN_PAGES:
        bad.append(f"only {len(pages)} pages ask for a timeline (at least {MIN_PAGES})")
    for lang in ("en", "zh_CN"):
        for page, wanted in sorted(pages.items()):
            path = os.path.join(site, lang, page + ".html")
            try:
                with open(path, encoding="utf-8") as f:
                    html = f.read()
            except OSError as e:
                bad.append(f"{lang}/{page}.html: {e.strerror}")
                continue
            bad += [f"{lang}/{page}.html: {p}" for p in problems_of(html, wanted, lang)]
    for line in bad:
        print(line)
    print(f"{len(pages)} pages with {sum(pages.values())} timelines, 2 languages: "
          f"{'FAILED' if bad else 'ok'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
