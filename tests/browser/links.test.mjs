// Every internal link and anchor of the built site resolves, in both languages
// (no browser needed: the pages are static files).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { sitePages, SITE_DIR } from "./lib.mjs";

const idCache = new Map();
function idsOf(file) {
  if (!idCache.has(file)) {
    const html = readFileSync(file, "utf8");
    idCache.set(file, new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])));
  }
  return idCache.get(file);
}

for (const lang of ["en", "zh_CN"]) {
  test(`no broken internal link or anchor in ${lang}`, () => {
    const broken = [];
    let checked = 0;
    for (const page of sitePages(lang)) {
      const file = join(SITE_DIR, page);
      const html = readFileSync(file, "utf8");
      for (const [, href] of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
        if (/^(https?:|mailto:|data:|javascript:)/.test(href) || href === "") continue;
        const [pathPart, anchor] = href.replace(/&amp;/g, "&").split("#");
        const target = pathPart === "" ? file
          : normalize(join(dirname(file), decodeURIComponent(pathPart.split("?")[0])));
        const resolved = existsSync(target) && statSync(target).isDirectory()
          ? join(target, "index.html") : target;
        checked++;
        if (!existsSync(resolved)) broken.push(`${page}: ${href} (no file)`);
        else if (anchor && resolved.endsWith(".html") && !idsOf(resolved).has(decodeURIComponent(anchor)))
          broken.push(`${page}: ${href} (no anchor)`);
      }
    }
    assert.ok(checked > 100, `only ${checked} links checked`);
    assert.deepEqual(broken, []);
  });
}
