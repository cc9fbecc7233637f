// Shared by the browser tests: a static server for the built site, Debian's
// Chromium, the list of pages, and loading a page while collecting its errors.
import { createServer } from "node:http";
import { readFileSync, readdirSync, statSync, existsSync, mkdirSync } from "node:fs";
import { before, after } from "node:test";
import { join, extname, resolve, relative } from "node:path";
import { chromium } from "playwright-core";

export const SITE_DIR = resolve(process.env.SITE_DIR ?? new URL("../../build/site", import.meta.url).pathname);
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
  ".svg": "image/svg+xml", ".png": "image/png", ".json": "application/json", ".txt": "text/plain",
  ".cpp": "text/plain; charset=utf-8", ".woff2": "font/woff2" };

export function serveSite() {
  if (!existsSync(join(SITE_DIR, "index.html"))) {
    throw new Error(`no site in ${SITE_DIR}: build it first (tools/site.sh --no-serve)`);
  }
  return new Promise((ready) => {
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      const file = join(SITE_DIR, path.endsWith("/") ? path + "index.html" : path);
      if (!file.startsWith(SITE_DIR) || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(readFileSync(file));
    });
    server.listen(0, "127.0.0.1", () => {
      server.url = (path) => `http://127.0.0.1:${server.address().port}/${path}`;
      ready(server);
    });
  });
}

// Where the tests keep screenshots for review: next to the built site.
export const SHOTS = join(SITE_DIR, "..", "screenshots");

// The site served and Chromium started before a test file's tests, both stopped after
// them. The returned session's server and browser are set once the tests run.
export function siteSession() {
  const session = {};
  before(async () => {
    session.server = await serveSite();
    session.browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await session.browser?.close();
    session.server?.close();
  });
  return session;
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

// Every HTML page of one language, as paths relative to the site root.
export function sitePages(lang) {
  const pages = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (name.startsWith("_")) continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith(".html")) pages.push(relative(SITE_DIR, full));
    }
  };
  walk(join(SITE_DIR, lang));
  return pages.sort();
}

// Load url in page; return the console errors, page errors and failed requests.
export async function openPage(page, url) {
  const errors = [];
  const onConsole = (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); };
  const onError = (e) => errors.push(`page error: ${e.message}`);
  const onResponse = (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); };
  const onFailed = (r) => errors.push(`request failed: ${r.url()}`);
  page.on("console", onConsole);
  page.on("pageerror", onError);
  page.on("response", onResponse);
  page.on("requestfailed", onFailed);
  await page.goto(url, { waitUntil: "load" });
  await page.waitForTimeout(50);   // let deferred scripts run and report
  page.off("console", onConsole);
  page.off("pageerror", onError);
  page.off("response", onResponse);
  page.off("requestfailed", onFailed);
  return errors;
}
