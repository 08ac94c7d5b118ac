import fc from "fast-check";
import {
  AdjFloat,
  Control,
  computeGradient,
  computeHessian,
  defineLinear,
  NDArray,
  NonFiniteValueError,
  np,
  pointMap,
  ReducedFunctional,
  Tape,
  withTape,
} from "tsadjoint";
import { Revolve } from "tsadjoint/checkpoint";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pooledBytes, SweepBuffers, setPoolMinimum, takeArray, takeZeros } from "../../src/values/pool.js";
import { record } from "../checkpoint/program.js";
import { programArbitraries, programInputs, randomProgram } from "../support/random-program.js";

type Value = number | AdjFloat | NDArray;

let previousMinimum = 0;
beforeEach(() => {
  // pool every array, however small, so that the small test arrays go through the ledger
  previousMinimum = setPoolMinimum(1);
});
afterEach(() => {
  setPoolMinimum(previousMinimum);
});

/** The float64 bit patterns of a result (exact comparison, -0 and NaN included). */
function bits(value: unknown): string[] {
  const data =
    value instanceof NDArray
      ? value.data
      : Float64Array.of(value instanceof AdjFloat ? value.value : Number(value));
  return Array.from(new BigUint64Array(Float64Array.from(data).buffer), (b) => b.toString(16));
}

/** Gradient entries, with arrays of at least `minimum` entries pooled (none for an infinite minimum). */
function gradientBits(build: (tape: Tape) => { J: Value; controls: Control[] }, minimum: number): string[][] {
  setPoolMinimum(minimum);
  const tape = new Tape();
  const { J, controls } = build(tape);
  if (typeof J === "number") throw new Error("J must be recorded");
  const result = computeGradient(J, controls, { tape });
  return (Array.isArray(result) ? result : [result]).map(bits);
}

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
      return np.power(np.add(np.square(a), 0.5), 2);
    case 6:
      return np.multiply(a, a);
    case 7:
      return np.add(a, a);
    case 8:
      if (!(a instanceof NDArray) || a.ndim === 0) return np.cos(a);
      return np.sum(a, { axis: op.axis % a.ndim, keepdims: op.keepdims });
    case 9:
      if (!(a instanceof NDArray)) return np.multiply(a, 2);
      return np.reshape(np.ravel(a), a.shape);
    case 10:
      if (!(a instanceof NDArray)) return np.square(a);
      return np.mean(np.multiply(np.expand_dims(a, 0), np.power(a, 2)), { axis: 0 });
    default:
      return np.cumsum(np.sqrt(np.add(np.square(a), 1)));
  }
}

describe("takeArray / takeZeros", () => {
  it("outside an adjoint sweep: a new zeroed array of the length, never a pooled one", () => {
    const a = takeArray(5);
    const b = takeZeros(5);
    expect(a.length).toBe(5);
    expect(Array.from(a)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(b)).toEqual([0, 0, 0, 0, 0]);
    expect(a.buffer).not.toBe(b.buffer);
  });

  it("within a ledger: an issued array that entered no slot is pooled by settle and handed out again (zeroed by takeZeros)", () => {
    const ledger = new SweepBuffers();
    const before = pooledBytes();
    const previous = ledger.enter();
    const first = takeArray(7);
    first.fill(3);
    ledger.leave(previous);
    ledger.settle();
    expect(pooledBytes()).toBe(before + 56);
    const again = ledger.enter();
    const second = takeZeros(7);
    ledger.leave(again);
    expect(second).toBe(first);
    expect(Array.from(second)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(pooledBytes()).toBe(before);
  });
});

describe("computeGradient with the adjoint buffers reused", () => {
  it("is bit-identical to the sweep without reuse on random programs (shared operands, x*x, x+x, views, sums)", () => {
    const arbitraries = programArbitraries(10);
    fc.assert(
      fc.property(...arbitraries, (shape, ones, ops) => {
        const rng = np.random.default_rng(shape.length * 7 + ops.length);
        const { x, y } = programInputs(rng, shape, ones);
        const build = (tape: Tape) => {
          const p = new AdjFloat(1.7);
          const J = withTape(tape, () => randomProgram(x, y, p, ops, applyOp));
          return { J, controls: [new Control(x), new Control(y), new Control(p)] };
        };
        const reference = gradientBits(build, Number.POSITIVE_INFINITY);
        const first = gradientBits(build, 1);
        // a second sweep runs on the buffers the first one freed
        const second = gradientBits(build, 1);
        // pooled and unpooled (shorter) arrays mixed in one sweep
        const mixed = gradientBits(build, 6);
        expect(first).toEqual(reference);
        expect(second).toEqual(reference);
        expect(mixed).toEqual(reference);
      }),
      { numRuns: 80 },
    );
  });

  it("never reuses a returned gradient, a control's adjoint on an intermediate value, or the seed", () => {
    const rng = np.random.default_rng(3);
    const x = rng.normal(0, 1, [40, 3]);
    const seed = rng.normal(0, 1, [40, 3]);
    const seedCopy = Array.from(seed.data);
    const tape = new Tape();
    const u = withTape(tape, () => np.multiply(np.sin(x), np.exp(x)));
    const J = withTape(tape, () => np.add(np.multiply(u, u), np.reshape(np.ravel(u), [40, 3])));
    const [gx, gu] = computeGradient(J, [new Control(x), new Control(u)], {
      tape,
      adjValue: seed,
    }) as NDArray[];
    const kept = [Array.from(gx.data), Array.from(gu.data)];
    // more sweeps on other tapes take every freed buffer of this length
    for (let k = 0; k < 4; k++) {
      const other = new Tape();
      const z = rng.normal(0, 1, [40, 3]);
      const K = withTape(other, () => np.sum(np.square(np.tanh(np.multiply(z, 2)))));
      computeGradient(K, new Control(z), { tape: other });
    }
    expect([Array.from(gx.data), Array.from(gu.data)]).toEqual(kept);
    expect(Array.from(seed.data)).toEqual(seedCopy);
  });

  it("never reuses or changes an adjoint that a user's linear operation was handed (it may have stored it)", () => {
    const stored: NDArray[] = [];
    const keep = defineLinear({
      name: "keep",
      apply: (x) => np.multiply(x, 1),
      transpose: (y) => {
        stored.push(y);
        return y;
      },
    });
    const rng = np.random.default_rng(4);
    const x = rng.normal(0, 1, [30]);
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(np.square(np.add(keep(np.sin(x), undefined), np.cos(x)))));
    computeGradient(J, new Control(x), { tape });
    expect(stored).toHaveLength(1);
    const copy = Array.from(stored[0].data);
    for (let k = 0; k < 4; k++) {
      const other = new Tape();
      const z = rng.normal(0, 1, [30]);
      const K = withTape(other, () => np.sum(np.square(np.multiply(np.tanh(z), z))));
      computeGradient(K, new Control(z), { tape: other });
    }
    expect(Array.from(stored[0].data)).toEqual(copy);
  });

  it("gives the Hessian action of the sweep without reuse (the second-order sweep computes its own adjoints)", () => {
    const rng = np.random.default_rng(5);
    const g = rng.normal(0, 1, [25, 2]);
    const v = rng.normal(0, 1, [25, 2]);
    const hvp = (pooled: boolean) => {
      setPoolMinimum(pooled ? 1 : Number.POSITIVE_INFINITY);
      const tape = new Tape();
      const p = new AdjFloat(3.2);
      const J = withTape(tape, () => {
        const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
        return np.sum(np.power(np.multiply(np.reshape(mu, [25, 1]), g), 2));
      });
      const controls = [new Control(g), new Control(p)];
      computeGradient(J, controls, { tape });
      return computeHessian(J, controls, [v, 0.3], { tape }).map(bits);
    };
    expect(hvp(true)).toEqual(hvp(false));
  });

  it("NonFiniteValueError still names the block where the derivative became infinite", () => {
    const tape = new Tape();
    const x = np.array([0, 1, 4, 9]);
    const J = withTape(tape, () => np.sum(np.sqrt(np.subtract(np.add(x, 1), 1))));
    expect(() => computeGradient(J, new Control(x), { tape })).toThrow(NonFiniteValueError);
    expect(() => computeGradient(J, new Control(x), { tape })).toThrow(/block 'sqrt'/);
  });
});

/** Hessian-action entries, with arrays of at least `minimum` entries pooled (none for an infinite minimum). */
function hessianBits(
  build: (tape: Tape) => { J: Value; controls: Control[]; direction: (NDArray | number)[] },
  minimum: number,
): string[][] {
  setPoolMinimum(minimum);
  const tape = new Tape();
  const { J, controls, direction } = build(tape);
  if (typeof J === "number") throw new Error("J must be recorded");
  const result = computeHessian(J, controls, direction, { tape });
  return (Array.isArray(result) ? result : [result]).map(bits);
}

describe("computeHessian with the tangent, adjoint and second-order adjoint buffers reused", () => {
  it("is bit-identical to the sweeps without reuse on random programs (shared operands, x*x, x+x, views, sums)", () => {
    const arbitraries = programArbitraries(10);
    fc.assert(
      fc.property(...arbitraries, (shape, ones, ops) => {
        const rng = np.random.default_rng(shape.length * 5 + ops.length);
        const { x, y } = programInputs(rng, shape, ones);
        const vx = rng.normal(0, 1, x.shape);
        const vy = rng.normal(0, 1, y.shape);
        const build = (tape: Tape) => {
          const p = new AdjFloat(1.7);
          const J = withTape(tape, () => randomProgram(x, y, p, ops, applyOp));
          return {
            J,
            controls: [new Control(x), new Control(y), new Control(p)],
            direction: [vx, vy, 0.3],
          };
        };
        const reference = hessianBits(build, Number.POSITIVE_INFINITY);
        const first = hessianBits(build, 1);
        // a second Hessian action runs on the buffers the first one freed
        const second = hessianBits(build, 1);
        const mixed = hessianBits(build, 6);
        expect(first).toEqual(reference);
        expect(second).toEqual(reference);
        expect(mixed).toEqual(reference);
      }),
      { numRuns: 60 },
    );
  });

  it("ReducedFunctional.hessian, repeated at new points and directions, matches the sweeps without reuse", () => {
    const rng = np.random.default_rng(6);
    const g = rng.normal(0, 1, [30, 2]);
    const directions = [0, 1, 2].map(() => rng.normal(0, 1, [30, 2]));
    const run = (minimum: number) => {
      setPoolMinimum(minimum);
      const tape = new Tape();
      const p = new AdjFloat(3.2);
      const J = withTape(tape, () => {
        const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
        return np.sum(np.power(np.multiply(np.reshape(mu, [30, 1]), g), 2));
      });
      const rf = new ReducedFunctional(J, [new Control(g), new Control(p)], { tape });
      const out: string[][] = [];
      directions.forEach((v, k) => {
        rf.evaluate([np.multiply(g, 1 + 0.1 * k), new AdjFloat(3 + 0.1 * k)]);
        out.push(...(rf.hessian([v, 0.3 * k]) as Value[]).map(bits));
        out.push(...(rf.derivative() as Value[]).map(bits));
      });
      return out;
    };
    expect(run(1)).toEqual(run(Number.POSITIVE_INFINITY));
  });

  it("through a pointMap (nested tangent and second-order sweeps, reused nested slots) matches the sweeps without reuse", () => {
    const flux = pointMap([[-1, 2], []], [-1, 2], { bare: true })((g: NDArray, p: AdjFloat) => {
      const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
      return np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
    });
    const rng = np.random.default_rng(7);
    const g = rng.normal(0, 1, [12, 2]);
    const v = rng.normal(0, 1, [12, 2]);
    const w = rng.normal(0, 1, [12, 2]);
    const run = (minimum: number) => {
      setPoolMinimum(minimum);
      const tape = new Tape();
      const p = new AdjFloat(3.2);
      const J = withTape(tape, () => np.sum(np.square(np.sin(flux(np.multiply(g, 1.5), p) as NDArray))));
      const controls = [new Control(g), new Control(p)];
      const out: string[][] = [];
      // the adjoint left in the nested slots, then two Hessian actions (the nested sweeps' reuse checks)
      out.push(...(computeGradient(J, controls, { tape }) as Value[]).map(bits));
      out.push(...(computeHessian(J, controls, [v, 0.3], { tape }) as Value[]).map(bits));
      out.push(...(computeHessian(J, controls, [w, -0.2], { tape }) as Value[]).map(bits));
      out.push(...(computeHessian(J, controls, [w, -0.2], { tape }) as Value[]).map(bits));
      return out;
    };
    expect(run(1)).toEqual(run(Number.POSITIVE_INFINITY));
  });

  it("never reuses or changes a tangent, adjoint or second-order adjoint a user's linear operation was handed", () => {
    const stored: { array: NDArray; copy: number[] }[] = [];
    const keep = (array: NDArray) => {
      stored.push({ array, copy: Array.from(array.data) });
      return array;
    };
    const scale = defineLinear({
      name: "scale",
      // apply sees the values (forward, replay) and the tangents; transpose the adjoints and second-order ones
      apply: (x) => np.multiply(keep(x), 2),
      transpose: (y) => np.multiply(keep(y), 2),
    });
    const rng = np.random.default_rng(8);
    const x = rng.normal(0, 1, [16]);
    const v = rng.normal(0, 1, [16]);
    const tape = new Tape();
    const J = withTape(tape, () =>
      np.sum(np.square(np.sin(np.multiply(np.cos(scale(np.tanh(np.sin(x)), undefined)), np.sin(x))))),
    );
    const before = stored.length;
    computeHessian(J, new Control(x), v, { tape });
    expect(stored.length).toBeGreaterThan(before + 2);
    for (let k = 0; k < 3; k++) {
      const other = new Tape();
      const z = rng.normal(0, 1, [16]);
      const K = withTape(other, () => np.sum(np.square(np.tanh(np.multiply(np.sin(z), z)))));
      computeHessian(K, new Control(z), rng.normal(0, 1, [16]), { tape: other });
    }
    for (const { array, copy } of stored) expect(Array.from(array.data)).toEqual(copy);
  });

  it("NonFiniteValueError still names the block where the second-order adjoint became infinite", () => {
    const tape = new Tape();
    const x = np.array([0, 1, 4, 9]);
    const J = withTape(tape, () => np.sum(np.sqrt(np.subtract(np.add(x, 1), 1))));
    const v = np.array([1, 1, 1, 1]);
    expect(() => computeHessian(J, new Control(x), v, { tape })).toThrow(NonFiniteValueError);
    expect(() => computeHessian(J, new Control(x), v, { tape })).toThrow(/block 'sqrt'/);
  });

  it("a time loop of solves, a pointMap and an overloadFunction, checkpointed (no reuse there) or not, matches the sweeps without reuse", () => {
    const run = (minimum: number, checkpointed: boolean) => {
      setPoolMinimum(minimum);
      const program = record(6, checkpointed ? new Revolve(6, 2) : undefined);
      const h = [
        np.array([0.2, -0.1, 0.3, 0.05, 0.1]),
        new AdjFloat(0.3),
        np.array([0.1, 0.2, -0.2, 0.05, 0.4]),
      ];
      const out: string[][] = [];
      for (let k = 0; k < 2; k++) {
        out.push(...(program.rf.hessian(h) as Value[]).map(bits));
        out.push(
          ...(computeHessian(program.J, program.controls, h, { tape: program.tape }) as Value[]).map(bits),
        );
      }
      return out;
    };
    expect(run(1, false)).toEqual(run(Number.POSITIVE_INFINITY, false));
    expect(run(1, true)).toEqual(run(Number.POSITIVE_INFINITY, true));
  });
});
