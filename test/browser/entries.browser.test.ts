import { builtinModules } from "node:module";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type BrowserSession, importEntryInBrowser, openBrowser, packageEntries } from "./harness.js";

const env = inject("browserEnv");
const entries = await packageEntries();
const nodeBuiltins = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);

describe.skipIf(env.skipReason !== "")("every package entry loads in Chromium with no Node built-ins", () => {
  let session: BrowserSession;
  beforeAll(async () => {
    session = await openBrowser(env);
    console.info(
      `entries (bundled from ${env.from}): ${entries.map((e) => `${e} ${(env.entries[e].bytes / 1024).toFixed(0)} KiB`).join(", ")}`,
    );
  });
  afterAll(async () => {
    await session?.browser.close();
  });

  it("package.json exports the six entries (and any added later is covered here)", () => {
    expect(entries).toEqual(
      expect.arrayContaining([
        "tsadjoint",
        "tsadjoint/numpy",
        "tsadjoint/optimize",
        "tsadjoint/solve",
        "tsadjoint/jax",
        "tsadjoint/tfjs",
      ]),
    );
  });

  for (const entry of entries) {
    it(`${entry}: bundled for the browser from ${env.from}/ without a Node built-in`, () => {
      const { inputs } = env.entries[entry];
      expect(inputs.length).toBeGreaterThan(0);
      // esbuild (platform "browser") fails on a Node built-in import; this also catches a shimmed one
      expect(inputs.filter((input) => nodeBuiltins.has(input) || input.startsWith("node:"))).toEqual([]);
      // "(disabled):fs" and the like: a dependency's package.json "browser" field maps a Node module to an
      // empty one (TensorFlow.js does so for fs, util and crypto); nothing of Node is bundled or needed
      const own = inputs.filter(
        (input) => !input.includes("node_modules/") && !input.startsWith("(disabled):"),
      );
      expect(
        own.every((input) => input.startsWith(env.from === "dist" ? "dist/" : "src/") || input === "<stdin>"),
      ).toBe(true);
    });

    it(`${entry}: imports in Chromium with the same exports as in Node`, async () => {
      const inBrowser = await importEntryInBrowser(session, env, entry);
      const inNode = Object.keys(await import(/* @vite-ignore */ entry)).sort();
      expect(inBrowser).toEqual(inNode);
      expect(session.errors).toEqual([]);
    });
  }

  it("the core entries bundle no engine (jax-js and TensorFlow.js stay optional)", () => {
    for (const entry of ["tsadjoint", "tsadjoint/numpy", "tsadjoint/optimize", "tsadjoint/solve"]) {
      const engines = env.entries[entry].inputs.filter((input) => /@jax-js|@tensorflow/.test(input));
      expect(engines, entry).toEqual([]);
    }
  });
});
