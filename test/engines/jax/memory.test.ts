import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type Array as JaxArray, numpy as jnp } from "@jax-js/jax";
import {
  Control,
  computeGradient,
  computeHessian,
  computeJacobianMatrix,
  computeTLM,
  np,
  ReducedFunctional,
  Tape,
  withTape,
} from "tsadjoint";
import { f64, type JaxBlock, type JaxDevice, overloadJax, releaseJaxResources } from "tsadjoint/jax";
import { describe, expect, it } from "vitest";
import { defaultRng } from "../../../src/ops/kernels/random.js";
import type { NDArray } from "../../../src/values/ndarray.js";
import { liveBuffers } from "./live-buffers.js";

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const seedFunction = (x: JaxArray, y: JaxArray) => jnp.exp(jnp.trace(jnp.matmul(x, y)).mul(f64(0.5)));
/** A vector-output function: its blocks keep jax-js pullbacks (engine buffers). */
const vectorFunction = (x: JaxArray, y: JaxArray) => jnp.tanh(jnp.matmul(x, y));
const rng = defaultRng(77);
const x0 = rng.normal(0, 0.5, [3, 3]);
const y0 = rng.normal(0, 0.5, [3, 3]);
const x1 = rng.normal(0, 0.5, [3, 3]);
const dx = rng.normal(0, 1, [3, 3]);
const dy = rng.normal(0, 1, [3, 3]);

/** One round of every derivative call on a recorded seed example. */
function derivativeRound(tape: Tape, z: NDArray, x: NDArray, y: NDArray, round: number): void {
  const controls = [new Control(x), new Control(y)];
  const rf = new ReducedFunctional(z, controls, { tape });
  rf.evaluate([round % 2 === 0 ? x0 : x1, y0]); // replay at alternating points
  computeGradient(z, controls, { tape });
  computeTLM(z, controls, [dx, dy], { tape });
  computeHessian(z, controls, [dx, dy], { tape });
  rf.derivative();
  rf.hessian([dx, dy]);
  computeJacobianMatrix(z, controls, { tape });
  (tape.blocks[0] as JaxBlock).jacobian();
}

async function settleFinalizers(done: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 50 && !done(); attempt++) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("memory: repeated derivative calls do not grow jax-js memory", () => {
  const configurations: {
    device: JaxDevice;
    jit: boolean;
    checkpoint: boolean;
    rounds: number;
    vector?: boolean;
  }[] = [
    { device: "cpu", jit: true, checkpoint: false, rounds: 200 },
    { device: "cpu", jit: false, checkpoint: false, rounds: 50 },
    { device: "cpu", jit: true, checkpoint: true, rounds: 50 },
    { device: "cpu", jit: false, checkpoint: true, rounds: 50 },
    { device: "wasm", jit: true, checkpoint: false, rounds: 200 },
    { device: "wasm", jit: false, checkpoint: true, rounds: 50 },
    { device: "cpu", jit: true, checkpoint: false, rounds: 200, vector: true },
    { device: "cpu", jit: false, checkpoint: false, rounds: 50, vector: true },
    { device: "wasm", jit: true, checkpoint: false, rounds: 100, vector: true },
  ];
  for (const { device, jit, checkpoint, rounds, vector } of configurations) {
    it(`${rounds} rounds of replay, gradient, TLM, Hessian and Jacobians keep live buffers flat (${vector ? "vector output, " : ""}${device}, jit ${jit}, checkpoint ${checkpoint})`, () => {
      const f = overloadJax(vector ? vectorFunction : seedFunction, { device, jit, checkpoint });
      const tape = new Tape();
      const z = withTape(tape, () => (vector ? np.sum(np.multiply(f(x0, y0), f(x0, y0))) : f(x0, y0)));
      for (let round = 0; round < 4; round++) derivativeRound(tape, z, x0, y0, round); // first-call caches
      collectGarbage();
      const buffers = liveBuffers(device);
      const rss = process.memoryUsage().rss;
      for (let round = 0; round < rounds; round++) derivativeRound(tape, z, x0, y0, round);
      collectGarbage();
      expect(liveBuffers(device)).toBe(buffers);
      const growth = (process.memoryUsage().rss - rss) / 2 ** 20;
      expect(growth).toBeLessThan(64); // MB; engine buffers are counted exactly above
      releaseJaxResources(tape);
      f.dispose();
    });
  }

  it("recording anew each time: releaseJaxResources frees the kept pullbacks at once", () => {
    const f = overloadJax(vectorFunction);
    const warm = new Tape();
    withTape(warm, () => f(x0, y0));
    releaseJaxResources(warm);
    const before = liveBuffers("cpu");
    const tapes: Tape[] = [];
    for (let i = 0; i < 20; i++) {
      const tape = new Tape();
      withTape(tape, () => f(x0, y0));
      tapes.push(tape);
    }
    expect(liveBuffers("cpu")).toBeGreaterThan(before); // each block keeps its pullback
    let released = 0;
    for (const tape of tapes) released += releaseJaxResources(tape);
    expect(released).toBe(20);
    expect(liveBuffers("cpu")).toBe(before);
    for (const tape of tapes) tape.clear();
    f.dispose();
  });

  it("a block that is garbage-collected releases its pullback (FinalizationRegistry)", async () => {
    const f = overloadJax(vectorFunction);
    const warm = new Tape();
    withTape(warm, () => f(x0, y0));
    releaseJaxResources(warm);
    const before = liveBuffers("cpu");
    (() => {
      for (let i = 0; i < 10; i++) {
        const tape = new Tape();
        withTape(tape, () => f(x0, y0)); // the tape is dropped, not cleared
      }
    })();
    expect(liveBuffers("cpu")).toBeGreaterThan(before);
    await settleFinalizers(() => liveBuffers("cpu") === before);
    expect(liveBuffers("cpu")).toBe(before);
    f.dispose();
  });

  it("tape.clear() releases the blocks' engine memory at once", () => {
    const f = overloadJax(vectorFunction);
    const warm = new Tape();
    withTape(warm, () => f(x0, y0));
    warm.clear();
    const before = liveBuffers("cpu");
    const tape = new Tape();
    withTape(tape, () => f(x0, y0));
    expect(liveBuffers("cpu")).toBeGreaterThan(before);
    tape.clear();
    expect(liveBuffers("cpu")).toBe(before);
    f.dispose();
  });

  it("dispose() frees the compiled kernels and the constants they captured", () => {
    const before = liveBuffers("cpu");
    const weights = jnp.array(new Float64Array([0.3, -1.2, 2.5]), { dtype: jnp.float64, device: "cpu" });
    const f = overloadJax((x: JaxArray) => jnp.sin(x).mul(weights.ref), { checkpoint: true });
    const x = rng.normal(0, 1, [3]);
    const tape = new Tape();
    const y = withTape(tape, () => f(x));
    computeGradient(y, new Control(x), { tape, adjValue: x });
    computeHessian(y, new Control(x), x, { tape, adjValue: x });
    expect(f.compiledKernels).toBeGreaterThan(0);
    f.dispose();
    weights.dispose();
    expect(liveBuffers("cpu")).toBe(before);
  });
});
