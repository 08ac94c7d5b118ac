/**
 * @file The WebAssembly SIMD exp / log / pow kernels in Chromium: the module compiles synchronously on the
 * page's main thread when the kernels' module loads (it is under Chromium's 4 KB limit), the wasm path is
 * taken, and it gives bit for bit the JavaScript kernels' doubles, which are also Node's. The kernels'
 * module is bundled on its own (from dist/ like the other suites, or from the sources) and driven by one
 * self-contained function that runs unchanged in the page and in Node.
 */
import { join } from "node:path";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import * as kernels from "../../src/ops/kernels/transcendental.js";
import { type BrowserSession, openBrowser, ROOT } from "./harness.js";

const env = inject("browserEnv");

type Kernels = Pick<
  typeof kernels,
  "expInto" | "logInto" | "powInto" | "powScalarExponentInto" | "transcendentalBackend" | "useWasmKernels"
>;

interface KernelReport {
  backend: string;
  /** Per kernel: entries whose bits differ between the wasm and the JavaScript path. */
  differences: Record<string, number>;
  /** Per kernel: a hash of the wasm path's bits (to compare Chromium with Node). */
  hashes: Record<string, string>;
  /** Per kernel: the wasm path's time / the JavaScript path's (fastest of 5 runs each). */
  ratios: Record<string, number>;
}

/**
 * Runs each kernel on n seeded inputs (ordinary ranges, uniform bit patterns and special values) on the
 * wasm path and on the JavaScript path. Self-contained (no outer bindings): its source is evaluated in
 * the page as is. The inputs use no Math.* function (their last bits may differ between engines).
 */
function compareKernels(k: Kernels, n: number): KernelReport {
  let state = 20261205;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const specials = [
    0,
    -0,
    Infinity,
    -Infinity,
    Number.NaN,
    1,
    -1,
    5e-324,
    2.2250738585072014e-308,
    708,
    -746,
  ];
  const fill = (make: () => number) => {
    const a = new Float64Array(n);
    const words = new Uint32Array(a.buffer);
    for (let i = 0; i < n; i++) {
      const kind = i % 8;
      if (kind === 0) {
        words[2 * i] = Math.floor(random() * 4294967296);
        words[2 * i + 1] = Math.floor(random() * 4294967296);
      } else if (kind === 1 && random() < 0.1) a[i] = specials[Math.floor(random() * specials.length)];
      else a[i] = make();
    }
    return a;
  };
  // positive doubles from 2^-40 to 2^40 built from their bits (Math.exp may differ between V8 versions)
  const bits = new Float64Array(1);
  const bitWords = new Uint32Array(bits.buffer);
  const x = fill(() => {
    bitWords[0] = Math.floor(random() * 4294967296);
    bitWords[1] = ((983 + Math.floor(random() * 80)) << 20) | Math.floor(random() * 1048576);
    return bits[0];
  });
  const e = fill(() => random() * 1500 - 750);
  const y = fill(() => random() * 20 - 10);
  const cases: Record<string, (out: Float64Array) => void> = {
    exp: (out) => k.expInto(e, out),
    log: (out) => k.logInto(x, out),
    powScalar: (out) => k.powScalarExponentInto(x, -0.25, out),
    pow: (out) => k.powInto(x, y, out),
  };
  const report: KernelReport = { backend: "", differences: {}, hashes: {}, ratios: {} };
  const time = (run: () => void) => {
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 5; r++) {
      const start = performance.now();
      run();
      best = Math.min(best, performance.now() - start);
    }
    return best;
  };
  for (const [name, run] of Object.entries(cases)) {
    k.useWasmKernels(true);
    report.backend = k.transcendentalBackend();
    const simd = new Float64Array(n);
    run(simd);
    const simdMs = time(() => run(simd));
    k.useWasmKernels(false);
    const js = new Float64Array(n);
    run(js);
    const jsMs = time(() => run(js));
    k.useWasmKernels(true);
    const a = new Uint32Array(simd.buffer);
    const b = new Uint32Array(js.buffer);
    let differences = 0;
    let hash = 2166136261;
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i] && (i % 2 === 0 || a[i - 1] === b[i - 1])) differences++;
      hash = Math.imul(hash ^ a[i], 16777619) >>> 0;
    }
    report.differences[name] = differences;
    report.hashes[name] = hash.toString(16);
    report.ratios[name] = simdMs / jsMs;
  }
  return report;
}

const N = 200_003;

describe.skipIf(env.skipReason !== "")("the WebAssembly SIMD transcendental kernels in Chromium", () => {
  let session: BrowserSession;
  let browser: KernelReport;
  let node: KernelReport;
  beforeAll(async () => {
    const entry =
      env.from === "dist"
        ? join(ROOT, "dist/ops/kernels/transcendental.js")
        : join(ROOT, "src/ops/kernels/transcendental.ts");
    const bundle = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: "browser",
      format: "iife",
      globalName: "tsadjointTranscendental",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    session = await openBrowser(env);
    // a classic script on the page's main thread: the module compiles synchronously while it loads
    await session.page.addScriptTag({ content: bundle.outputFiles[0].text });
    browser = (await session.page.evaluate(
      `(${compareKernels.toString()})(globalThis.tsadjointTranscendental, ${N})`,
    )) as KernelReport;
    node = compareKernels(kernels, N);
    console.info(
      `transcendental: wasm / JS kernel time in Chromium ${JSON.stringify(browser.ratios)}, Node ${JSON.stringify(node.ratios)}`,
    );
  });
  afterAll(async () => {
    await session?.browser.close();
  });

  it("takes the wasm path on the main thread (synchronous compile, no error)", () => {
    expect(browser.backend).toBe("wasm-simd");
    expect(session.errors).toEqual([]);
  });

  it("gives the JavaScript kernels' bits for every kernel", () => {
    expect(browser.differences).toEqual({ exp: 0, log: 0, powScalar: 0, pow: 0 });
  });

  it("gives Node's bits", () => {
    expect(node.backend).toBe("wasm-simd");
    expect(node.differences).toEqual({ exp: 0, log: 0, powScalar: 0, pow: 0 });
    expect(browser.hashes).toEqual(node.hashes);
  });
});
