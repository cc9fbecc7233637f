"""Sphinx side of the example pipeline.

``.. cpp-example:: <chapter>/<name>`` renders an example declared with
tutorial_example(): its source with line numbers, a download link, the exact build
and run commands, and the output captured by this build with its exit status, run
time and platform. When the source has named regions (``// ANCHOR: name`` ...
``// ANCHOR_END: name``, tools/listings.py) the whole listing is folded, and
``.. cpp-example:: <chapter>/<name>`` with ``:region: name`` shows one region, with
its line numbers in the whole file, as often as the prose needs. A header the
example declares (tutorial_example(... HEADERS x.hpp)) is offered for download beside
the source and shown by its regions only: ``:file: x.hpp`` with ``:region: name``.
Marker lines are never shown. ``.. cpp-example-build::`` shows an example's build command with a link
to its source (for pages that are not the example's own). ``.. cpp-example-plot::``
draws a CSV table that an example printed. All read the manifest CMake writes
(``$TUTORIAL_BUILD_DIR/examples.json``); an unknown name or region or a missing output
is a build error, and every declared example must be shown in full by exactly one
page.
"""
import csv
import html
import json
import os
import re
import sys

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util import parselinenos
from sphinx.util.docutils import SphinxDirective

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import listings  # noqa: E402  (tools/listings.py: region markers)

logger = logging.getLogger(__name__)

# Labels of the example block, per language (code and output are never translated).
LABELS = {
    "en": {"source": "Source", "download": "download", "build": "Build and run",
           "output": "Output", "exit": "exit status", "signal": "killed by",
           "time": "run time", "captured": "captured by this build",
           "cpus": "CPUs", "verified": "Verified by this build",
           "solution": "Show the solution", "diagram": "Diagram",
           "nav_drawer": "Site navigation", "toc_drawer": "On this page",
           "page_tools": "Page tools",
           "full_source": "full source, {lines} lines",
           "whole_program": "The whole program ({lines} lines)",
           "lines": "lines {first}–{last}",
           "runs": "runs", "not_verified": "Verification: not run in this build "
           "(tools/test.sh runs it)", "threads_only": "TSan: only for examples that "
           "use threads (it cannot see races between processes)",
           "audit": "no leftover processes or IPC objects",
           "archive": "Download all examples of this chapter",
           "run_of": "The program is {name}, shown in full on its own page; here it "
           "runs again, with the command below.",
           "archive_note": "with a CMakeLists.txt that builds them: "
           "cmake -S . -B build && cmake --build build",
           "plot_alt": "{y} against {x} ({example})"},
    "zh_CN": {"source": "源代码", "download": "下载", "build": "编译并运行",
              "output": "输出", "exit": "退出状态", "signal": "被信号终止",
              "time": "运行时间", "captured": "由本次构建实际运行并捕获",
              "cpus": "个 CPU", "verified": "本次构建的验证",
              "solution": "查看参考答案", "diagram": "示意图",
              "nav_drawer": "网站导航", "toc_drawer": "本页内容",
              "page_tools": "页面工具",
              "full_source": "完整源代码，共 {lines} 行",
              "whole_program": "完整程序（共 {lines} 行）",
              "lines": "第 {first}–{last} 行",
              "runs": "次运行", "not_verified": "验证：本次构建未运行（由 tools/test.sh 运行）",
              "threads_only": "TSan：仅用于使用线程的示例（它看不到进程之间的竞争）",
              "audit": "未遗留任何进程或 IPC 对象",
              "archive": "下载本章全部示例",
              "run_of": "程序就是 {name}，完整源代码见其单独页面；这里用下面的命令再次运行它。",
              "archive_note": "附带可直接编译它们的 CMakeLists.txt："
              "cmake -S . -B build && cmake --build build",
              "plot_alt": "{y}随{x}的变化（{example}）"},
}


def build_dir():
    path = os.environ.get("TUTORIAL_BUILD_DIR", "")
    if not path:
        raise RuntimeError("TUTORIAL_BUILD_DIR is not set: build the site with "
                           "`cmake --build build` (see README.md)")
    return path


_manifest = None


def manifest():
    global _manifest
    if _manifest is None:
        path = os.path.join(build_dir(), "examples.json")
        with open(path, encoding="utf-8") as f:
            _manifest = {e["id"]: e for e in json.load(f)["examples"]}
    return _manifest


class example_block(nodes.General, nodes.Element):
    """Wrapper whose HTML carries translate="no": browser translators skip it, and
    data-example="<chapter>/<name>" (and data-file="x.hpp" for a header's region):
    tools/visibility.py finds what a page shows."""


def visit_example_block(self, node):
    extra = {"data-file": node["file"]} if node.get("file") else {}
    self.body.append(self.starttag(node, "div", CLASS="cpp-example", translate="no",
                                   **{"data-example": node["example"]}, **extra))


def depart_example_block(self, node):
    self.body.append("</div>\n")


class folded(nodes.General, nodes.Element):
    """The whole listing of an example shown by regions: closed until opened."""


def visit_folded(self, node):
    summary = html.escape(node["summary"])
    self.body.append(f'<details class="cpp-example-full"><summary>{summary}</summary>\n')


def depart_folded(self, node):
    self.body.append("</details>\n")


class solution(nodes.General, nodes.Element):
    """An exercise's solution, folded until the reader opens it."""


def visit_solution(self, node):
    label = LABELS.get(self.builder.config.language or "en", LABELS["en"])["solution"]
    self.body.append(f'<details class="solution"><summary>{label}</summary>\n')


def depart_solution(self, node):
    self.body.append("</details>\n")


class SolutionDirective(SphinxDirective):
    """``.. solution::`` — its content (text, examples) is hidden until opened."""
    has_content = True

    def run(self):
        node = solution()
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def labels(env):
    return LABELS.get(env.config.language or "en", LABELS["en"])


# Words in pictures (Graphviz labels, plot axes) go through the page's catalogue like
# the page's other text; code, call names and numbers in them stay as they are.
class picture_words(addnodes.translatable, nodes.Element):
    """A word label of a picture on the page. Only the gettext builder sees these
    nodes (it extracts their text); other builders translate while drawing."""

    def preserve_original_messages(self):
        pass

    def apply_translated_message(self, original_message, translated_message):
        pass

    def extract_original_messages(self):
        return [self["text"]]


def words_for_gettext(env, node, texts):
    """In a gettext build, attach the texts to node, so they reach the catalogue."""
    if env.app.builder.name != "gettext":
        return
    for text in dict.fromkeys(texts):
        words = picture_words(text=text)
        words.source, words.line = env.doc2path(env.docname), node.line or 1
        node += words


def page_translation(env):
    """gettext() of the page's own catalogue, loaded as Sphinx's Locale transform loads
    it; the identity on English pages."""
    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain
    if not env.config.language or env.config.language == "en":
        return lambda text: text
    dirs = [os.path.join(env.srcdir, d) for d in env.config.locale_dirs]
    catalog, found = init_locale(dirs, env.config.language,
                                 docname_to_domain(env.docname, env.config.gettext_compact))
    return (lambda text: catalog.gettext(text) or text) if found else (lambda text: text)


DOT_LABEL = re.compile(r'\b((?:x|head|tail)?label\s*=\s*)"((?:[^"\\]|\\.)*)"')
CODE_TOKEN = re.compile(r"\S*(?:\(\)|\w\(|::|\w\.\w|[_/<>\[\]{}=*&#|+])\S*")


def is_words(line):
    """'phase k', '4 processes each', 'barrier' are words; 'fork()', 'SIGCHLD',
    '/dev/shm', 'p[0]' are not."""
    rest = CODE_TOKEN.sub(" ", line)
    return any(t.islower() and len(t) > 2 for t in re.findall(r"[A-Za-z][A-Za-z'-]*", rest))


# A label splits into lines (\n, \l, \r) and, in a record, fields ("{a | <p> b}"):
# the separators and a field's port name stay; each piece that is words is translated.
LABEL_PIECES = re.compile(r"(\\[nlr]|\s*[|{}]\s*(?:<[^>]*>\s*)?|^\s*<[^>]*>\s*)")


def label_pieces(label):
    return LABEL_PIECES.split(label)


def words_piece(piece, label):
    """A piece to translate: words, and in a record not one bare identifier (a record's
    "head | tail" name struct members, which are code)."""
    if not piece or LABEL_PIECES.fullmatch(piece) or not is_words(piece):
        return False
    return not (re.search(r"[|{]", label) and re.fullmatch(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*", piece))


def dot_label_lines(code):
    """Each line (or record field) of each quoted label of a DOT graph that holds words."""
    for m in DOT_LABEL.finditer(code):
        for piece in label_pieces(m.group(2)):
            if words_piece(piece, m.group(2)):
                yield piece


class DiagramWords(SphinxTransform):
    """Graphviz labels through the page's catalogue (sphinx.ext.graphviz itself never
    translates them)."""
    default_priority = 25

    def apply(self, **kwargs):
        from sphinx.ext.graphviz import graphviz
        graphs = list(self.document.findall(graphviz))
        if not graphs:
            return
        if self.app.builder.name == "gettext":
            for node in graphs:
                words_for_gettext(self.env, node, dot_label_lines(node["code"]))
            return
        translate = page_translation(self.env)

        def label(m):   # msgid and msgstr are DOT text: escapes stay as written
            return m.group(1) + '"' + "".join(
                translate(p) if words_piece(p, m.group(2)) else p
                for p in label_pieces(m.group(2))) + '"'
        for node in graphs:
            node["code"] = DOT_LABEL.sub(label, node["code"])


class ExampleDirective(SphinxDirective):
    required_arguments = 1
    has_content = False
    option_spec = {"emphasize-lines": directives.unchanged,
                   "region": directives.unchanged_required,
                   "file": directives.unchanged_required}

    def lookup(self):
        example_id = self.arguments[0]
        if self.env.app.builder.name == "gettext":
            return example_id, None   # nothing here is translatable
        try:
            entry = manifest().get(example_id)
        except (OSError, ValueError, RuntimeError) as e:
            raise self.error(f"cannot read the example manifest: {e}")
        if entry is None:
            # Read this page again once the declaration exists (an incremental build
            # would otherwise keep the failed reading and never count the page's use).
            self.env.note_dependency(os.path.join(build_dir(), "examples.json"))
            raise self.error(f"unknown example {example_id!r}: no tutorial_example() "
                             f"declares it (examples/{example_id}.cpp + CMakeLists.txt)")
        return example_id, entry

    def read(self, path, what):
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            raise self.error(f"{self.arguments[0]}: {what} {path} is missing; "
                             "build the examples first (cmake --build build)")
        self.env.note_dependency(path)
        return text

    def source(self, entry):
        """The source without its marker lines, and its regions (tools/listings.py)."""
        try:
            text, regions = listings.parse(entry["source"])
        except OSError as e:
            raise self.error(f"{self.arguments[0]}: cannot read {entry['source']}: {e.strerror}")
        except listings.MarkerError as e:
            raise self.error(str(e))
        self.env.note_dependency(entry["source"])
        return text, regions

    def header(self, entry, name):
        """The manifest's record of the header `name` that the example declares."""
        headers = entry.get("headers", [])
        for header in headers:
            if os.path.basename(header["source"]) == name:
                return header
        raise self.error(f"{self.arguments[0]} declares no header {name!r} (its headers: "
                         f"{', '.join(os.path.basename(h['source']) for h in headers) or 'none'};"
                         " tutorial_example(... HEADERS file.hpp))")

    def run(self):
        example_id, entry = self.lookup()
        if "region" in self.options:
            return self.region(example_id, entry)
        if "file" in self.options:   # a header's download is in the example's block
            raise self.error(f"{example_id}: :file: shows a header's region; give :region:")
        uses = self.env.__dict__.setdefault("cpp_example_uses", {})
        uses.setdefault(example_id, []).append(self.env.docname)
        if entry is None:
            return []
        lab = labels(self.env)
        output = self.read(entry["output"] + ".txt", "captured output")
        result = json.loads(self.read(entry["output"] + ".json", "run report"))

        block = example_block(ids=[nodes.make_id("example-" + example_id)], example=example_id)
        title = self.title(entry, lab)
        block += title
        source, regions = self.source(entry)
        if "run_of" in entry:
            # Another run of a program: a link to the program's whole source, no listing.
            program_id = entry["run_of"]
            self.env.__dict__.setdefault("cpp_example_sources", {})[program_id] = entry["listing"]
            title.insert(len(title) - 1, nodes.Text(", "))
            full = nodes.reference("", "", internal=True, refuri=os.path.relpath(
                "source/" + program_id, os.path.dirname(self.env.docname) or ".") + ".html")
            full += nodes.Text(lab["full_source"].format(lines=len(source.splitlines())))
            title.insert(len(title) - 1, full)
            block += nodes.paragraph("", lab["run_of"].format(
                name=os.path.basename(entry["source"])), classes=["cpp-example-region"])
        elif regions:   # the page shows the regions; the whole program is one click away
            fold = folded(summary=lab["whole_program"].format(lines=len(source.splitlines())))
            fold += self.code(source, 1)
            block += fold
        else:
            block += self.code(source, 1)

        block += self.commands(entry, lab)
        block += nodes.paragraph("", "", nodes.strong(text=lab["output"]),
                                 nodes.Text(f" ({lab['captured']})"),
                                 classes=["cpp-example-label"])
        shown = output if output.strip() else "(no output)"
        block += nodes.literal_block(shown, shown, language="text",
                                     classes=["cpp-example-output"])
        block += nodes.paragraph("", status_line(result, lab),
                                 classes=["cpp-example-status"])
        block += nodes.paragraph("", verification_line(self.env, entry, lab),
                                 classes=["cpp-example-verified"])
        return [block]

    def region(self, example_id, entry):
        """One named region, numbered as in the whole (marker-free) file."""
        if entry is None:
            return []
        file = None
        if "file" in self.options:
            file = self.options["file"]
            entry = dict(entry, source=self.header(entry, file)["source"])
        source, regions = self.source(entry)
        name = self.options["region"]
        if name not in regions:
            raise self.error(f"{example_id}: {os.path.basename(entry['source'])} has no region "
                             f"{name!r} (its regions: {', '.join(sorted(regions)) or 'none'}; "
                             "see tools/listings.py)")
        first, last = regions[name]
        text = "".join(source.splitlines(keepends=True)[first - 1:last])
        block = example_block(classes=["cpp-example-excerpt"], example=example_id, file=file)
        block += nodes.paragraph("", "", nodes.literal(text=os.path.basename(entry["source"])),
                                 nodes.Text(", " + labels(self.env)["lines"].format(
                                     first=first, last=last)),
                                 classes=["cpp-example-title"])
        block += self.code(text, first)
        return [block]

    def title(self, entry, lab):
        """"Source: name.cpp (download), x.hpp (download)": the marker-free files, as
        readers build them (each header also alone: it is a reusable component)."""
        title = nodes.paragraph(classes=["cpp-example-title"])
        title += nodes.strong(text=f"{lab['source']}: ")
        for i, listing in enumerate([entry["listing"]]
                                    + [h["listing"] for h in entry.get("headers", [])]):
            if i:
                title += nodes.Text(", ")
            title += nodes.literal(text=os.path.basename(listing))  # as downloaded
            title += nodes.Text(" (")
            title += addnodes.download_reference(
                "", lab["download"], reftarget=os.path.relpath(listing, os.path.dirname(
                    self.env.doc2path(self.env.docname))), refdoc=self.env.docname,
                refexplicit=True)
            title += nodes.Text(")")
        return title

    def commands(self, entry, lab):
        commands = f"$ {entry['build_command']}\n$ {entry['run_command']}"
        return [nodes.paragraph("", "", nodes.strong(text=lab["build"]),
                                classes=["cpp-example-label"]),
                nodes.literal_block(commands, commands, language="console",
                                    classes=["cpp-example-build"])]

    def code(self, text, first):
        """Line-numbered code from line `first`; emphasize-lines count from the first
        line shown, as in literalinclude."""
        code = nodes.literal_block(text, text, language="cpp", linenos=True,
                                   classes=["cpp-example-source"])
        code["highlight_args"] = {"linenostart": first}
        if "emphasize-lines" in self.options:
            spec, total = self.options["emphasize-lines"], len(text.splitlines())
            try:
                lines = parselinenos(spec, total)
            except ValueError as e:
                raise self.error(f"{self.arguments[0]}: emphasize-lines: {e}")
            if any(n >= total or n < 0 for n in lines):
                raise self.error(f"{self.arguments[0]}: emphasize-lines {spec!r}: only "
                                 f"{total} lines are shown here")
            code["highlight_args"]["hl_lines"] = [n + 1 for n in lines]
        return code


class BuildDirective(ExampleDirective):
    """``.. cpp-example-build:: <chapter>/<name>``: an example's build and run commands
    with a link to its source, for a page other than the example's own."""
    option_spec = {}

    def run(self):
        example_id, entry = self.lookup()
        if entry is None:
            return []
        lab = labels(self.env)
        block = example_block(classes=["cpp-example-commands"], example=example_id)
        block += self.title(entry, lab)
        block += self.commands(entry, lab)
        return [block]


def source_pages(app):
    """A page with the whole source of each program that another run (RUN_OF) shows."""
    env = app.builder.env
    for example_id, path in sorted(getattr(env, "cpp_example_sources", {}).items()):
        with open(path, encoding="utf-8") as f:
            source = f.read()
        code = app.builder.highlighter.highlight_block(source, "cpp", linenos="inline")
        name = os.path.basename(path)
        body = (f'<section id="source"><h1>{name}</h1>'
                f'<div class="highlight-cpp notranslate" translate="no">{code}</div></section>')
        yield "source/" + example_id, {"title": name, "body": body}, "page.html"


def status_line(result, lab):
    p = result["platform"]
    ended = (f"{lab['signal']} {result['signal']}" if result.get("signal")
             else f"{lab['exit']} {result['exit_status']}")
    return " · ".join([ended, f"{lab['time']} {result['wall_seconds']:.2f} s",
                       p["compiler"], p["kernel"], f"{p['cpus']} {lab['cpus']}",
                       p["date"], f"commit {p['commit']}"])


CONFIG_NAMES = {"gcc": "{compiler}", "clang": "{compiler}",
                "gcc-asan": "ASan+UBSan", "gcc-tsan": "TSan"}


def verification_line(env, entry, lab):
    """How tools/test.sh verified this example (from build/verification.json)."""
    path = os.path.join(build_dir(), "verification.json")
    if not os.path.isfile(path):
        return lab["not_verified"]
    env.note_dependency(path)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    results = data["examples"].get(entry["id"], {})
    if not results:
        return lab["not_verified"]
    parts = []
    for config in sorted(results, key=lambda c: (c not in ("gcc", "clang"), c)):
        counts = results[config]
        name = CONFIG_NAMES.get(config, config).format(compiler=data["configs"].get(config, config))
        mark = "✓" if counts["passed"] == counts["runs"] else "✗"
        parts.append(f"{name} {mark} {counts['passed']}/{counts['runs']} {lab['runs']}")
    if not entry.get("threads"):
        parts.append(lab["threads_only"])
    if all(c["passed"] == c["runs"] for c in results.values()):
        parts.append(lab["audit"])   # a run passes only if the audit found nothing
    return f"{lab['verified']}: " + " · ".join(parts)


def csv_table(output, table):
    """The rows of the '# csv <table>' block an example printed."""
    lines = output.splitlines()
    try:
        start = lines.index(f"# csv {table}") + 1
    except ValueError:
        return None
    block = []
    for line in lines[start:]:
        if not line.strip():
            break
        block.append(line)
    return list(csv.DictReader(block))


class PlotDirective(ExampleDirective):
    """A line plot of a CSV table printed by an example; content is the caption."""
    has_content = True
    option_spec = {"table": directives.unchanged_required,
                   "x": directives.unchanged_required,
                   "y": directives.unchanged_required,
                   "group": directives.unchanged,
                   "logx": directives.flag, "logy": directives.flag}

    def run(self):
        for required in ("table", "x", "y"):
            if required not in self.options:
                raise self.error(f"cpp-example-plot needs :{required}:")
        caption_holder = nodes.Element()
        self.state.nested_parse(self.content, self.content_offset, caption_holder)
        example_id = self.arguments[0]
        if self.env.app.builder.name == "gettext":
            # the caption and the axis words are translatable
            holder = nodes.container()
            holder.line = self.lineno
            words_for_gettext(self.env, holder, [AXIS_WORDS.get(self.options[c], self.options[c])
                                                 for c in ("x", "y")])
            return caption_holder.children + [holder]
        _, entry = self.lookup()
        output = self.read(entry["output"] + ".txt", "captured output")
        rows = csv_table(output, self.options["table"])
        if not rows:
            raise self.error(f"{example_id}: its output has no '# csv "
                             f"{self.options['table']}' table")
        ys = [c.strip() for c in self.options["y"].split(",")]
        missing = {self.options["x"], *ys, self.options.get("group") or ys[0]} - set(rows[0])
        if missing:
            raise self.error(f"{example_id}: table has no column(s) {sorted(missing)}")
        name = re.sub(r"[^A-Za-z0-9_-]", "_", f"{example_id}-{self.options['table']}")
        png = os.path.join(build_dir(), "plots", self.env.config.language or "en", name + ".png")
        translate = page_translation(self.env)
        words = {c: translate(AXIS_WORDS.get(c, c)) for c in (self.options["x"], *ys)}
        draw(rows, self.options, ys, png, words)
        figure = nodes.figure(classes=["cpp-example-plot"])
        alt = labels(self.env)["plot_alt"].format(
            y=", ".join(words[y] for y in ys), x=words[self.options["x"]], example=example_id)
        figure += nodes.image(uri=os.path.relpath(png, os.path.dirname(
            self.env.doc2path(self.env.docname))), alt=alt)
        for para in caption_holder.children:
            if isinstance(para, nodes.paragraph):
                caption = nodes.caption(para.rawsource, "", *para.children)
                caption.source, caption.line = para.source, para.line
                figure += caption
                break
        return [figure]


# Axis words for the CSV columns the examples print: what a reader would call them,
# with units (translated through the page's catalogue).
AXIS_WORDS = {"size_bytes": "message size (bytes)",
              "median_us": "median one-way latency (µs)",
              "median_mib_s": "median throughput (MiB/s)",
              "chunksize": "chunk size (tasks per message)",
              "tasks_per_second": "tasks per second"}


def draw(rows, options, ys, png, words):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Chinese axis words need a CJK font first in the list (fonts-wqy-microhei; Noto
    # CJK also works): matplotlib 3.6 does not fall back glyph by glyph here. Both
    # have Latin letters too, so one list serves both languages.
    plt.rcParams["font.sans-serif"] = ["WenQuanYi Micro Hei", "Noto Sans CJK SC",
                                       "DejaVu Sans"]
    x, group = options["x"], options.get("group")
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    series = {}
    for row in rows:
        for y in ys:
            label = (f"{row[group]}" + (f" {y}" if len(ys) > 1 else "")) if group else y
            series.setdefault(label, []).append((float(row[x]), float(row[y])))
    for label, points in series.items():
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    ax.set_xlabel(words[x])
    ax.set_ylabel(", ".join(words[y] for y in ys))
    if "logx" in options:
        ax.set_xscale("log", base=2)
    if "logy" in options:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize="small")
    fig.tight_layout()
    os.makedirs(os.path.dirname(png), exist_ok=True)
    fig.savefig(png)
    plt.close(fig)


class ChapterDownload(SphinxTransform):
    """On each chapter's index page, link the archive of all its examples."""
    default_priority = 800

    def apply(self, **kwargs):
        match = re.fullmatch(r"(\d\d_[^/]+)/index", self.env.docname)
        if not match or self.app.builder.name == "gettext":
            return
        archive = os.path.join(build_dir(), "archives", match.group(1) + ".tar.gz")
        if not os.path.isfile(archive):
            logger.warning(f"{archive} is missing (the archive-{match.group(1)} target "
                           "makes it)", location=self.env.docname)
            return
        lab = labels(self.env)
        para = nodes.paragraph(classes=["chapter-download"])
        para += addnodes.download_reference(
            "", "", nodes.literal(text=os.path.basename(archive)),
            reftarget=os.path.relpath(archive, os.path.dirname(
                self.env.doc2path(self.env.docname))), refdoc=self.env.docname,
            refexplicit=True)
        para += nodes.Text(f" — {lab['archive']}, {lab['archive_note']}")
        # Right after the chapter's first paragraph, where a reader looks first.
        first = next(iter(self.document.findall(nodes.paragraph)), None)
        if first is not None:
            first.parent.insert(first.parent.index(first) + 1, para)
        else:
            self.document.append(para)
        self.env.note_dependency(archive)


class BreatheTranslatable(SphinxTransform):
    """Give Breathe's paragraphs a source so gettext extracts and translates them.

    Breathe's nodes carry no ``source`` (upstream breathe issue #832), and Sphinx's
    i18n skips every node without one. Runs before the Locale transform (20)."""
    default_priority = 15

    def apply(self, **kwargs):
        for desc in self.document.findall(addnodes.desc):
            for para in desc.findall(nodes.paragraph):
                if not para.source:
                    para.source = self.document["source"]
                    para.line = desc.line or 1
                    para["code_words"] = [n.deepcopy() for n in para.findall(
                                          lambda n: isinstance(n, CODE_NODES))
                                          if not isinstance(n.parent, CODE_NODES)]
                    para["code_original"] = para.astext()


CODE_NODES = (nodes.literal, nodes.reference, addnodes.pending_xref)

# Python's documentation, in the page's language where it has one.
PYTHON_DOCS = {"en": "https://docs.python.org/3/library/",
               "zh_CN": "https://docs.python.org/zh-cn/3/library/"}
PYTHON_MODULES = ("multiprocessing.shared_memory", "multiprocessing", "concurrent.futures",
                  "os", "signal", "threading", "asyncio", "subprocess", "queue", "time",
                  "ctypes", "mmap", "socket", "select", "selectors", "pickle", "resource")
PYTHON_NAME = re.compile(r"(%s)(\.[A-Za-z_]\w*)+(\(\))?" % "|".join(
    re.escape(m) for m in PYTHON_MODULES))


class PythonDocLinks(SphinxTransform):
    """A fully qualified Python name in a literal (``multiprocessing.Pool``,
    ``os.getpid()``) links to its entry in Python's documentation: the Chinese one
    on Chinese pages, the English one on English pages. Runs after translation."""
    default_priority = 22

    def apply(self, **kwargs):
        if self.app.builder.name == "gettext":
            return
        base = PYTHON_DOCS.get(self.config.language or "en", PYTHON_DOCS["en"])
        for literal in list(self.document.findall(nodes.literal)):
            match = PYTHON_NAME.fullmatch(literal.astext())
            if not match or any(isinstance(a, CODE_NODES) for a in _ancestors(literal)) \
                    or isinstance(literal.parent, (nodes.title, addnodes.desc_signature)):
                continue
            name = literal.astext().removesuffix("()")
            module = match.group(1)
            uri = f"{base}{module}.html#{name}"
            literal.parent.replace(literal, nodes.reference("", "", literal.deepcopy(),
                                                            refuri=uri, internal=False))


class BreatheLiterals(SphinxTransform):
    """Give a translated Doxygen paragraph its code and links back. Its msgid is plain
    text (Breathe's nodes have no reST source), so the translation would show
    ``std::system_error`` or ``start()`` as prose where the English page shows code or
    a link: each literal or link of the original is put back where the translation has
    its text. Runs after the Locale transform (20)."""
    default_priority = 21

    def apply(self, **kwargs):
        for para in self.document.findall(nodes.paragraph):
            words, original = para.get("code_words"), para.get("code_original")
            for name in ("code_words", "code_original"):
                if name in para:
                    del para[name]
            if not words or para.astext() == original:   # untranslated: as Breathe made it
                continue
            by_text = {n.astext(): n for n in words if n.astext().strip()}
            if not by_text:
                continue
            code = re.compile("(" + "|".join(
                re.escape(w) for w in sorted(by_text, key=len, reverse=True)) + ")")
            for text in list(para.findall(nodes.Text)):
                if any(isinstance(a, CODE_NODES) for a in _ancestors(text)):
                    continue
                parts = code.split(str(text))
                if len(parts) == 1:
                    continue
                new = [by_text[p].deepcopy() if i % 2 else nodes.Text(p)
                       for i, p in enumerate(parts) if p]
                text.parent.replace(text, new)


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def check_every_example_shown(app, env):
    """Each declared example is shown by exactly one page."""
    if app.builder.name == "gettext":
        return
    uses = getattr(env, "cpp_example_uses", {})
    for example_id in sorted(manifest()):
        pages = sorted(set(uses.get(example_id, [])))
        count = len(uses.get(example_id, []))
        if count == 0:
            logger.warning(f"example {example_id} is declared but no page shows it "
                           f"(add `.. cpp-example:: {example_id}` to a page)")
        elif count > 1:
            logger.warning(f"example {example_id} is shown {count} times "
                           f"({', '.join(pages)}); show each example once")


def purge(app, env, docname):
    uses = getattr(env, "cpp_example_uses", {})
    for example_id in list(uses):
        uses[example_id] = [d for d in uses[example_id] if d != docname]


def merge(app, env, docnames, other):
    mine = env.__dict__.setdefault("cpp_example_uses", {})
    for example_id, docs in getattr(other, "cpp_example_uses", {}).items():
        mine.setdefault(example_id, []).extend(docs)
    env.__dict__.setdefault("cpp_example_sources", {}).update(
        getattr(other, "cpp_example_sources", {}))


NOTRANSLATE = re.compile(r'class="([^"]*\bnotranslate\b[^"]*)"(?! translate=)')
OTHER_LANGUAGE = {"en": ("zh_CN", "中文", "zh-CN"), "zh_CN": ("en", "English", "en")}


# Pygments wraps whitespace, punctuation, operators and plain names in spans that
# the styles colour little or not at all; unwrapping them halves a listing's weight.
UNSTYLED_SPANS = re.compile(r'<span class="(?:w|p|n|o)">([^<]*)</span>')


# A code block that scrolls sideways must be reachable by keyboard (axe:
# scrollable-region-focusable); a Graphviz <object> needs a name (axe: object-alt):
# its caption, or "Diagram".
SCROLLABLE_PRE = re.compile(r'<div class="highlight"><pre>')
GRAPH = re.compile(r'<object data="([^"]*)" type="image/svg\+xml" class="([^"]*)">(.*?)</object>'
                   r'(\s*</div>\s*<figcaption>\s*<p>\s*<span class="caption-text">(.*?)</span>)?',
                   re.S)


def name_graphs(body, lab):
    def label(m):
        caption = html.unescape(re.sub(r"<[^>]+>", "", m.group(5) or "")).strip()
        name = html.escape(caption or lab["diagram"], quote=True)
        return (f'<object data="{m.group(1)}" type="image/svg+xml" class="{m.group(2)}" '
                f'role="img" aria-label="{name}">{m.group(3)}</object>{m.group(4) or ""}')
    return GRAPH.sub(label, body)


def page_context(app, pagename, templatename, context, doctree):
    # Code blocks: Sphinx marks them class="notranslate"; add the standard attribute.
    if "body" in context:
        body = UNSTYLED_SPANS.sub(r"\1", context["body"])
        body = SCROLLABLE_PRE.sub('<div class="highlight"><pre tabindex="0">', body)
        body = name_graphs(body, LABELS.get(app.config.language or "en", LABELS["en"]))
        context["body"] = NOTRANSLATE.sub(r'class="\1" translate="no"', body)
    # Language switcher: the same page in the other language (site/<lang>/<page>).
    lang = app.config.language or "en"
    other, label, hreflang = OTHER_LANGUAGE.get(lang, OTHER_LANGUAGE["en"])
    depth = pagename.count("/") + 1
    context["lang_switch_url"] = "../" * depth + f"{other}/{pagename}.html"
    context["lang_switch_label"] = label
    context["lang_switch_hreflang"] = hreflang


# Debian's furo 2022.12.07 templates put <div> inside <label> and <button> (invalid
# HTML, reported by vnu), give a table's wrapper <div> the table's own id (a
# duplicate id), and put text in the click-to-close overlays outside any landmark
# (axe: "region"; the same actions have labelled buttons in the header). Sphinx 5.3
# writes toctree captions with role="heading" but no aria-level. We mend the
# written pages rather than hide the findings.
THEME_FIXES = [
    (re.compile(r'<div class="visually-hidden">([^<]*)</div>'),
     r'<span class="visually-hidden">\1</span>'),
    (re.compile(r'(<label class="overlay (?:sidebar|toc)-overlay" for="[^"]*">)\s*'
                r'<(?:span|div) class="visually-hidden">[^<]*</(?:span|div)>\s*</label>'),
     r'\1</label>'),
    # (The wrapper also scrolls a wide table: keyboard-focusable, axe:
    # scrollable-region-focusable.)
    (re.compile(r'<div class="table-wrapper([^"]*)"(?: id="[^"]*")?>'),
     r'<div class="table-wrapper\1" tabindex="0">'),
    (re.compile(r'role="heading"(?! aria-level)'), r'role="heading" aria-level="2"'),
    # API signatures (Breathe): Sphinx wraps every token in <span class="pre">, only to
    # keep it unbroken; a token has no space to break at anyway. Unwrapped, the
    # ProcessPool page is 13 KB lighter. (tutorial.css keeps long tokens breakable.)
    (re.compile(r'<dt class="sig[^"]*"[^>]*>.*?</dt>', re.S),
     lambda m: re.sub(r'<span class="pre">([^<\s]*)</span>', r'\1', m.group(0))),
]


def landmark_fixes(lab):
    """Furo's two <aside> drawers need distinct names (axe: landmark-unique) and its
    header icons (theme toggle, contents) sit outside any landmark (axe: region)."""
    return [
        (re.compile(r'<aside class="sidebar-drawer">'),
         f'<aside class="sidebar-drawer" aria-label="{lab["nav_drawer"]}">'),
        (re.compile(r'<aside class="toc-drawer">'),
         f'<aside class="toc-drawer" aria-label="{lab["toc_drawer"]}">'),
        (re.compile(r'<div class="content-icon-container">'),
         f'<div class="content-icon-container" role="region" aria-label="{lab["page_tools"]}">'),
    ]


def mend_theme_html(app, exception):
    if exception or app.builder.format != "html":
        return
    fixes = THEME_FIXES + landmark_fixes(LABELS.get(app.config.language or "en", LABELS["en"]))
    for folder, _, files in os.walk(app.outdir):
        for name in files:
            if name.endswith(".html"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    html = f.read()
                mended = html
                for pattern, replacement in fixes:
                    mended = pattern.sub(replacement, mended)
                if mended != html:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(mended)


DOCS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tooling_changed(app, env, added, changed, removed):
    """Every page again when this extension (or tools/listings.py), a template or a
    static file changed: Sphinx itself notices only changed pages and config values, and
    would otherwise skip the whole build (static files included) after an edit to, say,
    tutorial.css."""
    newest = max([os.path.getmtime(os.path.join(folder, name))
                  for sub in ("_ext", "_static", "_templates")
                  for folder, _, names in os.walk(os.path.join(DOCS, sub)) for name in names]
                 + [os.path.getmtime(listings.__file__)])
    last = getattr(env, "cpp_example_tooling_mtime", 0)
    env.cpp_example_tooling_mtime = newest
    return sorted(env.found_docs) if newest > last else []


# Exercises (tutorial_exercise() in cmake/TutorialExample.cmake; checked by tools/check.py).
EXERCISE_LABELS = {
    "en": {"starter": "Starter", "expected": "Expected output: the patterns of {file} "
           "(= a line exactly, ~ a regular expression, ... any lines, {{ }} any order)",
           "check": "Check your answer", "hints": "Hints"},
    "zh_CN": {"starter": "起始代码", "expected": "期望输出：{file} 中的模式"
              "（= 整行相同，~ 正则表达式，... 任意多行，{{ }} 顺序不限）",
              "check": "检查你的答案", "hints": "提示"},
}


def exercise_labels(env):
    return EXERCISE_LABELS.get(env.config.language or "en", EXERCISE_LABELS["en"])


class ExerciseDirective(ExampleDirective):
    """``.. cpp-exercise:: <chapter>/<name>``: an exercise's starter (line-numbered, with
    its download), the build and run commands, the tools/check.py command, and the
    expected output as the .expect patterns. The reference solution is an example:
    the page shows it with ``.. cpp-example::`` inside ``.. solution::``."""
    option_spec = {}

    def run(self):
        example_id, entry = self.lookup()
        if entry is None:
            return []
        if "exercise" not in entry:
            raise self.error(f"{example_id} is not an exercise (declare it with "
                             "tutorial_exercise())")
        lab, ex_lab, ex = labels(self.env), exercise_labels(self.env), entry["exercise"]
        block = example_block(classes=["cpp-exercise"], example=example_id)
        title = nodes.paragraph(classes=["cpp-example-title"])
        title += nodes.strong(text=f"{ex_lab['starter']}: ")
        title += nodes.literal(text=f"{entry['name']}.cpp")
        title += nodes.Text(" (")
        title += addnodes.download_reference(
            "", lab["download"], reftarget=os.path.relpath(ex["download"], os.path.dirname(
                self.env.doc2path(self.env.docname))), refdoc=self.env.docname,
            refexplicit=True)
        title += nodes.Text(")")
        block += title
        block += self.code(self.read(ex["starter"], "starter"), 1)
        block += self.commands(entry, lab)
        check = f"$ tools/check.py {example_id} {entry['name']}.cpp"
        block += nodes.paragraph("", "", nodes.strong(text=ex_lab["check"]),
                                 classes=["cpp-example-label"])
        block += nodes.literal_block(check, check, language="console",
                                     classes=["cpp-example-build"])
        block += nodes.paragraph("", ex_lab["expected"].format(
            file=os.path.basename(ex["expect"])), classes=["cpp-example-label"])
        patterns = self.read(ex["expect"], "expected output")
        block += nodes.literal_block(patterns, patterns, language="text",
                                     classes=["cpp-example-output"])
        return [block]


class hints(nodes.General, nodes.Element):
    """An exercise's hints, folded until the reader opens them."""


def visit_hints(self, node):
    label = EXERCISE_LABELS.get(self.builder.config.language or "en",
                                EXERCISE_LABELS["en"])["hints"]
    self.body.append(f'<details class="solution hints"><summary>{label}</summary>\n')


class HintsDirective(SolutionDirective):
    """``.. hints::`` — like ``.. solution::``, folded, labelled "Hints"."""

    def run(self):
        node = hints()
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def setup(app):
    app.add_node(example_block, html=(visit_example_block, depart_example_block))
    app.add_node(folded, html=(visit_folded, depart_folded))
    app.add_node(solution, html=(visit_solution, depart_solution))
    app.add_directive("solution", SolutionDirective)
    app.add_directive("cpp-example", ExampleDirective)
    app.add_directive("cpp-example-build", BuildDirective)
    app.add_directive("cpp-example-plot", PlotDirective)
    app.add_node(hints, html=(visit_hints, depart_solution))
    app.add_directive("hints", HintsDirective)
    app.add_directive("cpp-exercise", ExerciseDirective)
    app.add_transform(BreatheTranslatable)
    app.add_transform(BreatheLiterals)
    app.add_transform(PythonDocLinks)
    app.add_transform(DiagramWords)
    app.add_transform(ChapterDownload)
    app.connect("env-get-outdated", tooling_changed)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-check-consistency", check_every_example_shown)
    app.connect("html-page-context", page_context)
    app.connect("build-finished", mend_theme_html)
    app.connect("html-collect-pages", source_pages)
    app.setup_extension("cpp_timeline")   # .. cpp-timeline:: (docs/_ext/cpp_timeline.py)
    app.setup_extension("cpp_break_it")   # .. cpp-break-it:: (docs/_ext/cpp_break_it.py)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
