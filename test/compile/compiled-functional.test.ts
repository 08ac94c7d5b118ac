import fc from "fast-check";
import {
  AdjFloat,
  type CompiledFunctional,
  Control,
  ControlCountMismatchError,
  compileFunctional,
  InvalidArgumentError,
  NDArray,
  NonFiniteValueError,
  np,
  pointMap,
  ReducedFunctional,
  ShapeMismatchError,
  Tape,
  TsadjointError,
  taylorTest,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import { programArbitraries, programInputs, randomProgram } from "../support/random-program.js";

type Value = number | AdjFloat | NDArray;

/** The entries of a result (an AdjFloat, an NDArray, a number). */
function entries(value: unknown): number[] {
  if (value instanceof NDArray) return Array.from(value.data);
  if (value instanceof AdjFloat) return [value.value];
  if (typeof value === "number") return [value];
  throw new Error(`not a result: ${String(value)}`);
}

/** Largest relative difference entry by entry (0 for equal entries, NaN on equal NaN). */
function relativeError(a: unknown, b: unknown): number {
  const x = entries(a);
  const y = entries(b);
  expect(x.length).toBe(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === y[i]) continue;
    worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.abs(y[i]));
  }
  return worst;
}

/** Whether every entry is the same float64 (bit-identical up to the sign of zero). */
function identical(a: unknown, b: unknown): boolean {
  const x = entries(a);
  const y = entries(b);
  return x.length === y.length && x.every((v, i) => v === y[i] || (Number.isNaN(v) && Number.isNaN(y[i])));
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** Compares every mode of a compiled functional with the uncompiled one at `points` and `directions`. */
function compareModes(
  rf: ReducedFunctional,
  compiled: CompiledFunctional,
  points: unknown[],
  directions: unknown[],
): { worst: number; identical: number; total: number } {
  let worst = 0;
  let same = 0;
  let total = 0;
  const note = (a: unknown, b: unknown) => {
    worst = Math.max(worst, relativeError(a, b));
    total++;
    if (identical(a, b)) same++;
  };
  points.forEach((point, index) => {
    note(compiled.evaluate(point), rf.evaluate(point));
    const dc = list(compiled.derivative());
    const du = list(rf.derivative());
    for (const [i, d] of dc.entries()) note(d, du[i]);
    const direction = directions[index % directions.length];
    note(compiled.tlm(direction), rf.tlm(direction));
    const hc = list(compiled.hessian(direction));
    const hu = list(rf.hessian(direction));
    for (const [i, h] of hc.entries()) note(h, hu[i]);
  });
  return { worst, identical: same, total };
}

/** The seed's flux J = sum(f^2), f = (|g|^2 + 1e-12)^((p-2)/2) g. */
function flux(g: NDArray, p: AdjFloat): NDArray {
  const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
  const f = np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
  return np.sum(np.power(f, 2));
}

function fluxFunctional(n: number, seed: number) {
  const rng = np.random.default_rng(seed);
  const tape = new Tape();
  const g = rng.normal(0, 1, [n, 2]);
  const p = new AdjFloat(3.2);
  const J = withTape(tape, () => flux(g, p));
  return { rf: new ReducedFunctional(J, [new Control(g), new Control(p)], { tape }), rng };
}

describe("compileFunctional", () => {
  it("gives the flux program's value, gradient, TLM and Hessian action of the uncompiled path, bit for bit", () => {
    const { rf, rng } = fluxFunctional(500, 1);
    const compiled = compileFunctional(rf);
    // the array blocks fused, the scalar exponent (p - 2) / 2 one segment step (its typed loops)
    expect(compiled.stats).toMatchObject({
      mode: "generated",
      fused: 7,
      views: 1,
      segments: 1,
      fallback: 0,
      blocks: 9,
    });
    const points = [0, 1, 2].map((k) => [rng.normal(0, 1, [500, 2]), 2.5 + 0.4 * k]);
    const directions = [[rng.normal(0, 1, [500, 2]), 0.3]];
    const { worst, identical: same, total } = compareModes(rf, compiled, points, directions);
    expect(worst).toBeLessThanOrEqual(1e-14);
    // the flux's loops follow the uncompiled summation order: every entry is the same float64
    expect(same).toBe(total);
  });

  it("matches the uncompiled path on random programs of elementwise ops, broadcasting, sums, reshapes and AdjFloats", () => {
    const arbitraries = programArbitraries(9);
    let identicalCount = 0;
    let totalCount = 0;
    fc.assert(
      fc.property(...arbitraries, (shape, ones, ops) => {
        const rng = np.random.default_rng(shape.length * 7 + ops.length);
        const tape = new Tape();
        const { x, y } = programInputs(rng, shape, ones);
        const p = new AdjFloat(1.7);
        const J = withTape(tape, () => randomProgram(x, y, p, ops, applyOp));
        const rf = new ReducedFunctional(J, [new Control(x), new Control(y), new Control(p)], { tape });
        const compiled = compileFunctional(rf);
        expect(compiled.stats.mode).toBe("generated");
        const points = [0, 1, 2].map((k) => [
          rng.normal(0, 1, x.shape),
          rng.normal(0, 1, y.shape),
          1.3 + 0.3 * k,
        ]);
        const directions = [[rng.normal(0, 1, x.shape), rng.normal(0, 1, y.shape), 0.7]];
        const result = compareModes(rf, compiled, points, directions);
        identicalCount += result.identical;
        totalCount += result.total;
        expect(result.worst).toBeLessThanOrEqual(1e-14);
      }),
      { numRuns: 300 },
    );
    // every result is the same float64 (600 runs at this seed and three others): the loops follow the blocks'
    // formulas and add adjoint contributions in the sweep's order
    expect(identicalCount).toBe(totalCount);
  });

  describe("adds adjoint contributions in the uncompiled sweep's order (every result the same float64)", () => {
    /** Compiles `program` of controls x, y, p and compares every mode at random points, bit for bit. */
    function sameSums(
      xShape: number[],
      yShape: number[],
      program: (x: NDArray, y: NDArray, p: AdjFloat) => NDArray,
    ) {
      const rng = np.random.default_rng(xShape.length * 31 + yShape.length);
      const tape = new Tape();
      const x = rng.normal(0, 1, xShape);
      const y = rng.normal(0, 1, yShape);
      const p = new AdjFloat(1.7);
      const J = withTape(tape, () => program(x, y, p));
      const rf = new ReducedFunctional(J, [new Control(x), new Control(y), new Control(p)], { tape });
      const compiled = compileFunctional(rf);
      const points = [0, 1, 2, 3].map((k) => [
        rng.normal(0, 1, xShape),
        rng.normal(0, 1, yShape),
        1.2 + 0.2 * k,
      ]);
      const directions = [[rng.normal(0, 1, xShape), rng.normal(0, 1, yShape), 0.7]];
      const result = compareModes(rf, compiled, points, directions);
      expect(result.identical).toBe(result.total);
      return compiled.stats;
    }

    /** J = sum(last^2) + sum over `values` of sum(sin(v) / 2), then (J + 0) * 1, as the random programs end. */
    function closing(values: Value[], last: Value): NDArray {
      let total: Value = np.sum(np.square(last));
      for (const value of values) total = np.add(total, np.sum(np.multiply(np.sin(value), 0.5)));
      return np.multiply(np.add(total, 0), 1) as NDArray;
    }

    it("a view read by two blocks sums its own adjoint first, then adds it to its base's", () => {
      const stats = sameSums([30, 4], [30, 4], (x, y, p) => {
        const v3 = np.multiply(p, x);
        const v4 = np.reshape(np.ravel(y), y.shape);
        const v5 = np.multiply(p, x);
        const v6 = np.sum(y, { axis: 0 });
        const v7 = np.sum(v4, { axis: 0 });
        const v8 = np.log(np.add(np.square(v6), 2));
        return closing([x, y, p, v3, v4, v5, v6, v7, v8], v8);
      });
      expect(stats.views).toBe(1); // the ravel (one reader, the reshape); the reshape is a step of its own
    });

    it("a view whose base another block reads before the view's reader adds its adjoint at the view's place", () => {
      sameSums([40], [3], (x, y, p) => {
        const v3 = np.multiply(np.expand_dims(x, 0), np.power(x, 2));
        const v4 = np.multiply(x, x);
        return closing([x, y, p, v3, v4], v4);
      });
    });

    it("a block does not join a group that runs before another reader of the same value", () => {
      const A = np.random.default_rng(4).normal(0, 1, [50, 50]);
      const stats = sameSums([50], [2], (x, y, p) => {
        const a = np.sin(x);
        const b = np.exp(np.multiply(x, 0.1));
        const m = np.matmul(A, x); // a fallback step between readers of x
        const c = np.cos(x);
        const d = np.tanh(x);
        const e = np.multiply(np.sum(y), p);
        return np.add(
          np.add(np.add(np.sum(a), np.sum(b)), np.add(np.sum(m), np.sum(c))),
          np.add(np.sum(d), e),
        );
      });
      expect(stats.fallback).toBe(1);
    });

    it("a broadcast operand with earlier contributions gets its broadcast terms summed first", () => {
      const stats = sameSums([40, 3], [3], (x, y, p) => {
        const t = np.sum(np.tanh(y));
        const w = np.sum(np.sin(np.multiply(x, y))); // y read with stride 0 along the rows
        const c = np.multiply(np.sum(np.cos(y)), p);
        const e = np.sum(np.exp(np.multiply(y, 0.1)));
        return np.add(np.add(t, w), np.add(c, e));
      });
      // x * y stays in its loop, which sums y's terms apart and adds the sums after the loop
      expect(stats.fallback).toBe(0);
      // the same through a broadcast_to view, into a sum and into a product
      for (const reader of [
        (x: NDArray, b: NDArray) => np.sum(np.sin(np.multiply(x, b))),
        (x: NDArray, b: NDArray) => np.sum(np.multiply(np.sum(b), x)),
        (x: NDArray, b: NDArray) => np.sum(np.multiply(np.sum(b, { axis: 0, keepdims: true }), x)),
      ]) {
        const viewed = sameSums([40, 3], [3], (x, y, p) => {
          const t = np.tanh(y);
          const w = reader(x, np.broadcast_to(t, [40, 3]));
          return np.add(np.multiply(w, p), np.add(np.sum(np.cos(t)), np.sum(np.exp(np.multiply(t, 0.1)))));
        });
        expect(viewed).toMatchObject({ views: 1, fallback: 0 });
      }
    });

    it("an operand broadcast along axes before and after an axis it walks gets the sweep's block-wise sums", () => {
      // [3, 1] against [2, 3, 4]: the sweep sums row by row, then across the leading axis
      const direct = sameSums([2, 3, 4], [3, 1], (x, y, p) =>
        np.multiply(np.sum(np.sin(np.multiply(x, np.tanh(y)))), p),
      );
      expect(direct.fallback).toBe(1);
      const view = sameSums([2, 3, 4], [3, 1], (x, y, p) =>
        np.multiply(np.sum(np.sin(np.multiply(x, np.broadcast_to(np.tanh(y), [2, 3, 4])))), p),
      );
      expect(view.views).toBe(0); // the broadcast_to runs its own modes (sumToShape)
    });

    it("an operand broadcast along leading or trailing axes only stays in the loop (entry-order or row sums)", () => {
      for (const yShape of [[7], [5, 1], [1, 7]]) {
        const stats = sameSums([5, 7], yShape, (x, y, p) =>
          np.multiply(np.sum(np.sin(np.multiply(x, np.tanh(y)))), p),
        );
        expect(stats.fallback).toBe(0);
      }
    });
  });

  it("passes the Taylor test: rates ~1 without, ~2 with the gradient, ~3 with the Hessian", () => {
    const { rf, rng } = fluxFunctional(50, 3);
    const compiled = compileFunctional(rf);
    const m = [rng.normal(0, 1, [50, 2]), 3.1];
    const h = [rng.normal(0, 1, [50, 2]), 0.2];
    expect(taylorTest(compiled, m, h, { dJdm: 0 })).toBeGreaterThan(0.9);
    expect(taylorTest(compiled, m, h)).toBeGreaterThan(1.9);
    expect(taylorTest(compiled, m, h, { hessian: true })).toBeGreaterThan(2.9);
  });

  it("reads broadcast_to, expand_dims and squeeze as views (no step) with the uncompiled results", () => {
    const rng = np.random.default_rng(9);
    const tape = new Tape();
    const y = rng.normal(0, 1, [1, 3]);
    const x = rng.normal(0, 1, [4, 3]);
    const J = withTape(tape, () => {
      const b = np.broadcast_to(y, [4, 3]); // stride 0 along axis 0, in place
      const c = np.squeeze(np.expand_dims(np.multiply(b, np.sin(x)), 0), 0);
      const d = np.sum(np.multiply(c, b), { axis: 0, keepdims: true });
      return np.sum(np.exp(np.multiply(d, np.broadcast_to(np.sum(y), [1, 3]))));
    });
    const rf = new ReducedFunctional(J, [new Control(x), new Control(y)], { tape });
    const compiled = compileFunctional(rf);
    // b has two readers: its adjoint is summed first (a step of its own, the block's modes), as the sweep
    // does; the other views have one reader each and stay free
    expect(compiled.stats.views).toBe(3);
    expect(compiled.stats.fallback).toBe(1);
    const points = [0, 1].map(() => [rng.normal(0, 1, [4, 3]), rng.normal(0, 0.5, [1, 3])]);
    const directions = [[rng.normal(0, 1, [4, 3]), rng.normal(0, 1, [1, 3])]];
    const result = compareModes(rf, compiled, points, directions);
    expect(result.worst).toBeLessThanOrEqual(1e-14);
    expect(result.identical).toBe(result.total);
  });

  it("runs matmul, solve and pointMap blocks through their own modes and matches the uncompiled path", () => {
    const rng = np.random.default_rng(5);
    const tape = new Tape();
    const A = np.add(rng.normal(0, 1, [4, 4]), np.multiply(np.eye(4), 6));
    const x = rng.normal(0, 1, [4, 3]);
    const p = new AdjFloat(2.5);
    const square = pointMap([[-1]], [-1], { bare: true })((v: NDArray) => np.multiply(v, np.sin(v)));
    const J = withTape(tape, () => {
      const y = np.matmul(A, np.tanh(x));
      const z = np.linalg.solve(A, np.multiply(y, p));
      const w = square(np.ravel(z));
      return np.sum(np.multiply(np.power(np.add(np.square(w), 1), np.divide(p, 2)), 0.5));
    });
    const rf = new ReducedFunctional(J, [new Control(x), new Control(p)], { tape });
    const compiled = compileFunctional(rf);
    expect(compiled.stats.fallback).toBe(3); // matmul, solve, pointMap
    expect(compiled.stats.segments).toBe(1); // the segment p / 2
    expect(compiled.stats.fused).toBeGreaterThan(3);
    const points = [0, 1].map((k) => [rng.normal(0, 1, [4, 3]), 2 + k * 0.5]);
    const directions = [[rng.normal(0, 1, [4, 3]), 0.4]];
    expect(compareModes(rf, compiled, points, directions).worst).toBeLessThanOrEqual(1e-14);
  });

  it("interprets the same program through the blocks when asked (as where new Function is refused)", () => {
    const { rf, rng } = fluxFunctional(40, 4);
    const generated = compileFunctional(rf);
    const interpreted = compileFunctional(rf, { interpret: true });
    expect(interpreted.stats).toMatchObject({ mode: "interpreted", reason: "options.interpret", kernels: 0 });
    expect(interpreted.stats.fallback + interpreted.stats.segments).toBe(interpreted.stats.blocks);
    const point = [rng.normal(0, 1, [40, 2]), 2.9];
    const direction = [rng.normal(0, 1, [40, 2]), -0.3];
    expect(compareModes(rf, interpreted, [point], [direction]).worst).toBeLessThanOrEqual(1e-14);
    expect(compareModes(rf, generated, [point], [direction]).worst).toBeLessThanOrEqual(1e-14);
  });

  it("falls back to the interpreter by itself when new Function is refused (a strict CSP)", () => {
    const { rf, rng } = fluxFunctional(30, 8);
    const original = globalThis.Function;
    const refused = function refusedFunction(): never {
      throw new EvalError("Refused to evaluate a string as JavaScript: unsafe-eval is not allowed");
    };
    let compiled: CompiledFunctional | undefined;
    try {
      globalThis.Function = refused as unknown as FunctionConstructor;
      compiled = compileFunctional(rf);
    } finally {
      globalThis.Function = original;
    }
    expect(compiled.stats.mode).toBe("interpreted");
    expect(compiled.stats.reason).toMatch(/code generation failed: .*unsafe-eval/);
    const point = [rng.normal(0, 1, [30, 2]), 2.4];
    const direction = [rng.normal(0, 1, [30, 2]), 0.5];
    expect(compareModes(rf, compiled, [point], [direction]).worst).toBeLessThanOrEqual(1e-14);
  });

  it("gives the uncompiled Hessian action whether or not a later block reads a row chain's outputs", () => {
    // f = mu g is the end of a row chain; alone, the chain's tangents run inside its second-order loop; read by
    // a matmul after it, they run before the matmul's second-order pass needs them
    const rng = np.random.default_rng(11);
    const g = rng.normal(0, 1, [40, 2]);
    const p = new AdjFloat(3.1);
    const f = (x: NDArray, q: AdjFloat) => {
      const mu = np.power(np.add(np.sum(np.multiply(x, x), 1), 1e-12), np.divide(np.subtract(q, 2), 2));
      return np.multiply(np.reshape(mu, [40, 1]), x);
    };
    for (const objective of [
      (x: NDArray, q: AdjFloat) => np.sum(np.power(f(x, q), 2)),
      (x: NDArray, q: AdjFloat) => np.sum(np.matmul(np.transpose(f(x, q)), f(x, q))),
    ]) {
      const tape = new Tape();
      const J = withTape(tape, () => objective(g, p));
      const rf = new ReducedFunctional(J, [new Control(g), new Control(p)], { tape });
      const compiled = compileFunctional(rf);
      for (let k = 0; k < 2; k++) {
        const point: [NDArray, number] = [rng.normal(0, 1, [40, 2]), 2.7 + 0.3 * k];
        const direction: [NDArray, number] = [rng.normal(0, 1, [40, 2]), 0.4];
        expect(compiled.evaluate(point)).toBe(rf.evaluate(point));
        const [hg, hp] = compiled.hessian(direction);
        const [ug, up] = rf.hessian(direction);
        expect(relativeError(hg, ug)).toBeLessThanOrEqual(1e-14);
        expect(relativeError(hp, up)).toBeLessThanOrEqual(1e-14);
        // the tangents stay right for a following TLM and Hessian action at the same point
        expect(compiled.tlm(direction)).toBe(rf.tlm(direction));
        expect(identical(compiled.hessian(direction)[0], hg)).toBe(true);
      }
    }
  });

  it("starts at the tape's values, derivatives included (its loops ran once at compile time, then reset)", () => {
    const { rf } = fluxFunctional(30, 12);
    const [J] = entries(rf.functional);
    const [ug, up] = rf.derivative();
    const [hg, hp] = rf.hessian([np.ones([30, 2]), 0.5]);
    const compiled = compileFunctional(rf);
    expect(compiled.value()).toBe(J);
    const [dg, dp] = compiled.derivative();
    expect(identical(dg, ug) && identical(dp, up)).toBe(true);
    const [cg, cp] = compiled.hessian([np.ones([30, 2]), 0.5]);
    expect(identical(cg, hg) && identical(cp, hp)).toBe(true);
  });

  it("returns fresh arrays that later calls never write", () => {
    const { rf, rng } = fluxFunctional(20, 6);
    const compiled = compileFunctional(rf);
    const [dg] = compiled.derivative();
    const copy = Float64Array.from(dg.data);
    compiled.evaluate([rng.normal(0, 1, [20, 2]), 2.2]);
    compiled.derivative();
    compiled.hessian([rng.normal(0, 1, [20, 2]), 1]);
    expect(Array.from(dg.data)).toEqual(Array.from(copy));
  });

  it("refuses derivatives at a non-finite control value or result, checked again after each evaluate", () => {
    const tape = new Tape();
    const x = np.array([0.5, 1.5, 2.5, 3.5, 4.5]);
    const J = withTape(tape, () => np.sum(np.multiply(np.sqrt(x), np.minimum(x, 10))));
    const compiled = compileFunctional(new ReducedFunctional(J, new Control(x), { tape }));
    compiled.evaluate(np.array([1, 2, 3, 4, 5]));
    const first = compiled.derivative();
    // a non-finite entry in any position (the check runs in groups of four and a remainder)
    for (let k = 0; k < 5; k++) {
      const bad = np.array([1, 2, 3, 4, 5]);
      bad.data[k] = k % 2 === 0 ? Number.NaN : Number.POSITIVE_INFINITY;
      compiled.evaluate(bad);
      expect(() => compiled.derivative()).toThrow(NonFiniteValueError);
      expect(() => compiled.hessian(np.ones([5]))).toThrow(/control 0 holds a non-finite value/);
    }
    // a finite point again: the earlier verdict is not reused
    compiled.evaluate(np.array([1, 2, 3, 4, 5]));
    expect(Array.from(compiled.derivative().data)).toEqual(Array.from(first.data));
    expect(Array.from(compiled.derivative().data)).toEqual(Array.from(first.data));
    // sqrt at 0: finite control and value, infinite derivative
    compiled.evaluate(np.array([0, 2, 3, 4, 5]));
    expect(() => compiled.derivative()).toThrow(/the derivative is not finite/);
  });

  it("honours scale, derivativeComponents and the callbacks of the ReducedFunctional", () => {
    const tape = new Tape();
    const x = np.array([0.5, 1.5]);
    const p = new AdjFloat(1.2);
    const J = withTape(tape, () => np.sum(np.multiply(np.sin(x), p)));
    const events: string[] = [];
    const rf = new ReducedFunctional(J, [new Control(x), new Control(p)], {
      tape,
      scale: -2,
      derivativeComponents: [1],
      callbacks: { evalCbPost: () => events.push("eval"), deriveCbPost: () => events.push("derive") },
    });
    const compiled = compileFunctional(rf);
    expect(compiled.evaluate([[1, 2], 0.5])).toBe(rf.evaluate([[1, 2], 0.5]));
    const [dx, dp] = compiled.derivative();
    const [ux, up] = rf.derivative();
    expect(Array.from(dx.data)).toEqual(Array.from(ux.data));
    expect(dp.value).toBe(up.value);
    expect(compiled.tlm([[1, 1], 1])).toBe(rf.tlm([[1, 1], 1]));
    expect(events).toEqual(["eval", "eval", "derive", "derive"]);
  });

  it("rejects wrong shapes and a wrong number of controls with typed errors, and keeps working", () => {
    const { rf, rng } = fluxFunctional(10, 7);
    const compiled = compileFunctional(rf);
    const before = compiled.evaluate([rng.normal(0, 1, [10, 2]), 3]);
    expect(() => compiled.evaluate([np.zeros([10, 3]), 3])).toThrow(ShapeMismatchError);
    expect(() => compiled.evaluate([np.zeros([10, 3]), 3])).toThrow(/compileFunctional.*\[10, 2\]/);
    expect(() => compiled.evaluate([np.zeros([10, 2])] as never)).toThrow(ControlCountMismatchError);
    expect(() => compiled.hessian([np.zeros([3]), 1])).toThrow(TsadjointError);
    expect(() => compileFunctional(rf, { interpret: 1 } as never)).toThrow(InvalidArgumentError);
    expect(() => compileFunctional(rf, { jit: true } as never)).toThrow(/interpret/);
    expect(compiled.value()).toBe(before);
    const [dg] = compiled.derivative();
    expect(dg.shape).toEqual([10, 2]);
  });

  it("compiles AdjFloat-only tapes as one scalar-segment step with the uncompiled values, bit for bit", () => {
    const tape = new Tape();
    const a = new AdjFloat(0.3);
    const J = withTape(tape, () => {
      let x: AdjFloat = a;
      for (let i = 0; i < 50; i++) x = np.add(np.multiply(x, 0.9), np.sin(x));
      return x;
    });
    const rf = new ReducedFunctional(J, new Control(a), { tape });
    const compiled = compileFunctional(rf);
    // the segment runs its own typed loops: no generated kernel, one step
    expect(compiled.stats).toMatchObject({ blocks: 1, segments: 1, fallback: 0, fused: 0, kernels: 0 });
    const result = compareModes(rf, compiled, [0.1, 0.7], [1.3]);
    expect(result.worst).toBeLessThanOrEqual(1e-14);
    expect(result.identical).toBe(result.total);
    const d = compiled.derivative();
    expect(d).toBeInstanceOf(AdjFloat);
  });

  it("compiles a long scalar chain (20,000 operations) as one step; derivative and Hessian action match", () => {
    const tape = new Tape();
    const x0 = new AdjFloat(0.3);
    const a = new AdjFloat(0.9);
    const J = withTape(tape, () => {
      let x: AdjFloat = x0;
      for (let i = 0; i < 6667; i++) x = np.add(np.multiply(x, a), np.sin(x)); // 20,001 operations
      return x;
    });
    const rf = new ReducedFunctional(J, [new Control(x0), new Control(a)], { tape });
    const compiled = compileFunctional(rf);
    // linear compile: one step over the segment's arrays, no generated code a scalar
    expect(compiled.stats).toMatchObject({
      mode: "generated",
      blocks: 1,
      segments: 1,
      fallback: 0,
      fused: 0,
      kernels: 0,
    });
    const points = [
      [0.3, 0.9],
      [0.1, 0.85],
    ];
    const result = compareModes(rf, compiled, points, [[1, -0.5]]);
    expect(result.identical).toBe(result.total);
    expect(compiled.derivative().every((d) => Number.isFinite(d.value))).toBe(true);
  });

  it("a scalar input read by several segment operations and by array blocks gets the uncompiled sums", () => {
    // p is read by operations of two segments and by array loops: the adjoint and second-order
    // contributions are added to p in the uncompiled sweep's order (the steps keep their tape order)
    const rng = np.random.default_rng(20);
    const tape = new Tape();
    const x = rng.normal(0, 1, [64]);
    const p = new AdjFloat(1.7);
    const J = withTape(tape, () => {
      const q = np.add(np.multiply(p, p), np.sin(p));
      const s = np.sum(np.power(np.add(np.square(x), 1), q));
      const r = np.multiply(np.add(np.tanh(s), np.multiply(s, p)), np.exp(np.multiply(p, 0.1)));
      // an array loop reading p after the segments (it must not move before them)
      return np.add(r, np.sum(np.multiply(np.cos(x), p)));
    });
    const rf = new ReducedFunctional(J, [new Control(x), new Control(p)], { tape });
    const compiled = compileFunctional(rf);
    expect(compiled.stats.segments).toBe(2); // the two scalar segments
    let same = 0;
    let total = 0;
    const note = (a: unknown, b: unknown) => {
      total++;
      if (identical(a, b)) same++;
    };
    for (let k = 0; k < 3; k++) {
      const point = [rng.normal(0, 1, [64]), 1.2 + 0.3 * k] as const;
      note(compiled.evaluate(point), rf.evaluate(point));
      const [dxc, dpc] = compiled.derivative();
      const [dxu, dpu] = rf.derivative();
      note(dxc, dxu);
      note(dpc, dpu);
      const direction = [rng.normal(0, 1, [64]), -0.7] as const;
      const [hxc, hpc] = compiled.hessian(direction);
      const [hxu, hpu] = rf.hessian(direction);
      note(hxc, hxu);
      note(hpc, hpu);
      note(compiled.tlm(direction), rf.tlm(direction));
    }
    expect(same).toBe(total);
  });
});

function applyOp(
  op: { kind: number; axis: number; keepdims: boolean },
  a: Value,
  b: Value,
  p: AdjFloat,
): Value {
  switch (op.kind) {
    case 0:
      return np.multiply(a, b);
    case 1:
      return np.add(a, b);
    case 2:
      return np.subtract(np.tanh(a), b);
    case 3:
      return np.divide(a, np.add(np.square(b), 1));
    case 4:
      return np.power(np.add(np.square(a), 1), p);
    case 5:
      return np.power(np.add(np.square(a), 0.5), 1.5);
    case 6:
      return np.exp(np.sin(a));
    case 7:
      return np.log(np.add(np.square(a), 2));
    case 8: {
      if (!(a instanceof NDArray) || a.ndim === 0) return np.cos(a);
      return np.sum(a, { axis: op.axis % a.ndim, keepdims: op.keepdims });
    }
    case 9: {
      if (!(a instanceof NDArray)) return np.multiply(a, 2);
      return np.reshape(np.ravel(a), a.shape);
    }
    case 10: {
      if (!(a instanceof NDArray)) return np.square(a);
      return np.multiply(np.expand_dims(a, 0), np.power(a, 2));
    }
    default:
      return np.sqrt(np.add(np.square(a), 1));
  }
}
