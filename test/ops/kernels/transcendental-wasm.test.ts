/**
 * @file Tests of the WebAssembly SIMD path of the exp / log / pow kernels (transcendental-wasm.ts, dispatched
 * from transcendental.ts): bit for bit the doubles of the JavaScript kernels (`useWasmKernels(false)`) on 10^6
 * seeded inputs per kernel over every range (uniform bit patterns, subnormals, the overflow/underflow edges,
 * x = 1, negative bases with integer and non-integer exponents, huge and tiny exponents, NaN, ±Infinity, ±0),
 * on odd lengths and offsets around the chunk size and the dispatch thresholds, in place; the silent fallback
 * when WebAssembly is missing; and the committed binary against a rebuild from wasm/.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  expInto,
  logInto,
  logRun,
  powInto,
  powRun,
  powScalarExponentInto,
  powScalarExponentRun,
  transcendentalBackend,
  useWasmKernels,
} from "../../../src/ops/kernels/transcendental.js";
import { instantiateTranscendentalWasm } from "../../../src/ops/kernels/transcendental-wasm.js";
import {
  TRANSCENDENTAL_WASM_BASE64,
  TRANSCENDENTAL_WASM_LAYOUT,
} from "../../../src/ops/kernels/transcendental-wasm-binary.js";
import { assembleTranscendentalWasm, BINARY_MODULE, binaryModuleSource } from "../../../wasm/build.js";
import { cyclingInputs, generator, randomBits } from "../../support/float-inputs.js";

const SPECIALS = [
  0,
  -0,
  Infinity,
  -Infinity,
  Number.NaN,
  1,
  -1,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  2.225073858507201e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  708,
  -708,
  707.9999999999999,
  -707.9999999999999,
  746,
  -746,
  0.5,
  2,
];

/** x with random entries replaced by specials (about one in `every`). */
function sprinkle(x: Float64Array, random: () => number, every: number): Float64Array {
  for (let i = 0; i < x.length; i++) {
    if (random() * every < 1) x[i] = SPECIALS[Math.floor(random() * SPECIALS.length)];
  }
  return x;
}

/** n inputs cycling over focused ranges, with specials sprinkled in. */
function inputs(n: number, seed: number, makers: ((random: () => number) => number)[]): Float64Array {
  const random = generator(seed);
  return sprinkle(cyclingInputs(n, random, makers), random, 50);
}

/** Indices where a and b differ as bit patterns (NaN payloads included), at most `limit` of them. */
function differences(a: Float64Array, b: Float64Array, limit = 5): number[] {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length * 2);
  const found: number[] = [];
  for (let i = 0; i < ua.length && found.length < limit; i++) {
    if (ua[i] !== ub[i] && found.at(-1) !== i >> 1) found.push(i >> 1);
  }
  return found;
}

/** Runs `kernel` into a fresh array on the wasm path and on the JavaScript path; expects the same bits. */
function expectSameBits(n: number, kernel: (out: Float64Array) => void, describeAt: (i: number) => string) {
  expect(useWasmKernels(true)).toBe(true);
  const simd = new Float64Array(n);
  kernel(simd);
  useWasmKernels(false);
  const js = new Float64Array(n);
  kernel(js);
  useWasmKernels(true);
  const diff = differences(simd, js);
  expect(
    diff.map((i) => `${describeAt(i)}: wasm ${simd[i]}, js ${js[i]}`),
    "entries that differ",
  ).toEqual([]);
}

const N = 1_000_000;

const X_RANGES: ((random: () => number) => number)[] = [
  randomBits,
  (r) => Math.exp(r() * 20 - 10),
  (r) => Math.exp(r() * 1400 - 700),
  (r) => 1 + (r() - 0.5) * 1e-9,
  (r) => 1 + (r() - 0.5) * 0.1,
  (r) => r() * 2.2250738585072014e-308, // subnormal
  (r) => -Math.exp(r() * 20 - 10), // negative
  (r) => r() * 1e6,
];

afterEach(() => {
  useWasmKernels(true);
});

describe("the WebAssembly SIMD path", () => {
  it("is taken in Node (WebAssembly SIMD available), and useWasmKernels switches it", () => {
    expect(transcendentalBackend()).toBe("wasm-simd");
    expect(useWasmKernels(false)).toBe(false);
    expect(transcendentalBackend()).toBe("js");
    expect(useWasmKernels(true)).toBe(true);
  });

  it("expInto: the JavaScript kernel's bits on 10^6 inputs over every range", () => {
    const x = inputs(N, 101, [
      randomBits,
      (r) => r() * 2 - 1,
      (r) => r() * 1500 - 750, // underflow to overflow
      (r) => -708 - r() * 40, // subnormal results
      (r) => 707 + r() * 3, // the fast-path and overflow edges
      (r) => -707 - r(),
      (r) => (r() - 0.5) * 1e-300,
      (r) => (r() - 0.5) * 2 ** -50,
      (r) => r() * 40 - 20,
    ]);
    expectSameBits(
      N,
      (out) => expInto(x, out),
      (i) => `exp(${x[i]})`,
    );
  });

  it("logInto / logRun: the JavaScript kernel's bits on 10^6 inputs over every range", () => {
    const x = inputs(N, 102, X_RANGES);
    expectSameBits(
      N,
      (out) => logInto(x, out),
      (i) => `log(${x[i]})`,
    );
    expectSameBits(
      N - 3,
      (out) => logRun(x, 3, out, 0, N - 3),
      (i) => `log(${x[i + 3]})`,
    );
  });

  it("powScalarExponentInto: the JavaScript kernel's bits on 10^6 inputs for every kind of exponent", () => {
    const exponents = [
      -0.25, // the flux exponent
      1 / 3,
      2.5,
      -7,
      3,
      1e-5,
      -1e-300,
      123456789,
      -1e10,
      1e300,
      2 ** 53 + 2,
      -0.5,
      0.5 + 2 ** -52,
    ];
    const x = inputs(N, 103, X_RANGES);
    for (const p of exponents) {
      const m = p === -0.25 ? N : N / 10;
      const xs = x.subarray(0, m);
      expectSameBits(
        m,
        (out) => powScalarExponentInto(xs, p, out),
        (i) => `${xs[i]} ** ${p}`,
      );
    }
  });

  it("powInto: the JavaScript kernel's bits on 10^6 (x, y) pairs over every range", () => {
    const random = generator(104);
    const makers: (() => [number, number])[] = [
      () => [randomBits(random), randomBits(random)],
      () => [Math.exp(random() * 20 - 10), random() * 20 - 10],
      () => {
        // results over the whole range, underflow and overflow included
        const x = Math.exp(random() * 1400 - 700);
        return [x, (random() * 1500 - 750) / Math.log(x)];
      },
      () => [-random() * 10, Math.floor(random() * 200 - 100)], // negative x, integer y
      () => [-random() * 10, random() * 10 - 5], // negative x, non-integer y: NaN
      () => [random() * 2.2250738585072014e-308, random() * 2 - 0.5], // subnormal x
      () => [1 + (random() - 0.5) * 1e-10, (random() - 0.5) * 1e13], // x near 1, huge y
      () => [1, random() * 10 - 5], // x = 1
      () => [random() * 4, Math.floor(random() * 2 ** 60)], // large integer y
      () => [random() * 4, (random() - 0.5) * 1e-300], // tiny y
    ];
    const x = new Float64Array(N);
    const y = new Float64Array(N);
    for (let i = 0; i < N; i++) [x[i], y[i]] = makers[i % makers.length]();
    sprinkle(x, random, 40);
    sprinkle(y, random, 40);
    expectSameBits(
      N,
      (out) => powInto(x, y, out),
      (i) => `${x[i]} ** ${y[i]}`,
    );
  });

  it("the same bits on odd lengths and offsets around the chunk size and the thresholds, and in place", () => {
    const chunk = TRANSCENDENTAL_WASM_LAYOUT.capacity;
    const lengths = [0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 255];
    lengths.push(chunk - 1, chunk, chunk + 1, 2 * chunk - 1, 2 * chunk + 3, 3 * chunk + 1);
    const random = generator(105);
    const size = 3 * chunk + 20;
    const base = inputs(size, 106, X_RANGES);
    const exponents = inputs(size, 107, [(r) => r() * 20 - 10, (r) => Math.floor(r() * 20 - 10), randomBits]);
    // specials right at chunk edges, so patched indices sit at the ends of a chunk
    for (const at of [0, 1, chunk - 2, chunk - 1, chunk, chunk + 1, 2 * chunk - 1, 2 * chunk + 2]) {
      base[at + 3] = SPECIALS[Math.floor(random() * SPECIALS.length)];
    }
    for (const n of lengths) {
      for (const offset of [0, 1, 3]) {
        const x = base.subarray(offset, offset + n);
        const y = exponents.subarray(offset, offset + n);
        const at = (i: number) => `n = ${n}, offset ${offset}, entry ${i}`;
        expectSameBits(
          n,
          (out) =>
            expInto(
              x.map((v) => v * 1e-3 * 708),
              out,
            ),
          at,
        );
        expectSameBits(n, (out) => logInto(x, out), at);
        expectSameBits(n, (out) => powScalarExponentInto(x, -0.25, out), at);
        expectSameBits(n, (out) => powInto(x, y, out), at);
        // the run forms, with the output at an offset in a larger array
        expectSameBits(n, (out) => logRun(base, offset, out, 0, n), at);
        expectSameBits(
          n,
          (out) => {
            const wide = new Float64Array(n + 5);
            powRun(wide, 5, base, offset, 1, exponents, offset, 1, n);
            out.set(wide.subarray(5));
          },
          at,
        );
        expectSameBits(
          n,
          (out) => {
            const wide = new Float64Array(n + 2);
            powScalarExponentRun(wide, 2, base, offset, 1, 1 / 3, n);
            out.set(wide.subarray(2));
          },
          at,
        );
        // in place (out = x)
        expectSameBits(
          n,
          (out) => {
            out.set(x);
            logInto(out, out);
          },
          at,
        );
        expectSameBits(
          n,
          (out) => {
            out.set(x);
            powScalarExponentInto(out, 2.5, out);
          },
          at,
        );
      }
    }
  });

  it("the JavaScript kernels run when the module cannot be had (no WebAssembly, a refused compile)", () => {
    const table = new Float64Array(4660);
    expect(instantiateTranscendentalWasm(table)).toBeDefined();
    const saved = globalThis.WebAssembly;
    try {
      Reflect.set(globalThis, "WebAssembly", undefined);
      expect(instantiateTranscendentalWasm(table)).toBeUndefined();
      // a CSP without 'wasm-unsafe-eval' makes compilation throw
      Reflect.set(globalThis, "WebAssembly", {
        ...saved,
        validate: saved.validate,
        Module: class {
          constructor() {
            throw new Error("WebAssembly.Module(): Refused to compile or instantiate WebAssembly module");
          }
        },
      });
      expect(instantiateTranscendentalWasm(table)).toBeUndefined();
    } finally {
      Reflect.set(globalThis, "WebAssembly", saved);
    }
    // a table that would overlap the module's buffers is refused, not written
    expect(instantiateTranscendentalWasm(new Float64Array(TRANSCENDENTAL_WASM_LAYOUT.idx))).toBeUndefined();
  });
});

describe("the committed module", () => {
  it("is what `npm run build:wasm` assembles from wasm/ (wabt is deterministic)", async () => {
    const bytes = await assembleTranscendentalWasm();
    expect(Buffer.from(bytes).toString("base64")).toBe(TRANSCENDENTAL_WASM_BASE64);
    expect(binaryModuleSource(bytes)).toBe(readFileSync(BINARY_MODULE, "utf8"));
  });

  it("stays under 4 KB (Chromium compiles larger modules synchronously only off the main thread)", () => {
    const size = Buffer.from(TRANSCENDENTAL_WASM_BASE64, "base64").length;
    expect(size).toBeLessThan(4096);
    expect(WebAssembly.validate(Buffer.from(TRANSCENDENTAL_WASM_BASE64, "base64"))).toBe(true);
  });
});
