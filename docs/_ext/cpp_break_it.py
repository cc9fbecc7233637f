"""``.. cpp-break-it:: <chapter>/<name>`` with ``:mutant: <mutant>``: "Break it".

A mutant (tutorial_mutant() in cmake/TutorialExample.cmake) is the example's own
source compiled again with ``-DBREAK_<MUTANT>``, which swaps the line(s) inside its
``#ifdef BREAK_<MUTANT>`` / ``#ifndef BREAK_<MUTANT>`` block(s). The directive shows:

- the first paragraph of its content: the question ("what happens if ...?");
- each such block, cut from the listing the page shows, numbered as in the whole file,
  its code lines highlighted;
- folded until the reader opens it: the mutant's build and run commands, the output
  this build captured from it, its exit status, and the rest of the content (why).

It reads ``$TUTORIAL_BUILD_DIR/mutants.json`` (written by tutorial_finish). An unknown
example or mutant, a source without the block, or a missing output is a build error,
and a declared mutant that no page shows is a warning (so, with -W, an error).
"""
import json
import os
import re

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging

from cpp_example import (ExampleDirective, build_dir, example_block, folded,
                         status_line, labels)

logger = logging.getLogger(__name__)

LABELS = {
    "en": {"break_it": "Break it", "changed": "{file}, lines {first}–{last}: "
           "-D{macro} changes the highlighted lines", "answer": "Show what happens"},
    "zh_CN": {"break_it": "动手破坏", "changed": "{file}，第 {first}–{last} 行："
              "加上 -D{macro} 后，高亮的行随之改变", "answer": "查看运行结果"},
}

_mutants = None


def mutants():
    global _mutants
    if _mutants is None:
        with open(os.path.join(build_dir(), "mutants.json"), encoding="utf-8") as f:
            _mutants = {(m["id"], m["mutant"]): m for m in json.load(f)["mutants"]}
    return _mutants


IF_LINE = re.compile(r"\s*#\s*if")
ENDIF_LINE = re.compile(r"\s*#\s*endif\b")
DIRECTIVE_LINE = re.compile(r"\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b")


def break_blocks(source, macro):
    """(first, last) line numbers (1-based, inclusive) of each #if block that names
    the macro, from its #if to its #endif."""
    lines = source.splitlines()
    opens = re.compile(r"\s*#\s*if(n?def)?\s.*\b" + re.escape(macro) + r"\b")
    blocks, i = [], 0
    while i < len(lines):
        if opens.match(lines[i]):
            depth, j = 0, i
            while j < len(lines):
                if IF_LINE.match(lines[j]):
                    depth += 1
                elif ENDIF_LINE.match(lines[j]):
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j == len(lines):
                return None   # no #endif: the compiler would have said so
            blocks.append((i + 1, j + 1))
            i = j
        i += 1
    return blocks


class BreakItDirective(ExampleDirective):
    required_arguments = 1
    has_content = True
    option_spec = {"mutant": directives.unchanged_required}

    def run(self):
        example_id, entry = self.lookup()
        name = self.options.get("mutant")
        if not name:
            raise self.error(f"cpp-break-it {example_id}: the :mutant: option is required")
        body = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, body)
        if not len(body.children) or not isinstance(body.children[0], nodes.paragraph):
            raise self.error(f"cpp-break-it {example_id}: the content starts with the "
                             "question, one paragraph")
        question, explanation = body.children[0], body.children[1:]
        if entry is None:   # the gettext builder: only the words matter
            return [question] + list(explanation)
        try:
            mutant = mutants().get((example_id, name))
        except (OSError, ValueError) as e:
            raise self.error(f"cannot read the mutant manifest: {e}")
        if mutant is None:
            self.env.note_dependency(os.path.join(build_dir(), "mutants.json"))
            raise self.error(f"{example_id} has no mutant {name!r}: declare it with "
                             f"tutorial_mutant({entry['name']} {name})")
        self.env.__dict__.setdefault("cpp_break_it_uses", {}).setdefault(
            f"{example_id}:{name}", set()).add(self.env.docname)
        lab, mine = labels(self.env), LABELS.get(self.env.config.language or "en",
                                                  LABELS["en"])
        source, _ = self.source(entry)
        blocks = break_blocks(source, mutant["macro"])
        if not blocks:
            raise self.error(f"{example_id}.cpp has no #ifdef/#ifndef {mutant['macro']} "
                             "block (or one without its #endif)")

        block = example_block(classes=["cpp-break-it"], example=example_id)
        block += nodes.rubric("", mine["break_it"])
        block += question
        lines = source.splitlines(keepends=True)
        for first, last in blocks:
            block += nodes.paragraph("", "", nodes.Text(mine["changed"].format(
                file=os.path.basename(entry["source"]), first=first, last=last,
                macro=mutant["macro"])), classes=["cpp-example-title"])
            shown = lines[first - 1:last]
            code = self.code("".join(shown), first)
            code["highlight_args"]["hl_lines"] = [
                n + 1 for n, line in enumerate(shown) if not DIRECTIVE_LINE.match(line)]
            block += code

        output = self.read(mutant["output"] + ".txt", "captured output of the mutant")
        result = json.loads(self.read(mutant["output"] + ".json", "run report of the mutant"))
        answer = folded(summary=mine["answer"])
        answer += self.commands(mutant, lab)
        answer += nodes.paragraph("", "", nodes.strong(text=lab["output"]),
                                  nodes.Text(f" ({lab['captured']})"),
                                  classes=["cpp-example-label"])
        shown = output if output.strip() else "(no output)"
        answer += nodes.literal_block(shown, shown, language="text",
                                      classes=["cpp-example-output"])
        answer += nodes.paragraph("", status_line(result, lab), classes=["cpp-example-status"])
        answer += explanation
        block += answer
        return [block]


def check_every_mutant_shown(app, env):
    if app.builder.name == "gettext":
        return
    shown = getattr(env, "cpp_break_it_uses", {})
    for example_id, name in sorted(mutants()):
        if not shown.get(f"{example_id}:{name}"):
            logger.warning(f"mutant {name} of {example_id} is declared but no page shows "
                           f"it (add `.. cpp-break-it:: {example_id}` with `:mutant: {name}`)")


def purge(app, env, docname):
    for pages in getattr(env, "cpp_break_it_uses", {}).values():
        pages.discard(docname)


def merge(app, env, docnames, other):
    mine = env.__dict__.setdefault("cpp_break_it_uses", {})
    for key, pages in getattr(other, "cpp_break_it_uses", {}).items():
        mine.setdefault(key, set()).update(pages)


def setup(app):
    app.add_directive("cpp-break-it", BreakItDirective)
    app.connect("env-check-consistency", check_every_mutant_shown)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
