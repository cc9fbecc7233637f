# Sphinx configuration. Sources are in docs/; the build (cmake --build build) runs
# sphinx-build with TUTORIAL_BUILD_DIR set, where the example manifest, the captured
# outputs, Doxygen's XML and the fixed furo files are.
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("TUTORIAL_BUILD_DIR", os.path.join(ROOT, "build"))
sys.path.insert(0, os.path.join(ROOT, "docs", "_ext"))

project = "Multiprocessing in C++"
author = "Multiprocessing in C++"
copyright = "2026 " + author
root_doc = "index"
exclude_patterns = ["_build", "locales", "_root", "Thumbs.db", ".DS_Store"]

extensions = ["cpp_example", "breathe", "sphinx.ext.graphviz", "sphinx_copybutton"]

# Languages: English source, Simplified Chinese from gettext catalogues (one per page).
language = "en"
locale_dirs = ["locales/"]
gettext_compact = False
gettext_uuid = False
gettext_location = False   # no machine-specific paths in the catalogues
gettext_additional_targets = []   # never literal-block: code and output stay as built

# Theme: Debian's furo, with its broken static files replaced (tools/furo_fix.py).
html_theme = "furo"
html_title = "Multiprocessing in C++"
html_favicon = "docs/_static/favicon.svg"
templates_path = ["docs/_templates"]
html_static_path = ["docs/_static", os.path.join(BUILD, "furo-static")]
html_css_files = ["tutorial.css"]
html_sidebars = {"**": ["sidebar/brand.html", "sidebar/search.html",
                        "sidebar/language.html", "sidebar/scroll-start.html",
                        "sidebar/navigation.html", "sidebar/scroll-end.html"]}
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
pygments_style = "default"      # WCAG AA contrast (Pygments >= 2.11)
pygments_dark_style = "github-dark"

graphviz_output_format = "svg"
copybutton_prompt_text = "$ "
copybutton_only_copy_prompt_lines = False

breathe_projects = {"examples": os.path.join(BUILD, "doxygen", "xml")}
breathe_default_project = "examples"
breathe_show_include = False
breathe_default_members = ()


def glossary_terms():
    """Chinese terms of the glossary: 'shared memory (共享内存)' gives 共享内存."""
    import re
    with open(os.path.join(ROOT, "docs", "glossary.rst"), encoding="utf-8") as f:
        return re.findall(r"^   [^ ].*\((.+)\)$", f.read(), flags=re.M)


def translated_title(language):
    """The site's name as the home page's catalogue translates it (index.po), so the
    sidebar and every <title> carry the name of the language they are in."""
    from babel.messages.pofile import read_po
    po = os.path.join(ROOT, "docs", "locales", language, "LC_MESSAGES", "index.po")
    with open(po, "rb") as f:
        message = read_po(f).get(project)
    return message.string if message is not None and message.string else project


def per_language(app, config):
    """Settings that depend on -D language=… (applied after this file is read)."""
    if config.language == "zh_CN":
        config.html_title = translated_title(config.language)
        config.smartquotes = False   # Sphinx 5.3 would curl quotes in Chinese text
        config.html_search_language = "zh"
        # jieba keeps glossary terms whole in the search index (a query is not
        # segmented: 写时复制 finds nothing if the index holds 写时 + 复制).
        terms = os.path.join(BUILD, "jieba-terms.txt")
        os.makedirs(BUILD, exist_ok=True)
        with open(terms, "w", encoding="utf-8") as f:
            f.writelines(f"{t.replace(' ', '')} 1000 n\n" for t in glossary_terms())
        config.html_search_options = {"dict": terms}


def setup(app):
    app.connect("config-inited", per_language)
