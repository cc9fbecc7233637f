#!/usr/bin/python3
"""Make working copies of Debian furo's static files (see TOOLCHAIN.md).

    furo_fix.py OUTDIR

Debian's furo 2022.12.07 ships furo.js as an ES module that a classic <script>
cannot load (it imports gumshoe-patched.js), and furo.css starts with an @import of
/javascript/normalize.css/normalize.css, a 404 on any normal web server. We write
OUTDIR/scripts/furo.js (gumshoe + furo in one classic script) and
OUTDIR/styles/furo.css (normalize.css inlined). Debian's furo.css also lacks the
"auto" theme's dark colours (the prefers-color-scheme block that upstream furo
compiles from the same variables), so a reader whose system is dark got a light
page: we restore it from the data-theme="dark" block. conf.py lists OUTDIR in
html_static_path, whose files override the theme's files of the same name.
"""
import os
import re
import sys

import furo

THEME_STATIC = os.path.join(os.path.dirname(furo.__file__), "theme", "furo", "static")
NORMALIZE = "/usr/share/javascript/normalize.css/normalize.css"
IMPORT_JS = 'import Gumshoe from "./gumshoe-patched.js";'
IMPORT_CSS = "@import url(/javascript/normalize.css/normalize.css);"
DARK_VARIABLES = re.compile(r'@media not print \{\s*body\[data-theme="dark"\] \{([^{}]*)\}')
AUTO_DARK = """
/* Restored by tools/furo_fix.py: dark colours when the reader's system is dark. */
@media not print {
  @media (prefers-color-scheme: dark) {
    body:not([data-theme="light"]) {%s}
    html body:not([data-theme="light"]) .only-light { display: none !important; }
    body:not([data-theme="light"]) .only-dark { display: block !important; }
  }
}
"""


def read(*parts):
    with open(os.path.join(*parts), encoding="utf-8") as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        print("usage: furo_fix.py OUTDIR", file=sys.stderr)
        return 2
    out = sys.argv[1]
    script = read(THEME_STATIC, "scripts", "furo.js")
    css = read(THEME_STATIC, "styles", "furo.css")
    dark = DARK_VARIABLES.search(css)
    if IMPORT_JS not in script or IMPORT_CSS not in css or not dark:
        print("furo_fix.py: furo's files are not the ones this fix was written for; "
              "check whether the packaging bug is gone", file=sys.stderr)
        return 1
    # The UMD wrapper of gumshoe sets window.Gumshoe when loaded as a classic script.
    gumshoe = read(THEME_STATIC, "scripts", "gumshoe-patched.js")
    write(os.path.join(out, "scripts", "furo.js"),
          gumshoe + "\n" + script.replace(IMPORT_JS, "// Gumshoe: bundled above\n"))
    if "prefers-color-scheme" not in css:
        css += AUTO_DARK % dark.group(1)
    write(os.path.join(out, "styles", "furo.css"),
          css.replace(IMPORT_CSS, read(NORMALIZE)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
