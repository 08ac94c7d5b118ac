/**
 * @file Global setup of the browser suite (`vitest.browser.config.ts`): finds Chromium, bundles the suites
 * and the package entries once, serves them on 127.0.0.1 and hands the details to the test files. Without
 * Chromium the tests are skipped with a message locally and FAIL in CI (CI=true).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { type BrowserEnv, bundle, checkDist, findChromium, serve } from "./harness.js";

declare module "vitest" {
  export interface ProvidedContext {
    browserEnv: BrowserEnv;
  }
}

const INSTALL = "install it with `apt-get install chromium` (Debian) or set CHROMIUM_PATH";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const executablePath = findChromium();
  const ci = process.env.CI === "true" || process.env.CI === "1";
  if (executablePath === undefined) {
    if (ci) throw new Error(`browser tests: Chromium not found and CI is set; ${INSTALL}`);
    const skipReason = `Chromium not found: the browser tests are SKIPPED; ${INSTALL}`;
    console.warn(`\n*** ${skipReason} ***\n`);
    project.provide("browserEnv", { skipReason, executablePath: "", baseUrl: "", from: "dist", entries: {} });
    return async () => {};
  }
  const from = process.env.TSADJOINT_BROWSER_FROM === "source" ? "source" : "dist";
  if (from === "dist") checkDist();
  const dir = await mkdtemp(join(tmpdir(), "tsadjoint-browser-"));
  const entries = await bundle(dir, from);
  const { url, server } = await serve(dir);
  project.provide("browserEnv", { skipReason: "", executablePath, baseUrl: url, from, entries });
  return async () => {
    await new Promise((done) => server.close(done));
    await rm(dir, { recursive: true, force: true });
  };
}
