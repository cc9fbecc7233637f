// At phone width (390 px) no page of either language overflows sideways except
// inside code blocks, and a dark system gets the dark theme (screenshots of both
// schemes are kept for review, site/../screenshots).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { sitePages, siteSession, SHOTS } from "./lib.mjs";

const session = siteSession();

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
