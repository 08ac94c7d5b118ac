/**
 * @file Benchmark of the table-driven exp/log/pow kernels (src/ops/kernels/transcendental.ts) against V8's
 * `Math.exp`/`Math.log`/`Math.pow` in a plain loop over the same 10^5-entry arrays, in the same process. Ratios
 * are kernel time / Math.* time (below 1 = faster). The last row is the flux benchmark's forward written as a
 * plain loop, with `**` against powScalarExponentInto.
 *
 * Each kernel is timed on its JavaScript path and on its WebAssembly SIMD path (`useWasmKernels`), against
 * Math.* and against each other ("wasm vs JS kernel"); both paths give the same doubles.
 */
import {
  expInto,
  logInto,
  powInto,
  powScalarExponentInto,
  transcendentalBackend,
  useWasmKernels,
} from "../src/ops/kernels/transcendental.js";
import { printTable, type Row } from "./harness.js";

const n = 100_000;

/** Seeded uniform numbers in [0, 1) (mulberry32), so runs see the same inputs. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Wall time of one run in ms. */
function once(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Fastest of `runs` alternating runs of each function, in ms: on a shared machine the minimum is the figure
 * least disturbed by other processes (preemption only ever adds time).
 */
function fastest(ours: () => void, reference: () => void, runs: number): [number, number] {
  for (let i = 0; i < 20; i++) {
    ours();
    reference();
  }
  let a = Number.POSITIVE_INFINITY;
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    a = Math.min(a, once(ours));
    b = Math.min(b, once(reference));
  }
  return [a, b];
}

function row(name: string, ours: () => void, reference: () => void, target: string): Row {
  const [oursMs, referenceMs] = fastest(ours, reference, 60);
  const ratio = oursMs / referenceMs;
  return {
    name,
    value: `${((oursMs * 1e6) / n).toFixed(2)} ns/entry vs ${((referenceMs * 1e6) / n).toFixed(2)} ns/entry`,
    ratio,
    target,
    pass: ratio < 1,
  };
}

/** Runs the kernels against Math.* and prints ns/entry and ratios. */
export function runTranscendentalBench(): void {
  const random = generator(11);
  const x = new Float64Array(n);
  const e = new Float64Array(n);
  const y = new Float64Array(n);
  const g = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[i] = Math.exp(random() * 20 - 10);
    e[i] = random() * 40 - 20;
    y[i] = random() * 8 - 4;
  }
  for (let i = 0; i < 2 * n; i++) g[i] = random() * 2 - 1;
  const out = new Float64Array(n);
  const s = new Float64Array(n);
  const exponent = -0.25; // the flux exponent (p - 2) / 2 at p = 1.5

  const kernels: { name: string; kernel: () => void; math: string; reference: () => void }[] = [
    {
      name: "exp: expInto",
      kernel: () => expInto(e, out),
      math: "Math.exp",
      reference: () => {
        for (let i = 0; i < n; i++) out[i] = Math.exp(e[i]);
      },
    },
    {
      name: "log: logInto",
      kernel: () => logInto(x, out),
      math: "Math.log",
      reference: () => {
        for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      },
    },
    {
      name: "pow(x, -0.25): powScalarExponentInto",
      kernel: () => powScalarExponentInto(x, exponent, out),
      math: "Math.pow",
      reference: () => {
        for (let i = 0; i < n; i++) out[i] = Math.pow(x[i], exponent);
      },
    },
    {
      name: "pow(x, 1/3): powScalarExponentInto",
      kernel: () => powScalarExponentInto(x, 1 / 3, out),
      math: "x ** p",
      reference: () => {
        const p = 1 / 3;
        for (let i = 0; i < n; i++) out[i] = x[i] ** p;
      },
    },
    {
      name: "pow(x, y): powInto",
      kernel: () => powInto(x, y, out),
      math: "Math.pow",
      reference: () => {
        for (let i = 0; i < n; i++) out[i] = Math.pow(x[i], y[i]);
      },
    },
  ];
  const js = (fn: () => void) => () => {
    useWasmKernels(false);
    fn();
  };
  const simd = (fn: () => void) => () => {
    useWasmKernels(true);
    fn();
  };
  const wasm = useWasmKernels(true);
  const rows: Row[] = [];
  for (const { name, kernel, math, reference } of kernels) {
    rows.push(row(`${name} (JS) vs ${math}`, js(kernel), reference, "< 1x"));
    if (wasm) {
      rows.push(row(`${name} (wasm) vs ${math}`, simd(kernel), reference, "< 1x"));
      rows.push(row(`${name}: wasm vs JS kernel`, simd(kernel), js(kernel), "< 1x"));
    }
  }
  useWasmKernels(true);
  rows.push(
    row(
      `flux forward loop (p = 1.5): kernel (${transcendentalBackend()}) vs **`,
      () => {
        for (let k = 0; k < n; k++) s[k] = g[2 * k] * g[2 * k] + g[2 * k + 1] * g[2 * k + 1] + 1e-12;
        powScalarExponentInto(s, exponent, s);
        let total = 0;
        for (let k = 0; k < n; k++) {
          const f0 = s[k] * g[2 * k];
          const f1 = s[k] * g[2 * k + 1];
          total += f0 * f0 + f1 * f1;
        }
        out[0] = total;
      },
      () => {
        let total = 0;
        for (let k = 0; k < n; k++) {
          const mu = (g[2 * k] * g[2 * k] + g[2 * k + 1] * g[2 * k + 1] + 1e-12) ** exponent;
          const f0 = mu * g[2 * k];
          const f1 = mu * g[2 * k + 1];
          total += f0 * f0 + f1 * f1;
        }
        out[0] = total;
      },
      "< 1x",
    ),
  );
  printTable(
    `transcendental kernels on ${n} float64 entries (ratio = kernel / Math.*, fastest of 60 alternating runs; ` +
      `WebAssembly SIMD ${wasm ? "available" : "unavailable: JS rows only"})`,
    rows,
  );
}
