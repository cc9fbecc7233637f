#!/usr/bin/python3
"""Chinese catalogues: keep them in step with the English pages, and check them.

    i18n.py update [DOCS_PREFIX...]   extract messages (sphinx gettext) and merge them
                                      into docs/locales/zh_CN/LC_MESSAGES/<page>.po
    i18n.py check  [DOCS_PREFIX...]   fail unless every message of every page is
                                      translated and none is fuzzy, and every message
                                      the English page has now is in its catalogue
                                      (a stale catalogue shows English on the site)

A prefix such as docs/03_pools limits either command to the pages under it.
"""
import glob
import os
import subprocess
import sys
import tempfile

from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
CATALOGUE = os.path.join(DOCS, "locales", "zh_CN", "LC_MESSAGES")
THEME_CATALOGUE = "sphinx"   # sphinx.po: furo's and Sphinx's own strings


def selected(page, prefixes):
    """page is a docs-relative path without extension, e.g. 03_pools/index."""
    if not prefixes:
        return True
    for prefix in prefixes:
        rel = os.path.relpath(os.path.abspath(prefix), DOCS)
        if rel == "." or page == rel or page.startswith(rel.rstrip("/") + "/"):
            return True
    return False


def run(command):
    result = subprocess.run(command, text=True, capture_output=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"i18n.py: {command[0]} failed (exit {result.returncode})")
    return result


def uses_breathe():
    for path in glob.glob(os.path.join(DOCS, "**", "*.rst"), recursive=True):
        with open(path, encoding="utf-8") as f:
            if ".. doxygen" in f.read():
                return True
    return False


def extract(pot_dir):
    """The English pages' messages now: sphinx-build -b gettext into pot_dir."""
    build = os.environ.get("TUTORIAL_BUILD_DIR", os.path.join(ROOT, "build"))
    # Without Doxygen's XML, Breathe renders nothing and the Doxygen messages would
    # be missing (dropped from the catalogues as obsolete): refuse instead.
    if uses_breathe() and not os.path.isfile(os.path.join(build, "doxygen", "xml", "index.xml")):
        sys.exit(f"i18n.py: {build}/doxygen/xml is missing; run `cmake --build "
                 f"{os.path.relpath(build)} --target docs-inputs` first "
                 "(or set TUTORIAL_BUILD_DIR to your build directory)")
    env = dict(os.environ, TUTORIAL_BUILD_DIR=build)
    result = subprocess.run(
        ["/usr/bin/sphinx-build", "-b", "gettext", "-q", "-c", ROOT,
         "-d", os.path.join(pot_dir, ".doctrees"), DOCS, pot_dir],
        env=env, text=True, capture_output=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit("i18n.py: sphinx-build -b gettext failed")
    return sorted(glob.glob(os.path.join(pot_dir, "**", "*.pot"), recursive=True))


def update(prefixes):
    with tempfile.TemporaryDirectory(prefix="gettext-") as pot_dir:
        pots = extract(pot_dir)
        changed = 0
        for pot in pots:
            page = os.path.relpath(pot, pot_dir)[:-4]
            if not selected(page, prefixes):
                continue
            po = os.path.join(CATALOGUE, page + ".po")
            os.makedirs(os.path.dirname(po), exist_ok=True)
            if os.path.exists(po):
                run(["msgmerge", "--quiet", "--update", "--backup=none", "--previous",
                     po, pot])
                run(["msgattrib", "--no-obsolete", "-o", po, po])
            else:
                run(["msginit", "--no-translator", "--locale=zh_CN.UTF-8",
                     "-i", pot, "-o", po])
                print(f"new catalogue: {os.path.relpath(po, ROOT)}")
            changed += 1
        print(f"i18n.py: merged {changed} page catalogue(s) into "
              f"{os.path.relpath(CATALOGUE, ROOT)}")


def pages():
    return sorted(os.path.relpath(p, DOCS)[:-4]
                  for p in glob.glob(os.path.join(DOCS, "**", "*.rst"), recursive=True)
                  if "/_" not in os.path.relpath(p, DOCS) and
                  not os.path.relpath(p, DOCS).startswith("_"))


def check(prefixes):
    failures, total_messages, done_messages = [], 0, 0
    wanted = [p for p in pages() if selected(p, prefixes)]
    with tempfile.TemporaryDirectory(prefix="gettext-") as pot_dir:
        now = {os.path.relpath(pot, pot_dir)[:-4]: {m.id for m in read_po(open(pot, "rb")) if m.id}
               for pot in extract(pot_dir)}
    if not prefixes:
        wanted.append(THEME_CATALOGUE)
    for page in wanted:
        po = os.path.join(CATALOGUE, page + ".po")
        if not os.path.exists(po):
            failures.append(f"{page}: no catalogue ({os.path.relpath(po, ROOT)}); "
                            "run tools/i18n.py update")
            continue
        with open(po, "rb") as f:
            catalog = read_po(f)
        messages = [m for m in catalog if m.id]
        stale = now.get(page, set()) - {m.id for m in messages}
        if stale:
            failures.append(f"{page}: {len(stale)} message(s) of the page are not in its "
                            f"catalogue, so the Chinese page shows them in English (first: "
                            f"{str(sorted(stale, key=str)[0])[:60]!r}); run tools/i18n.py update")
            continue
        untranslated = [m for m in messages if not m.fuzzy and not m.string]
        fuzzy = [m for m in messages if m.fuzzy]
        total_messages += len(messages)
        done_messages += len(messages) - len(untranslated) - len(fuzzy)
        if untranslated or fuzzy:
            first = (untranslated or fuzzy)[0].id
            failures.append(f"{page}: {len(untranslated)} untranslated, {len(fuzzy)} "
                            f"fuzzy of {len(messages)} (first: {str(first)[:60]!r})")
    for failure in failures:
        print("FAIL " + failure)
    percent = 100.0 * done_messages / total_messages if total_messages else 0.0
    print(f"zh_CN: {len(wanted)} catalogues, {total_messages} messages, "
          f"{done_messages} translated ({percent:.1f}%)")
    print(f"{len(wanted) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures or not wanted else 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("update", "check"):
        print("usage: i18n.py update|check [DOCS_PREFIX...]\n\n" + __doc__.strip(),
              file=sys.stderr)
        return 2
    for prefix in sys.argv[2:]:
        if not os.path.isdir(prefix) and not os.path.isfile(prefix + ".rst"):
            print(f"i18n.py: {prefix}: no such folder or page", file=sys.stderr)
            return 2
    if sys.argv[1] == "update":
        update(sys.argv[2:])
        return 0
    return check(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
