/**
 * @file Builds the playground into a static folder (esbuild; `npm run build:playground` writes
 * playground-dist/) and, with `--serve`, serves it on 127.0.0.1 (`npm run playground`). Everything is
 * bundled: the page works offline once loaded, with no CDN.
 */
import { copyFile, mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import * as esbuild from "esbuild";
import { serve } from "./serve.js";

const ROOT = resolve(import.meta.dirname, "..");

/**
 * Bundles the page and the inference worker (ES modules, code splitting for the engines' lazy imports)
 * into `outDir` with index.html.
 *
 * @example
 * await buildPlayground("playground-dist");
 */
export async function buildPlayground(outDir: string): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [
      { in: "playground/main.ts", out: "main" },
      { in: "playground/worker.ts", out: "worker" },
    ],
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["tsadjoint-source"],
    // the CLI's PNG rendering (a native Node module, imported lazily by renderFigure) is never loaded here
    external: ["@resvg/resvg-js"],
    minify: true,
    sourcemap: true,
    logLevel: "warning",
  });
  await copyFile(join(ROOT, "playground/index.html"), join(outDir, "index.html"));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const outDir = resolve(ROOT, "playground-dist");
  await buildPlayground(outDir);
  console.log(`playground built into ${outDir}`);
  if (process.argv.includes("--serve")) {
    const port = Number(process.env.PORT ?? 5173);
    const { url } = await serve(outDir, port);
    console.log(`playground at ${url}/  (Ctrl-C to stop)`);
  }
}
