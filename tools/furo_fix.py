#!/usr/bin/python3
"""Make working copies of Debian furo's static files (see TOOLCHAIN.md).

    furo_fix.py OUTDIR

Debian's furo 2022.12.07 ships furo.js as an ES module that a classic <script>
cannot load (it imports gumshoe-patched.js), and furo.css starts with an @import of
/javascript/normalize.css/normalize.css, a 404 on any normal web server. We write
OUTDIR/scripts/furo.js (gumshoe + furo in one classic script) and
OUTDIR/styles/furo.css (normalize.css inlined). conf.py lists OUTDIR in
html_static_path, whose files override the theme's files of the same name.
"""
import os
import sys

import furo

THEME_STATIC = os.path.join(os.path.dirname(furo.__file__), "theme", "furo", "static")
NORMALIZE = "/usr/share/javascript/normalize.css/normalize.css"
IMPORT_JS = 'import Gumshoe from "./gumshoe-patched.js";'
IMPORT_CSS = "@import url(/javascript/normalize.css/normalize.css);"


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
    if IMPORT_JS not in script or IMPORT_CSS not in css:
        print("furo_fix.py: furo's files are not the ones this fix was written for; "
              "check whether the packaging bug is gone", file=sys.stderr)
        return 1
    # The UMD wrapper of gumshoe sets window.Gumshoe when loaded as a classic script.
    gumshoe = read(THEME_STATIC, "scripts", "gumshoe-patched.js")
    write(os.path.join(out, "scripts", "furo.js"),
          gumshoe + "\n" + script.replace(IMPORT_JS, "// Gumshoe: bundled above\n"))
    write(os.path.join(out, "styles", "furo.css"),
          css.replace(IMPORT_CSS, read(NORMALIZE)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
