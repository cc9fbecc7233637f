// Timelines of traced runs (.. cpp-timeline::): at phone width (390 px) and on a
// desktop, in light and dark mode, in both languages, a timeline's words are legible
// (their colour contrasts with the page's background, 4.5:1 as WCAG asks of text),
// the picture keeps its size and scrolls inside its own box instead of widening the
// page, and its event list opens. Screenshots are kept for review (site/../screenshots).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { siteSession, SHOTS } from "./lib.mjs";

const PAGES = ["00_basics/join_terminate.html", "03_pools/crash_recovery.html"];
const session = siteSession();

for (const [width, name] of [[390, "phone"], [1200, "desktop"]]) {
  for (const scheme of ["light", "dark"]) {
    test(`timelines at ${width} px, ${scheme}: legible, scroll in their box, list opens`, async () => {
      const context = await session.browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme });
      const page = await context.newPage();
      const problems = [];
      for (const lang of ["en", "zh_CN"]) {
        for (const path of PAGES) {
          await page.goto(session.server.url(`${lang}/${path}`), { waitUntil: "load" });
          const figure = page.locator("figure.timeline").first();
          await figure.scrollIntoViewIfNeeded();
          const facts = await figure.evaluate((fig) => {
            const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
            const lum = (c) => {
              const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
              return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
            const bg = getComputedStyle(document.body).backgroundColor;
            const worst = Math.min(...[...fig.querySelectorAll("svg text")].map((t) => ratio(getComputedStyle(t).fill, bg)));
            const box = fig.querySelector(".timeline-scroll");
            const svg = fig.querySelector("svg.timeline").getBoundingClientRect();
            return { worst, svgWidth: svg.width, boxWidth: box.clientWidth, boxScroll: box.scrollWidth,
                     pageWide: document.documentElement.scrollWidth > document.documentElement.clientWidth };
          });
          const where = `${lang}/${path} ${width}px ${scheme}`;
          if (facts.worst < 4.5) problems.push(`${where}: text contrast ${facts.worst.toFixed(2)} < 4.5`);
          if (facts.svgWidth < 630) problems.push(`${where}: picture shrunk to ${facts.svgWidth}px`);
          if (facts.pageWide) problems.push(`${where}: the page scrolls sideways`);
          if (width < 640 && facts.boxScroll <= facts.boxWidth) problems.push(`${where}: its box does not scroll`);
          await page.screenshot({ path: join(SHOTS, `timeline-${lang}-${name}-${scheme}-${path.replace(/\W+/g, "_")}.png`) });
          await figure.locator("details.timeline-events > summary").click();
          const items = await figure.locator("details.timeline-events li").evaluateAll(
            (lis) => lis.filter((li) => li.getBoundingClientRect().height > 0).length);
          if (items < 3) problems.push(`${where}: the opened event list shows ${items} items`);
        }
      }
      await context.close();
      assert.deepEqual(problems, []);
    });
  }
}
