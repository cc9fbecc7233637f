// Accessibility (axe-core, every page, both languages), phone width and dark mode
// (no horizontal overflow except inside code blocks; screenshots kept for review),
// and page weight (HTML size and total transfer per page; chapter pages <= 100 KB).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { serveSite, launchBrowser, sitePages, SITE_DIR } from "./lib.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const SHOTS = join(SITE_DIR, "..", "screenshots");
const MAX_PAGE_HTML = 100 * 1024;
let server, browser;
before(async () => {
  server = await serveSite();
  browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  server?.close();
});

for (const lang of ["en", "zh_CN"]) {
  test(`axe finds no accessibility violation on any ${lang} page`, async () => {
    const page = await browser.newPage();
    const found = [];
    for (const path of sitePages(lang)) {
      await page.goto(server.url(path), { waitUntil: "load" });
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

test("at phone width and in dark mode nothing overflows except code blocks", async () => {
  const overflowing = [];
  for (const scheme of ["light", "dark"]) {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 }, colorScheme: scheme, deviceScaleFactor: 1 });
    const page = await context.newPage();
    for (const lang of ["en", "zh_CN"]) {
      for (const path of sitePages(lang)) {
        await page.goto(server.url(path), { waitUntil: "load" });
        const wide = await page.evaluate(() => {
          const limit = document.documentElement.clientWidth;
          const bad = [];
          for (const el of document.querySelectorAll("article *")) {
            if (el.closest("pre, .highlight, .table-wrapper, .cpp-example-output")) continue;
            const r = el.getBoundingClientRect();
            if (r.width > 0 && r.right > limit + 1) bad.push(`${el.tagName.toLowerCase()}.${el.className}`);
          }
          return { page: document.documentElement.scrollWidth > limit, bad: bad.slice(0, 3) };
        });
        if (wide.page || wide.bad.length) overflowing.push(`${scheme} ${path}: ${wide.bad.join(", ")}`);
      }
      const shot = join(SHOTS, `${lang}-phone-${scheme}.png`);
      await page.goto(server.url(`${lang}/00_basics/creating_process.html`));
      await page.screenshot({ path: shot });
    }
    if (scheme === "dark") {
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.notEqual(bg, "rgb(255, 255, 255)", "dark mode did not apply");
    }
    await context.close();
  }
  assert.deepEqual(overflowing, []);
});

test("page weight: report per page, chapter pages at most 100 KB of HTML", async () => {
  const page = await browser.newPage();
  const rows = [];
  for (const lang of ["en", "zh_CN"]) {
    for (const path of sitePages(lang)) {
      const html = statSync(join(SITE_DIR, path)).size;
      await page.goto(server.url(path), { waitUntil: "load" });
      const transfer = await page.evaluate(() => performance.getEntriesByType("resource")
        .reduce((sum, r) => sum + (r.transferSize || r.encodedBodySize || 0), 0)
        + (performance.getEntriesByType("navigation")[0]?.transferSize ?? 0));
      rows.push({ path, html, transfer });
    }
  }
  await page.close();
  const report = rows.map((r) => `${String(Math.round(r.html / 1024)).padStart(5)} KB html ` +
    `${String(Math.round(r.transfer / 1024)).padStart(6)} KB total  ${r.path}`).join("\n");
  writeFileSync(join(SITE_DIR, "..", "page-weight.txt"), report + "\n");
  console.log(report);
  const heavy = rows.filter((r) => /\/\d\d_[^/]+\//.test(r.path) && r.html > MAX_PAGE_HTML);
  assert.deepEqual(heavy.map((r) => `${r.path}: ${Math.round(r.html / 1024)} KB`), []);
});
