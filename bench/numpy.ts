/**
 * @file Benchmark of array code: the p-Laplacian flux under pointMap on 10^5 points (taping overhead,
 * derivative and Hessian-action cost) and the tape memory of a 10^5-element elementwise chain. Every figure
 * is a ratio against a baseline measured in the same run.
 */
import { AdjFloat, Control, np, pointMap, ReducedFunction, stopAnnotating, Tape, withTape } from "tsadjoint";
import { collectGarbage, printTable, type Row, timeMedian } from "./harness.js";

type NDArray = InstanceType<typeof np.NDArray>;

/** The seed's flux on a batch of points: (sum(g*g, axis 1) + 1e-12)^((p-2)/2) * g. */
function fluxBody(_u: NDArray, g: NDArray, p: AdjFloat | number): NDArray {
  const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
  return np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
}

const flux = pointMap([[-1], [-1, 2], []], [-1, 2], { bare: true })(fluxBody);

/** The same flux as one plain-JS loop (for reference). */
function fluxLoop(g: Float64Array, p: number): Float64Array {
  const out = new Float64Array(g.length);
  const exponent = (p - 2) / 2;
  for (let k = 0; k < g.length; k += 2) {
    const mu = (g[k] * g[k] + g[k + 1] * g[k + 1] + 1e-12) ** exponent;
    out[k] = mu * g[k];
    out[k + 1] = mu * g[k + 1];
  }
  return out;
}

/** Heap plus array-buffer bytes retained by what `build` returns (typed arrays live outside the heap). */
function retainedTotalBytes<T>(build: () => T): { bytes: number; value: T } {
  collectGarbage();
  const before = process.memoryUsage();
  const value = build();
  collectGarbage();
  const after = process.memoryUsage();
  return { bytes: after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers), value };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

function fluxRows(n: number): Row[] {
  const rng = np.random.default_rng(5);
  const u = rng.normal(0, 1, [n]);
  const g = rng.uniform(0.5, 1.5, [n, 2]);
  const p = new AdjFloat(3.5);
  let sink = 0;
  const loop = timeMedian(() => {
    sink += fluxLoop(g.data, 3.5)[0];
  }, 21);
  const untaped = timeMedian(() => {
    sink += stopAnnotating(() => flux(u, g, p)).data[0];
  }, 21);
  const taped = timeMedian(() => {
    const tape = new Tape();
    sink += withTape(tape, () => flux(u, g, p)).data[0];
  }, 21);
  const tape = new Tape();
  const q = withTape(tape, () => flux(u, g, p));
  const rf = new ReducedFunction(q, [new Control(g), new Control(p)], { tape });
  const w = rng.uniform(-1, 1, [n, 2]);
  const dg = rng.uniform(-1, 1, [n, 2]);
  // alternate between two control values so that every call really replays
  const g2 = rng.uniform(0.5, 1.5, [n, 2]);
  let flip = false;
  const replay = timeMedian(() => {
    flip = !flip;
    sink += (rf.evaluate([flip ? g2 : g, p]) as NDArray).data[0];
  }, 21);
  rf.evaluate([g, p]);
  const derivative = timeMedian(() => {
    rf.adjJacAction(w);
  }, 21);
  const hessian = timeMedian(() => {
    rf.hessAction([dg, 0.5], w);
  }, 21);
  const jacobian = timeMedian(() => {
    rf.jacMatrix();
  }, 5);
  // reference: the same np code recorded block by block (no pointMap), Hessian action vs derivative
  const plainTape = new Tape();
  const plainQ = withTape(plainTape, () => fluxBody(u, g, p));
  const plainRf = new ReducedFunction(plainQ, [new Control(g), new Control(p)], { tape: plainTape });
  const plainDerivative = timeMedian(() => {
    plainRf.adjJacAction(w);
  }, 21);
  const plainHessian = timeMedian(() => {
    plainRf.hessAction([dg, 0.5], w);
  }, 21);
  // the flux's tape: heap + buffers it keeps, against the distinct arrays its blocks produced
  const memory = retainedTotalBytes(() => {
    const t = new Tape();
    withTape(t, () => flux(u, g, p));
    return t;
  });
  const buffers = new Set<ArrayBufferLike>();
  for (const block of memory.value.blocks) {
    const inner = (block as unknown as { innerTape: Tape }).innerTape;
    for (const innerBlock of inner.blocks) {
      for (const output of innerBlock.outputs) {
        const saved = output.saved;
        if (saved instanceof np.NDArray) buffers.add(saved.data.buffer);
      }
    }
  }
  let arrayBytes = 0;
  for (const buffer of buffers) arrayBytes += buffer.byteLength;
  if (Number.isNaN(sink)) console.log("(sink)");
  return [
    { name: "plain JS loop (reference)", value: `${loop.toFixed(2)} ms`, ratio: loop / untaped },
    { name: "np code, annotation off", value: `${untaped.toFixed(2)} ms` },
    {
      name: "taped forward vs annotation off",
      value: `${taped.toFixed(2)} ms`,
      ratio: taped / untaped,
      target: "<= 1.3x",
      pass: taped / untaped <= 1.3,
    },
    { name: "replay (rf.evaluate)", value: `${replay.toFixed(2)} ms`, ratio: replay / untaped },
    {
      name: "derivative (adjJacAction, g and p) vs forward",
      value: `${derivative.toFixed(2)} ms`,
      ratio: derivative / untaped,
      target: "<= 3x",
      pass: derivative / untaped <= 3,
    },
    {
      name: "Hessian action vs derivative",
      value: `${hessian.toFixed(2)} ms`,
      ratio: hessian / derivative,
      target: "<= 3x",
      pass: hessian / derivative <= 3,
    },
    {
      name: "  reference: same np code without pointMap",
      value: `derivative ${plainDerivative.toFixed(2)} ms, Hessian action ${plainHessian.toFixed(2)} ms`,
      ratio: plainHessian / plainDerivative,
    },
    {
      name: "jacMatrix (stack [n,2,2] + dense [n,2]) vs forward",
      value: `${jacobian.toFixed(2)} ms`,
      ratio: jacobian / untaped,
    },
    {
      name: "flux tape memory vs its distinct arrays",
      value: `${megabytes(memory.bytes)} kept, arrays ${megabytes(arrayBytes)}`,
      ratio: memory.bytes / arrayBytes,
      target: "<= 1.05x",
      pass: memory.bytes / arrayBytes <= 1.05,
    },
  ];
}

function chainRows(size: number, steps: number): Row[] {
  const rng = np.random.default_rng(9);
  const x0 = rng.uniform(-1, 1, [size]);
  // one step: x <- tanh(1.1 x): two arrays per step
  const arraysPerStep = 2;
  const chain = (tape: Tape) =>
    withTape(tape, () => {
      let x = x0;
      for (let i = 0; i < steps; i++) x = np.tanh(np.multiply(x, 1.1));
      return x;
    });
  const memory = retainedTotalBytes(() => {
    const tape = new Tape();
    chain(tape);
    return tape;
  });
  const perStep = memory.bytes / steps;
  const arrayBytes = size * 8;
  const ratio = perStep / (arraysPerStep * arrayBytes);
  const gcNote = (globalThis as { gc?: unknown }).gc ? "" : " (run with --expose-gc for a stable figure)";
  return [
    {
      name: `tape bytes per step (${arraysPerStep} arrays of ${megabytes(arrayBytes)})`,
      value: `${megabytes(perStep)}${gcNote}`,
      ratio,
      target: "<= 1.05x (one copy of each array)",
      pass: ratio <= 1.05,
    },
    { name: "blocks on the tape", value: String(memory.value.blocks.length) },
  ];
}

/**
 * Runs the array benchmark and prints its tables.
 *
 * @example
 * runNumpyBench(); // p-Laplacian flux on 10^5 points, elementwise chain memory
 */
export function runNumpyBench(points = 1e5, chainSize = 1e5, chainSteps = 100): void {
  printTable(`p-Laplacian flux under pointMap, n = ${points} points`, fluxRows(points));
  printTable(
    `elementwise chain, ${chainSize} elements, ${chainSteps} steps`,
    chainRows(chainSize, chainSteps),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) runNumpyBench();
