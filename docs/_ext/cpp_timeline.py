"""``.. cpp-timeline:: <chapter>/<name>``: the timeline of a traced run of an example.

The example is declared with ``tutorial_example(<name> TIMELINE)``: the build runs it
once more under strace and checks that run like any other (tools/timeline.py). This
directive draws that trace as an inline SVG (one lane per process, real time across),
with the directive's content as its caption, the strace command a reader can type, and
the event list as its text alternative. Words in the picture go through the page's
catalogue; code, pids and call names do not. The page is rebuilt when the trace (so
the example) or tools/timeline.py changes. An example declared TIMELINE that no page
draws is a warning (so an error in the -W build).
"""
import html

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from cpp_example import manifest, page_translation, words_for_gettext
import timeline  # tools/timeline.py (cpp_example puts tools/ on the path)

logger = logging.getLogger(__name__)

MADE_WITH = "How this picture was made: the build ran the example once more, under strace:"
LEGEND = ("Lanes: one per process or thread (program name and pid); bars: time blocked "
          "in a call; arrows: child created, signal sent, message received, child reaped; "
          "dashed line: a zombie, exited but not yet reaped.")
EVENTS = "Events of the traced run, as text"
TITLE = "Timeline of a traced run of {name}"
PAGE_WORDS = timeline.WORDS + (MADE_WITH, LEGEND, EVENTS, TITLE)


class timeline_figure(nodes.General, nodes.Element):
    pass


def visit_figure(self, node):
    # HTML allows a figure's <figcaption> only as its first or last child: the picture
    # and its event list (the text alternative) come first, the caption last.
    items = "\n".join(f"<li>{html.escape(item)}</li>" for item in node["events"])
    self.body.append(f'<figure class="timeline" id="{node["ident"]}">\n'
                     f'<div class="timeline-scroll" tabindex="0" role="group" '
                     f'aria-labelledby="{node["ident"]}-title">\n{node["svg"]}\n</div>\n'
                     f'<details class="timeline-events">'
                     f'<summary>{html.escape(node["summary"])}</summary>\n'
                     f'<ol id="{node["ident"]}-events">\n{items}\n</ol></details>\n'
                     '<figcaption>\n')


def depart_figure(self, node):
    self.body.append('</figcaption>\n</figure>\n')


class TimelineDirective(SphinxDirective):
    required_arguments = 1
    has_content = True   # the caption: what to look for in the picture

    def run(self):
        example_id = self.arguments[0]
        figure = timeline_figure()
        figure.line = self.lineno
        self.env.note_dependency(timeline.__file__)
        if self.env.app.builder.name == "gettext":   # the caption and words to translate
            words_for_gettext(self.env, figure, PAGE_WORDS)
            self.state.nested_parse(self.content, self.content_offset, figure)
            return [figure]
        entry = manifest().get(example_id)
        if entry is None or "trace" not in entry:
            raise self.error(f"cpp-timeline: {example_id} is not an example declared with "
                             f"TIMELINE (tutorial_example(... TIMELINE))")
        self.env.note_dependency(entry["trace"])
        self.env.timelines_drawn = getattr(self.env, "timelines_drawn", {})
        self.env.timelines_drawn.setdefault(self.env.docname, set()).add(example_id)
        try:
            with open(entry["trace"], encoding="utf-8", errors="replace") as f:
                tl = timeline.model(f.read())
        except (OSError, timeline.TraceError) as e:
            raise self.error(f"cpp-timeline: {example_id}: {entry['trace']}: {e}")
        word = page_translation(self.env)
        ident = f"timeline-{self.env.new_serialno('timeline')}"
        title = word(TITLE).format(name=entry["name"])
        figure["ident"] = ident
        figure["svg"] = timeline.svg(tl, word, ident, title)
        figure["events"] = timeline.event_texts(tl, word)
        figure["summary"] = word(EVENTS)
        self.state.nested_parse(self.content, self.content_offset, figure)
        command = " ".join(timeline.strace_argv(f"{entry['name']}.strace",
                                                entry["run_command"].split()))
        made = nodes.paragraph("", word(MADE_WITH) + " ", classes=["timeline-made"])
        made += nodes.literal(command, command)
        made += nodes.Text(" " + word(LEGEND))
        figure += made
        return [figure]


def purge(app, env, docname):
    getattr(env, "timelines_drawn", {}).pop(docname, None)


def merge(app, env, docnames, other):
    env.timelines_drawn = getattr(env, "timelines_drawn", {})
    env.timelines_drawn.update(getattr(other, "timelines_drawn", {}))


def check_every_timeline_drawn(app, env):
    if app.builder.name == "gettext":
        return
    drawn = set().union(*getattr(env, "timelines_drawn", {}).values())
    for example_id, entry in sorted(manifest().items()):
        if "trace" in entry and example_id not in drawn:
            logger.warning(f"{example_id} is declared TIMELINE but no page has "
                           f"'.. cpp-timeline:: {example_id}'")


def setup(app):
    app.add_node(timeline_figure, html=(visit_figure, depart_figure))
    app.add_directive("cpp-timeline", TimelineDirective)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-check-consistency", check_every_timeline_drawn)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
