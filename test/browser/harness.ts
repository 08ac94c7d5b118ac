/**
 * @file The Node side of the browser suite: finds Chromium, bundles the suites and every package entry for
 * the browser with esbuild (from the built `dist/`, i.e. what a consumer of the package gets; or from the
 * TypeScript sources with `TSADJOINT_BROWSER_FROM=source`), serves them from a local static server on
 * 127.0.0.1, and runs a suite function in a real Chromium page driven by playwright-core, returning its JSON
 * result. The suites themselves (`suites/*.ts`) are plain library code that also runs in Node.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { delimiter, join, resolve } from "node:path";
import * as esbuild from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";

export { serve } from "../../playground/serve.js";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "../..");

/** The suites bundled for the browser: test/browser/suites/<name>.ts. */
export const SUITES = ["core", "numpy", "solve", "optimize", "jax", "tfjs"] as const;
export type SuiteName = (typeof SUITES)[number];

/** What the global setup hands to the test files (through vitest's `provide` / `inject`). */
export interface BrowserEnv {
  /** Why the browser tests are skipped (Chromium missing outside CI), or "" when they run. */
  skipReason: string;
  /** The Chromium executable. */
  executablePath: string;
  /** Base URL of the static server holding the bundles. */
  baseUrl: string;
  /** Whether the bundles were built from dist/ ("dist") or from the TypeScript sources ("source"). */
  from: "dist" | "source";
  /** Per package entry ("tsadjoint", "tsadjoint/numpy", ...): its bundle file and the modules bundled. */
  entries: Record<string, { file: string; inputs: string[]; bytes: number }>;
}

/** Chromium's command-line flags: no sandbox (root in a container), WebGL on SwiftShader when no GPU. */
export const CHROMIUM_ARGS = ["--no-sandbox", "--enable-unsafe-swiftshader", "--enable-unsafe-webgpu"];

/**
 * The Chromium executable: `$CHROMIUM_PATH`, else the first of chromium, chromium-browser, google-chrome
 * on the PATH (Debian's `apt-get install chromium` puts it at /usr/bin/chromium).
 *
 * @example
 * findChromium(); // "/usr/bin/chromium" or undefined
 */
export function findChromium(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Throws unless dist/ exists and is at least as new as src/ (the bundles are built from dist/).
 *
 * @example
 * checkDist(); // after `npm run build`
 */
export function checkDist(): void {
  const index = join(ROOT, "dist/index.js");
  if (!existsSync(index)) {
    throw new Error("dist/ is missing: run `npm run build` first (`npm run test:browser` does)");
  }
  if (newestMtime(join(ROOT, "src")) > newestMtime(join(ROOT, "dist"))) {
    throw new Error("dist/ is older than src/: run `npm run build` first (`npm run test:browser` does)");
  }
}

/** The package's export names ("tsadjoint", "tsadjoint/numpy", ...) from package.json. */
export async function packageEntries(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
    name: string;
    exports: Record<string, unknown>;
  };
  return Object.keys(pkg.exports)
    .filter((key) => !key.endsWith(".json")) // "./package.json" is metadata, not a module
    .map((key) => (key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`));
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>tsadjoint browser suite</title></head>
<body><p>tsadjoint browser suite</p></body></html>
`;

/**
 * Bundles every suite and every package entry for the browser (esbuild, platform "browser": a Node
 * built-in anywhere in the graph is a build error) into `outDir`, plus the page that loads them.
 *
 * @example
 * const entries = await bundle("/tmp/bundles", "dist");
 */
export async function bundle(outDir: string, from: "dist" | "source"): Promise<BrowserEnv["entries"]> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, "index.html"), PAGE);
  const common: esbuild.BuildOptions = {
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    conditions: from === "source" ? ["tsadjoint-source"] : [],
    absWorkingDir: ROOT,
    sourcemap: "inline",
    logLevel: "silent",
    metafile: true,
  };
  await esbuild.build({
    ...common,
    entryPoints: SUITES.map((name) => ({ in: `test/browser/suites/${name}.ts`, out: `suite-${name}` })),
    outdir: outDir,
  });
  const entries: BrowserEnv["entries"] = {};
  for (const entry of await packageEntries()) {
    const file = `entry-${entry.replaceAll("/", "-")}.js`;
    const result = await esbuild.build({
      ...common,
      sourcemap: false,
      stdin: { contents: `export * from ${JSON.stringify(entry)};`, resolveDir: ROOT, loader: "js" },
      outfile: join(outDir, file),
    });
    const output = Object.values(result.metafile?.outputs ?? {})[0];
    entries[entry] = { file, inputs: Object.keys(result.metafile?.inputs ?? {}), bytes: output?.bytes ?? 0 };
  }
  return entries;
}

/** A launched Chromium with one page on the suite server, and the console errors it reported. */
export interface BrowserSession {
  browser: Browser;
  page: Page;
  /** Uncaught page errors and console.error messages seen so far. */
  errors: string[];
  /** Console messages of any level seen so far. */
  messages: string[];
}

/**
 * Launches Chromium (headless, `executablePath`) and opens the suite page.
 *
 * @example
 * const session = await openBrowser(env);
 */
export async function openBrowser(env: BrowserEnv): Promise<BrowserSession> {
  const browser = await chromium.launch({ executablePath: env.executablePath, args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  const errors: string[] = [];
  const messages: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    messages.push(`${message.type()}: ${message.text()}`);
    if (message.type() === "error") errors.push(`console.error: ${message.text()}`);
  });
  await page.goto(`${env.baseUrl}/index.html`);
  return { browser, page, errors, messages };
}

/** A suite function's result in the browser and its run time there. */
export interface BrowserRun<T> {
  result: T;
  /** Wall time of the call in the page (performance.now), milliseconds. */
  ms: number;
}

/**
 * Imports a bundled suite in the page and calls one of its exported functions with JSON arguments; the
 * (structured-cloned) return value comes back to Node.
 *
 * @example
 * const { result } = await runInBrowser<CoreResult>(session, "core", "run");
 */
export async function runInBrowser<T>(
  session: BrowserSession,
  suite: SuiteName,
  fn: string,
  args: readonly unknown[] = [],
): Promise<BrowserRun<T>> {
  // a string, not a function: vitest's transform would rewrite a function's dynamic import()
  const call = `(async () => {
    const module = await import(${JSON.stringify(`/suite-${suite}.js`)});
    const start = performance.now();
    const result = await module[${JSON.stringify(fn)}](...${JSON.stringify(args)});
    return { result, ms: performance.now() - start };
  })()`;
  return (await session.page.evaluate(call)) as BrowserRun<T>;
}

/**
 * Imports a bundled package entry in the page and returns its export names (sorted).
 *
 * @example
 * await importEntryInBrowser(session, env, "tsadjoint/solve"); // ["CsrMatrix", ...]
 */
export async function importEntryInBrowser(
  session: BrowserSession,
  env: BrowserEnv,
  entry: string,
): Promise<string[]> {
  const url = JSON.stringify(`/${env.entries[entry].file}`);
  return (await session.page.evaluate(`import(${url}).then((m) => Object.keys(m).sort())`)) as string[];
}
