import { type Array as JaxArray, numpy as jnp } from "@jax-js/jax";
import fc from "fast-check";
import {
  AdjFloat,
  assertRule,
  Control,
  ControlNotOnTapeError,
  computeGradient,
  computeHessian,
  computeTLM,
  EngineLimitError,
  InvalidArgumentError,
  np,
  ReducedFunction,
  ReducedFunctional,
  stopAnnotating,
  Tape,
  taylorTest,
  withTape,
} from "tsadjoint";
import { f64, JaxBlock, overloadJax } from "tsadjoint/jax";
import { describe, expect, it } from "vitest";
import { defaultRng } from "../../../src/ops/kernels/random.js";
import { array, NDArray } from "../../../src/values/ndarray.js";
import { liveBuffers } from "./live-buffers.js";

/** The seed example of CRIKit's overload_jax: f(x, y) = exp(tr(x y)). */
const seedFunction = (x: JaxArray, y: JaxArray) => jnp.exp(jnp.trace(jnp.matmul(x, y)));

/** Two random 3x3 inputs; scaled so that exp(tr(x y)) stays moderate. */
function seedInputs(seed: number): [NDArray, NDArray] {
  const rng = defaultRng(seed);
  return [rng.normal(0, 0.5, [3, 3]), rng.normal(0, 0.5, [3, 3])];
}

function randomLike(value: NDArray, seed: number, scale = 0.1): NDArray {
  return defaultRng(seed).normal(0, scale, value.shape.slice());
}

function lastJaxBlock(tape: Tape): JaxBlock {
  const block = tape.blocks.at(-1);
  if (!(block instanceof JaxBlock)) throw new Error("the last block is not a JaxBlock");
  return block;
}

/** exp(tr(x y)) and its gradient, computed in plain JS. */
function seedReference(x: NDArray, y: NDArray): { value: number; gx: Float64Array; gy: Float64Array } {
  let trace = 0;
  for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) trace += x.data[3 * i + k] * y.data[3 * k + i];
  const value = Math.exp(trace);
  const gx = new Float64Array(9);
  const gy = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    for (let k = 0; k < 3; k++) {
      gx[3 * i + k] = value * y.data[3 * k + i];
      gy[3 * i + k] = value * x.data[3 * k + i];
    }
  }
  return { value, gx, gy };
}

const variants = [
  { jit: true, checkpoint: false },
  { jit: true, checkpoint: true },
  { jit: false, checkpoint: false },
  { jit: false, checkpoint: true },
];

describe("overloadJax: the seed example exp(trace(x @ y))", () => {
  for (const options of variants) {
    it(`all four modes pass the rule checker with both inputs as controls (${JSON.stringify(options)})`, () => {
      const f = overloadJax(seedFunction, options);
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 10_000 }), (seed) => {
          const [x, y] = seedInputs(seed);
          assertRule((a, b) => f(a as NDArray, b as NDArray), [x, y], { seed });
          // each input alone as the control, the other a constant
          assertRule((a) => f(a as NDArray, y), [x], { seed });
          assertRule((b) => f(x, b as NDArray), [y], { seed });
        }),
        { numRuns: 3 },
      );
      f.dispose();
    });
  }

  it("records ONE block whose value and gradient match the formula", () => {
    const [x, y] = seedInputs(3);
    const tape = new Tape();
    const f = overloadJax(seedFunction);
    const z = withTape(tape, () => f(x, y));
    expect(tape.blocks.length).toBe(1);
    expect(tape.blocks[0]).toBeInstanceOf(JaxBlock);
    expect(tape.blocks[0].name).toBe("jax:seedFunction");
    expect(z).toBeInstanceOf(NDArray);
    expect(z.shape).toEqual([]);
    const reference = seedReference(x, y);
    expect(z.item()).toBeCloseTo(reference.value, 13);
    const [gx, gy] = computeGradient(z, [new Control(x), new Control(y)], { tape });
    for (let i = 0; i < 9; i++) {
      expect(gx.data[i]).toBeCloseTo(reference.gx[i], 12);
      expect(gy.data[i]).toBeCloseTo(reference.gy[i], 12);
    }
    f.dispose();
  });

  for (const options of variants) {
    it(`Taylor tests through a ReducedFunctional: rates >= 1.9 and >= 2.9 with the Hessian (${JSON.stringify(options)})`, () => {
      const [x, y] = seedInputs(11);
      const tape = new Tape();
      const f = overloadJax(seedFunction, options);
      const J = withTape(tape, () => f(x, y));
      const rf = new ReducedFunctional(J, [new Control(x), new Control(y)], { tape });
      const h = [randomLike(x, 101), randomLike(y, 102)];
      expect(taylorTest(rf, [x, y], h)).toBeGreaterThanOrEqual(1.9);
      expect(taylorTest(rf, [x, y], h, { hessian: true })).toBeGreaterThanOrEqual(2.9);
      // the tape is left at the values it had
      expect(rf.evaluate([x, y])).toBeCloseTo(J.item(), 14);
      f.dispose();
    });
  }

  it("Taylor tests through a ReducedFunction of the vector output, and of a scalar functional of it", () => {
    const [x, y] = seedInputs(21);
    const tape = new Tape();
    // vector outputs: the second-order adjoint needs the full term (d/dx (J^T ybar)) xdot
    const f = overloadJax((a: JaxArray, b: JaxArray) => [
      jnp.exp(jnp.matmul(a.ref, b.ref).mul(f64(0.5))),
      jnp.sin(a).mul(b),
    ]);
    const [F0, F1] = withTape(tape, () => f(x, y));
    const controls = [new Control(x), new Control(y)];
    const h = [randomLike(x, 201), randomLike(y, 202)];
    const rfVector = new ReducedFunction([F0, F1], controls, { tape });
    expect(taylorTest(rfVector, [x, y], h)).toBeGreaterThanOrEqual(1.9);
    const v = [randomLike(F0, 203, 1), randomLike(F1, 204, 1)];
    expect(taylorTest(rfVector, [x, y], h, { hessian: true, v })).toBeGreaterThanOrEqual(2.9);
    const J = withTape(tape, () => np.add(np.sum(np.multiply(F0, F0)), np.sum(np.sin(F1))));
    const rf = new ReducedFunctional(J, controls, { tape });
    expect(taylorTest(rf, [x, y], h)).toBeGreaterThanOrEqual(1.9);
    expect(taylorTest(rf, [x, y], h, { hessian: true })).toBeGreaterThanOrEqual(2.9);
    f.dispose();
  });

  it("computeTLM and computeHessian agree with the analytic derivatives", () => {
    const [x, y] = seedInputs(5);
    const [dx, dy] = [randomLike(x, 51, 1), randomLike(y, 52, 1)];
    const tape = new Tape();
    const f = overloadJax(seedFunction);
    const z = withTape(tape, () => f(x, y));
    const controls = [new Control(x), new Control(y)];
    const { value, gx, gy } = seedReference(x, y);
    let directional = 0;
    for (let i = 0; i < 9; i++) directional += gx[i] * dx.data[i] + gy[i] * dy.data[i];
    expect(computeTLM(z, controls, [dx, dy], { tape }).item()).toBeCloseTo(directional, 12);
    // H [dx, dy]: d(gx) = f s y^T + f dy^T, d(gy) = f s x^T + f dx^T with s = tr(dx y + x dy)
    let s = 0;
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 3; k++)
        s += dx.data[3 * i + k] * y.data[3 * k + i] + x.data[3 * i + k] * dy.data[3 * k + i];
    }
    const [hx, hy] = computeHessian(z, controls, [dx, dy], { tape });
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 3; k++) {
        const expectedX = value * s * y.data[3 * k + i] + value * dy.data[3 * k + i];
        const expectedY = value * s * x.data[3 * k + i] + value * dx.data[3 * k + i];
        expect(hx.data[3 * i + k]).toBeCloseTo(expectedX, 11);
        expect(hy.data[3 * i + k]).toBeCloseTo(expectedY, 11);
      }
    }
    f.dispose();
  });
});

describe("overloadJax: vector, multi-output and scalar arguments", () => {
  it("a vector-output function passes the rule checker (full second-order adjoint term)", () => {
    const f = overloadJax((a: JaxArray, b: JaxArray) => jnp.tanh(jnp.matmul(a, b)).mul(f64(1.5)));
    const rng = defaultRng(8);
    assertRule(
      (a, b) => f(a as NDArray, b as NDArray),
      [rng.normal(0, 0.7, [2, 3]), rng.normal(0, 0.7, [3, 4])],
    );
    f.dispose();
  });

  it("a function returning a list gives a list of NDArrays; each output passes the rule checker", () => {
    const f = overloadJax((a: JaxArray, b: JaxArray) => [jnp.sin(a.ref).mul(b.ref), jnp.exp(a.mul(b).sum())]);
    const rng = defaultRng(9);
    const [a, b] = [rng.normal(0, 0.5, [4]), rng.normal(0, 0.5, [4])];
    const tape = new Tape();
    const outputs = withTape(tape, () => f(a, b));
    expect(Array.isArray(outputs)).toBe(true);
    expect(outputs.map((o) => o.shape)).toEqual([[4], []]);
    expect(tape.blocks.length).toBe(1);
    expect(lastJaxBlock(tape).returnsList).toBe(true);
    for (const k of [0, 1]) assertRule((x, y) => f(x as NDArray, y as NDArray)[k], [a, b]);
    f.dispose();
  });

  it("AdjFloat arguments are dependencies (number adjoints); plain numbers are constants", () => {
    const f = overloadJax((x: JaxArray, k: JaxArray) => jnp.sin(x.mul(k)).sum());
    const x = array([0.3, -0.8, 1.1]);
    assertRule((a, b) => f(a as NDArray, b as AdjFloat), [x, 1.7]);
    const tape = new Tape();
    const k = new AdjFloat(1.7);
    const y = withTape(tape, () => f(x, k));
    expect(tape.blocks[0].dependencies.length).toBe(2);
    const dk = computeGradient(y, new Control(k), { tape });
    expect(dk).toBeInstanceOf(AdjFloat);
    let expected = 0;
    for (const xi of x.data) expected += xi * Math.cos(xi * 1.7);
    expect(dk.value).toBeCloseTo(expected, 13);
    const constantTape = new Tape();
    withTape(constantTape, () => f(x, 1.7));
    expect(constantTape.blocks[0].dependencies.length).toBe(1);
    f.dispose();
  });

  it("the same value passed twice is two dependencies whose adjoints add up", () => {
    const f = overloadJax((a: JaxArray, b: JaxArray) => jnp.sin(a).mul(b));
    const x = array([0.4, -1.3, 0.8]);
    assertRule((a) => f(a as NDArray, a as NDArray), [x]);
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(f(x, x)));
    const g = computeGradient(J, new Control(x), { tape });
    for (let i = 0; i < 3; i++) {
      const v = x.data[i];
      expect(g.data[i]).toBeCloseTo(Math.cos(v) * v + Math.sin(v), 14);
    }
    f.dispose();
  });

  it("nested JS arrays are accepted as constants", () => {
    const f = overloadJax((x: JaxArray, w: JaxArray) => x.mul(w).sum());
    const x = array([1, 2]);
    const tape = new Tape();
    const y = withTape(tape, () => f(x, [0.5, 0.25]));
    expect(y.item()).toBeCloseTo(1, 15);
    expect(tape.blocks[0].dependencies.length).toBe(1);
    f.dispose();
  });

  it("records nothing when annotation is off, and holds no pullback then", () => {
    const f = overloadJax(seedFunction);
    const [x, y] = seedInputs(4);
    const tape = new Tape();
    const before = liveBuffers("cpu");
    const z = withTape(tape, () => stopAnnotating(() => f(x, y)));
    expect(tape.blocks.length).toBe(0);
    expect(z.item()).toBeCloseTo(seedReference(x, y).value, 13);
    expect(liveBuffers("cpu")).toBe(before);
    f.dispose();
  });

  it("the tape option records on the given tape", () => {
    const tape = new Tape();
    const f = overloadJax((x: JaxArray) => jnp.sin(x), { tape });
    f(array([0.1, 0.2]));
    expect(tape.blocks.length).toBe(1);
    f.dispose();
  });
});

describe("overloadJax options", () => {
  it("argnums: only the listed arguments are dependencies; negative positions count from the end", () => {
    const [x, y] = seedInputs(12);
    for (const argnums of [0, [0], -2, [-2]] as const) {
      const f = overloadJax(seedFunction, { argnums });
      const tape = new Tape();
      const z = withTape(tape, () => f(x, y));
      const block = lastJaxBlock(tape);
      expect(block.dependencies.length).toBe(1);
      expect(block.dependencies[0]).toBe(x.blockVariable);
      const gx = computeGradient(z, new Control(x), { tape });
      const reference = seedReference(x, y);
      for (let i = 0; i < 9; i++) expect(gx.data[i]).toBeCloseTo(reference.gx[i], 12);
      expect(() => computeGradient(z, new Control(y), { tape })).toThrow(ControlNotOnTapeError);
      assertRule((a) => f(a as NDArray, y), [x]);
      f.dispose();
    }
    const g = overloadJax(seedFunction, { argnums: [1] });
    assertRule((b) => g(x, b as NDArray), [y]);
    expect(() => g(x, y, ...([] as []))).not.toThrow();
    g.dispose();
    expect(() => overloadJax(seedFunction, { argnums: [0.5] })).toThrow(InvalidArgumentError);
    const h = overloadJax(seedFunction, { argnums: [2] });
    expect(() => h(x, y)).toThrow(InvalidArgumentError);
  });

  it("staticArgnums: static values reach the function as they are and compile once per value", () => {
    let traces = 0;
    const power = (x: JaxArray, n: number, mode: string) => {
      traces++;
      let result = x.ref;
      for (let i = 1; i < n; i++) result = result.mul(x.ref);
      x.dispose();
      return mode === "sum" ? result.sum() : result;
    };
    const f = overloadJax(power, { staticArgnums: [1, 2] });
    const x = array([0.5, -1.25, 2]);
    const cube = f(x, 3, "sum");
    expect(cube.item()).toBeCloseTo(0.125 - 1.953125 + 8, 14);
    const tracesAfterFirst = traces;
    f(x, 3, "sum");
    expect(traces).toBe(tracesAfterFirst); // cached compiled kernel: no new trace
    expect(f(x, 2, "none").data).toEqual(new Float64Array([0.25, 1.5625, 4]));
    expect(traces).toBeGreaterThan(tracesAfterFirst); // a new static value traces again
    for (const n of [1, 2, 4]) assertRule((a) => f(a as NDArray, n, "sum"), [x]);
    const tape = new Tape();
    const y = withTape(tape, () => f(x, 4, "none"));
    expect(lastJaxBlock(tape).dependencies.length).toBe(1);
    expect(y.shape).toEqual([3]);
    f.dispose();
    expect(() => overloadJax(power, { staticArgnums: [1], argnums: [1] })(x, 2, "sum")).toThrow(
      InvalidArgumentError,
    );
    const g = overloadJax((a: JaxArray, _options: unknown) => jnp.sin(a), { staticArgnums: [1] });
    expect(() => g(x, () => 1)).toThrow(InvalidArgumentError);
    expect(() => g(x, Number.NaN)).toThrow(InvalidArgumentError);
  });

  it("jit on and off give the same values and derivatives; jit caches compiled kernels until dispose()", () => {
    const fn = (x: JaxArray, y: JaxArray) =>
      jnp
        .sin(x.ref.mul(y.ref))
        .add(jnp.exp(x.mul(f64(0.3))))
        .mul(y);
    const jitted = overloadJax(fn, { jit: true });
    const eager = overloadJax(fn, { jit: false });
    const rng = defaultRng(13);
    const [x, y] = [rng.normal(0, 1, [5]), rng.normal(0, 1, [5])];
    const dx = rng.normal(0, 1, [5]);
    const results = [jitted, eager].map((f) => {
      const tape = new Tape();
      const z = withTape(tape, () => np.sum(f(x, y)));
      const controls = [new Control(x), new Control(y)];
      return {
        value: z.item(),
        gradient: computeGradient(z, controls, { tape }).map((g) => Array.from(g.data)),
        hessian: computeHessian(z, controls, [dx, dx], { tape }).map((g) => Array.from(g.data)),
      };
    });
    expect(results[0].value).toBeCloseTo(results[1].value, 14);
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < 5; i++) {
        expect(results[0].gradient[c][i]).toBeCloseTo(results[1].gradient[c][i], 13);
        expect(results[0].hessian[c][i]).toBeCloseTo(results[1].hessian[c][i], 12);
      }
    }
    expect(jitted.compiledKernels).toBeGreaterThan(0);
    expect(eager.compiledKernels).toBe(0);
    const before = liveBuffers("cpu");
    jitted.dispose();
    expect(jitted.compiledKernels).toBe(0);
    expect(liveBuffers("cpu")).toBeLessThanOrEqual(before);
    // still usable after dispose (compiles again)
    expect(jitted(x, y).data[0]).toBeCloseTo(eager(x, y).data[0], 14);
    jitted.dispose();
    eager.dispose();
  });

  it("checkpoint off: the adjoint uses the linearization kept from the forward pass; on: it recomputes", () => {
    let calls = 0;
    // a scalar function keeps its gradient; a vector function keeps jax-js's pullback
    const scalar = (x: JaxArray) => {
      calls++;
      return jnp.sin(x.ref).mul(x).sum();
    };
    const vector = (x: JaxArray) => {
      calls++;
      return jnp.sin(x.ref).mul(x);
    };
    const derivative = (m: number) => Math.sin(m) + m * Math.cos(m);
    for (const [fn, kept] of [
      [scalar, "gradient"],
      [vector, "pullback"],
    ] as const) {
      for (const checkpoint of [false, true]) {
        const x = array([0.2, 0.9, -0.4]);
        const f = overloadJax(fn, { jit: false, checkpoint });
        const tape = new Tape();
        const J = withTape(tape, () => np.sum(f(x)));
        const block = tape.blocks[0] as JaxBlock;
        expect(block.linearization).toBe(checkpoint ? undefined : kept);
        expect(block.holdsPullback).toBe(!checkpoint && kept === "pullback");
        calls = 0;
        const g = computeGradient(J, new Control(x), { tape });
        expect(calls).toBe(checkpoint ? 1 : 0);
        for (let i = 0; i < 3; i++) expect(g.data[i]).toBeCloseTo(derivative(x.data[i]), 14);
        // a replay at new values keeps the linearization in step with the inputs
        const rf = new ReducedFunctional(J, new Control(x), { tape });
        const moved = array([0.5, -0.1, 0.3]);
        rf.evaluate(moved);
        calls = 0;
        const gMoved = rf.derivative();
        expect(calls).toBe(checkpoint ? 1 : 0);
        for (let i = 0; i < 3; i++) expect(gMoved.data[i]).toBeCloseTo(derivative(moved.data[i]), 14);
        // tangent-linear values come from the kept gradient of a scalar function too
        calls = 0;
        const tlm = computeTLM(J, new Control(x), array([1, 2, 3]), { tape });
        expect(calls).toBe(!checkpoint && kept === "gradient" ? 0 : 1);
        expect(tlm.item()).toBeCloseTo(gMoved.data[0] + 2 * gMoved.data[1] + 3 * gMoved.data[2], 13);
        // a released linearization is recomputed on demand
        block.dispose();
        expect(block.linearization).toBeUndefined();
        const again = rf.derivative();
        expect(Array.from(again.data)).toEqual(Array.from(gMoved.data));
        f.dispose();
      }
    }
  });

  it("errors: bad options and outputs are typed errors naming the function", () => {
    expect(() => overloadJax("not a function" as unknown as () => JaxArray)).toThrow(InvalidArgumentError);
    expect(() => overloadJax((x: JaxArray) => x, { device: "gpu" as "cpu" })).toThrow(InvalidArgumentError);
    const float32 = overloadJax((x: JaxArray) => x.astype(jnp.float32), { name: "toFloat32" });
    expect(() => float32(array([1, 2]))).toThrow(/toFloat32.*float32/);
    const nested = overloadJax((x: JaxArray) => [[x]] as unknown as JaxArray[]);
    expect(() => nested(array([1, 2]))).toThrow(InvalidArgumentError);
    const f = overloadJax((x: JaxArray) => jnp.sin(x));
    expect(() => (f as unknown as (x: unknown) => NDArray)(new Map())).toThrow(InvalidArgumentError);
  });

  it("an engine failure in a derivative mode is an EngineLimitError, leaks nothing and leaves the tape usable", () => {
    // reading a value with .item() works on a concrete array (the eager forward pass), not on a jvp tracer
    const fn = (x: JaxArray, k: JaxArray) => x.mul(f64(k.item()));
    const f = overloadJax(fn, { jit: false, checkpoint: true, name: "concrete" });
    const x = array([2, 3]);
    const k = array([2]);
    const tape = new Tape();
    const y = withTape(tape, () => f(x, k));
    expect(Array.from(y.data)).toEqual([4, 6]);
    const controls = [new Control(x), new Control(k)];
    const directions = [array([1, 0]), array([1])];
    const before = liveBuffers("cpu");
    expect(() => computeTLM(y, controls, directions, { tape })).toThrow(EngineLimitError);
    expect(() => computeTLM(y, controls, directions, { tape })).toThrow(/concrete\.tlm/);
    expect(liveBuffers("cpu")).toBe(before);
    // the recording still replays
    const rf = new ReducedFunctional(
      withTape(tape, () => np.sum(y)),
      controls,
      { tape },
    );
    expect(rf.evaluate([array([1, 5]), array([3])])).toBe(18);
  });
});
