// The built site in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): every page of both languages loads without console errors or
// failed requests, the language switcher lands on the same page, search finds an
// English and a Chinese term, and the theme's JavaScript works.
//   SITE_DIR=build/site node --test tests/browser/
import { test, describe, it } from "node:test";
import assert from "node:assert/strict";
import { sitePages, openPage, siteSession } from "./lib.mjs";

const session = siteSession();

// Both languages at once, each in its own renderer process.
describe("every page loads cleanly", { concurrency: 2 }, () => {
  for (const lang of ["en", "zh_CN"]) {
    const other = lang === "en" ? "zh_CN" : "en";
    it(`every ${lang} page loads cleanly and links the same page in ${other}`, async () => {
      const pages = sitePages(lang);
      assert.ok(pages.length > 3, `only ${pages.length} pages found in ${lang}`);
      const problems = [];
      const page = await session.browser.newPage();
      for (const path of pages) {
        const errors = await openPage(page, session.server.url(path));
        problems.push(...errors.map((e) => `${path}: ${e}`));
        // Code, commands and output must carry translate="no".
        const untagged = await page.$$eval("pre", (pres) =>
          pres.filter((p) => !p.closest('[translate="no"]')).length);
        if (untagged) problems.push(`${path}: ${untagged} <pre> without translate="no"`);
        // The language switcher points at this very page in the other language.
        const target = await page.$eval(".sidebar-language a", (a) => new URL(a.href).pathname)
          .catch(() => "(no language switcher)");
        const expected = "/" + path.replace(`${lang}/`, `${other}/`);
        if (target !== expected) problems.push(`${path}: switcher goes to ${target}`);
      }
      await page.close();
      assert.deepEqual(problems, []);
    });
  }
});

for (const lang of ["en", "zh_CN"]) {
  const other = lang === "en" ? "zh_CN" : "en";
  test(`clicking the ${lang} language switcher lands on the same page`, async () => {
    const page = await session.browser.newPage();
    // A source page: what a RUN_OF shown on another page links to.
    for (const path of [`${lang}/index.html`, `${lang}/00_basics/creating_process.html`,
                        `${lang}/source/07_integration/mpi_mapreduce.html`]) {
      const response = await page.goto(session.server.url(path));
      assert.ok(response && response.ok(), `${path}: no such page`);
      const expected = "/" + path.replace(`${lang}/`, `${other}/`);
      await page.click(".sidebar-language a");
      await page.waitForURL((url) => url.pathname === expected, { waitUntil: "load" });
      assert.equal(new URL(page.url()).pathname, expected, `from ${path}`);
    }
    await page.close();
  });
}

test("search finds English and Chinese terms, glossary terms whole", async () => {
  const page = await session.browser.newPage();
  for (const [lang, term] of [["en", "fork"], ["zh_CN", "进程"], ["zh_CN", "共享内存"],
                              ["zh_CN", "写时复制"], ["zh_CN", "僵尸进程"]]) {
    await page.goto(session.server.url(`${lang}/search.html?q=${encodeURIComponent(term)}`));
    await page.waitForSelector("#search-results ul.search li", { timeout: 15000 })
      .catch(() => assert.fail(`no search result for ${term} in ${lang}`));
    const hits = await page.$$eval("#search-results ul.search li", (l) => l.length);
    assert.ok(hits > 0, `no search result for ${term} in ${lang}`);
  }
  await page.close();
});

test("theme strings are Chinese on Chinese pages and the theme toggle works", async () => {
  const page = await session.browser.newPage();
  await page.goto(session.server.url("zh_CN/index.html"));
  const footer = await page.textContent(".related-pages");
  assert.match(footer, /下一页/);
  // furo.js works only if Debian's packaging bug was fixed (tools/furo_fix.py).
  const before = await page.getAttribute("body", "data-theme");
  await page.click(".content-icon-container .theme-toggle");
  const afterClick = await page.getAttribute("body", "data-theme");
  assert.notEqual(afterClick, before);
  await page.close();
});

test("the root page sends a Chinese reader to Chinese and others to English", async () => {
  for (const [locale, expected] of [["zh-CN", "/zh_CN/index.html"], ["en-US", "/en/index.html"],
                                    ["de-DE", "/en/index.html"]]) {
    const context = await session.browser.newContext({ locale });
    const page = await context.newPage();
    await page.goto(session.server.url("index.html"));
    await page.waitForURL(`**${expected}`);
    assert.equal(new URL(page.url()).pathname, expected);
    await context.close();
  }
});
