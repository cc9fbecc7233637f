// Accessibility (axe-core, every page, both languages) and page weight (HTML size
// and total transfer per page; chapter pages <= 150 KB). Phone width and dark mode:
// phone.test.mjs.
import { test, describe, it } from "node:test";
import assert from "node:assert/strict";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { sitePages, SITE_DIR, siteSession } from "./lib.mjs";

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
