// HTML validity: the Nu Html Checker (vnu.jar, run on the installed Java) over
// every page of both languages, 0 errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { SITE_DIR } from "./lib.mjs";

const VNU = createRequire(import.meta.url).resolve("vnu-jar/build/dist/vnu.jar");

test("vnu reports no HTML error in the built site", () => {
  // vnu writes its JSON report to stderr and exits 1 when it finds errors.
  const run = spawnSync("java", ["-jar", VNU, "--errors-only", "--format", "json",
    "--skip-non-html", SITE_DIR], { encoding: "utf8" });
  assert.ok(run.status === 0 || run.status === 1, `vnu failed to run: ${run.stderr || run.error}`);
  const messages = JSON.parse(run.stderr).messages
    .filter((m) => m.type === "error")
    .map((m) => `${m.url.replace(/^.*\/site\//, "")}:${m.lastLine}: ${m.message}`);
  console.log(`vnu: ${messages.length} errors`);
  assert.deepEqual(messages, []);
});
