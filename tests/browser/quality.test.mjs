// Accessibility (axe-core, every page, both languages), phone width and dark mode
// (no horizontal overflow except inside code blocks; screenshots kept for review),
// and page weight (HTML size and total transfer per page; chapter pages <= 150 KB).
import { test, describe, it } from "node:test";
import assert from "node:assert/strict";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { sitePages, SITE_DIR, siteSession, SHOTS } from "./lib.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
// Pages show the whole code they teach (a 90-line program is about 10 KB of
// highlighted HTML, its output and verification about 5 KB more), so the budget is
// set for a page of several programs; prose and theme are about 40 KB of it.
const MAX_PAGE_HTML = 150 * 1024;
// Named exceptions, each with the reason and the issue that removes it. (None now: the
// capstone pool, 276 KB when its whole 1,739-line file was inline, is one header shown
// by regions and offered as a download, issue 15.)
const HEAVY_ALLOWED = {};
const session = siteSession();

// One pass over every page per language runs axe and measures the page's weight;
// the weight limit is asserted afterwards, over both languages. The two passes run
// at once, each in its own renderer process: axe is most of this file's time.
const weights = [];
describe("axe, both languages at once", { concurrency: 2 }, () => {
  for (const lang of ["en", "zh_CN"]) {
    it(`finds no accessibility violation on any ${lang} page`, async () => {
      const page = await session.browser.newPage();
      const found = [];
      for (const path of sitePages(lang)) {
        await page.goto(session.server.url(path), { waitUntil: "load" });
        const transfer = await page.evaluate(() => performance.getEntriesByType("resource")
          .reduce((sum, r) => sum + (r.transferSize || r.encodedBodySize || 0), 0)
          + (performance.getEntriesByType("navigation")[0]?.transferSize ?? 0));
        weights.push({ path, html: statSync(join(SITE_DIR, path)).size, transfer });
        await page.addScriptTag({ path: AXE });
        const violations = await page.evaluate(async () =>
          (await window.axe.run(document, { resultTypes: ["violations"] })).violations
            .map((v) => `${v.id} (${v.nodes.length}): ${v.nodes[0].target.join(" ")}`));
        found.push(...violations.map((v) => `${path}: ${v}`));
      }
      await page.close();
      assert.deepEqual(found, []);
    });
  }
});

test("at phone width nothing overflows except code blocks; dark mode applies", async () => {
  const overflowing = [];
  const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 };
  const light = await session.browser.newContext({ ...phone, colorScheme: "light" });
  const page = await light.newPage();
  for (const lang of ["en", "zh_CN"]) {
    for (const path of sitePages(lang)) {
      await page.goto(session.server.url(path), { waitUntil: "load" });
      const wide = await page.evaluate(() => {
        const limit = document.documentElement.clientWidth;
        const bad = [];
        for (const el of document.querySelectorAll("article *")) {
          if (el.closest("pre, .highlight, .table-wrapper, .cpp-example-output, table.indextable, .timeline-scroll")) continue;
          const r = el.getBoundingClientRect();
          if (r.width > 0 && r.right > limit + 1) bad.push(`${el.tagName.toLowerCase()}.${el.className}`);
        }
        return { page: document.documentElement.scrollWidth > limit, bad: bad.slice(0, 3) };
      });
      if (wide.page || wide.bad.length) overflowing.push(`${path}: ${wide.bad.join(", ")}`);
    }
  }
  // Screenshots to look at, in both schemes; a dark system gets a dark page
  // ("auto" theme: Debian's furo.css lacked it, tools/furo_fix.py restores it).
  const dark = await session.browser.newContext({ ...phone, colorScheme: "dark" });
  const darkPage = await dark.newPage();
  for (const lang of ["en", "zh_CN"]) {
    for (const [scheme, p] of [["light", page], ["dark", darkPage]]) {
      await p.goto(session.server.url(`${lang}/00_basics/creating_process.html`));
      await p.screenshot({ path: join(SHOTS, `${lang}-phone-${scheme}.png`) });
    }
    const bg = await darkPage.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(bg, "rgb(255, 255, 255)", `${lang}: a dark system got a light page`);
  }
  await light.close();
  await dark.close();
  assert.deepEqual(overflowing, []);
});

test("page weight: report per page, chapter pages at most 150 KB of HTML", () => {
  assert.ok(weights.length > 0, "the axe pass measured no page");
  const report = weights.map((r) => `${String(Math.round(r.html / 1024)).padStart(5)} KB html ` +
    `${String(Math.round(r.transfer / 1024)).padStart(6)} KB total  ${r.path}`).join("\n");
  writeFileSync(join(SITE_DIR, "..", "page-weight.txt"), report + "\n");
  console.log(report);
  // Chapter pages; the generated full-source pages (source/...) hold one listing each.
  const limit = (path) => HEAVY_ALLOWED[path.replace(/^[^/]+\//, "")] ?? MAX_PAGE_HTML;
  const heavy = weights.filter((r) => /^[^/]+\/\d\d_[^/]+\//.test(r.path) && r.html > limit(r.path));
  assert.deepEqual(heavy.map((r) => `${r.path}: ${Math.round(r.html / 1024)} KB`), []);
});
