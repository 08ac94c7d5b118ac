import fc from "fast-check";
import {
  AdjFloat,
  assertRule,
  Control,
  computeGradient,
  InvalidArgumentError,
  np,
  ShapeMismatchError,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import type { NDArray } from "../../src/values/ndarray.js";

/** A shape of rank 0 to 3 with sizes 1 to 4. */
const shapeArbitrary = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });

function size(shape: readonly number[]): number {
  return shape.reduce((p, n) => p * n, 1);
}

function arrayOf(shape: readonly number[]): fc.Arbitrary<NDArray> {
  const value = fc.double({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true });
  return fc
    .array(value, { minLength: size(shape), maxLength: size(shape) })
    .map((values) => np.array(values, shape));
}

const seedArbitrary = fc.integer({ min: 1, max: 1000 });

/** A random factorisation of `total` into a shape of rank 0 to 4 (with one entry maybe -1). */
function reshapeTarget(total: number): fc.Arbitrary<number[]> {
  return fc
    .array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 })
    .map((candidates) => {
      const target: number[] = [];
      let left = total;
      for (const c of candidates) {
        if (left % c === 0) {
          target.push(c);
          left /= c;
        }
      }
      if (left !== 1 || target.length === 0) target.push(left);
      return target;
    })
    .chain((target) =>
      fc.integer({ min: -1, max: target.length - 1 }).map((infer) => {
        const copy = target.slice();
        if (infer >= 0) copy[infer] = -1;
        return copy;
      }),
    );
}

describe("np.reshape", () => {
  it("passes the rule checker for random shapes and targets (with -1)", () => {
    fc.assert(
      fc.property(
        shapeArbitrary.chain((shape) =>
          fc.record({ x: arrayOf(shape), target: reshapeTarget(size(shape)), seed: seedArbitrary }),
        ),
        ({ x, target, seed }) => {
          assertRule((a) => np.reshape(a as NDArray, target), [x], { seed });
        },
      ),
      { numRuns: 60 },
    );
  });

  it("gives NumPy's shapes, accepts AdjFloats and a single size", () => {
    const x = np.array([1, 2, 3, 4, 5, 6]);
    expect(np.reshape(x, [2, -1]).toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(np.reshape(x, 6).shape).toEqual([6]);
    expect(np.reshape(np.array(3), []).shape).toEqual([]);
    const s = new AdjFloat(2);
    const tape = new Tape();
    const y = withTape(tape, () => np.reshape(s, [1, 1]));
    expect(y.shape).toEqual([1, 1]);
    expect(tape.blocks.length).toBe(1);
    assertRule((a) => np.reshape(a as AdjFloat, [1]), [0.7]);
  });

  it("throws a ShapeMismatchError naming np.reshape and both shapes", () => {
    const x = np.zeros([2, 3]);
    expect(() => np.reshape(x, [4])).toThrow(ShapeMismatchError);
    expect(() => np.reshape(x, [4])).toThrow(/np\.reshape.*\[2, 3\].*\[4\]/);
    expect(() => np.reshape(x, [-1, -1])).toThrow(/np\.reshape/);
    expect(() => np.reshape(x, [4, -1])).toThrow(/np\.reshape.*\[2, 3\]/);
  });
});

/** A shape that broadcasts to `target`: some leading axes dropped and some sizes set to 1. */
function broadcastable(target: readonly number[]): fc.Arbitrary<number[]> {
  return fc
    .tuple(
      fc.integer({ min: 0, max: target.length }),
      fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }),
    )
    .map(([drop, ones]) => target.slice(drop).map((n, i) => (ones[i + drop] ? 1 : n)));
}

/** An axis of an array of rank `rank` (>= 1), maybe negative. */
function axisOf(rank: number): fc.Arbitrary<number> {
  return fc.integer({ min: 0, max: rank - 1 }).chain((axis) => fc.constantFrom(axis, axis - rank));
}

const nonScalarShape = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });

describe("np.ravel, np.expand_dims, np.squeeze", () => {
  it("pass the rule checker", () => {
    fc.assert(
      fc.property(
        shapeArbitrary.chain((shape) =>
          fc.record({
            x: arrayOf(shape),
            insert: fc.array(fc.integer({ min: 0, max: shape.length + 1 }), { minLength: 1, maxLength: 2 }),
            squeezeAll: fc.boolean(),
            seed: seedArbitrary,
          }),
        ),
        ({ x, insert, squeezeAll, seed }) => {
          assertRule((a) => np.ravel(a as NDArray), [x], { seed });
          const positions = [...new Set(insert.map((p) => Math.min(p, x.ndim)))];
          const axes = positions.map((p, i) => (i % 2 === 1 ? p - (x.ndim + positions.length) : p));
          assertRule((a) => np.expand_dims(a as NDArray, axes), [x], { seed });
          assertRule((a) => np.expand_dims(a as NDArray, Math.min(insert[0], x.ndim)), [x], { seed });
          const ones = x.shape.map((n, i) => (n === 1 ? i : -1)).filter((i) => i >= 0);
          if (squeezeAll || ones.length === 0) assertRule((a) => np.squeeze(a as NDArray), [x], { seed });
          else assertRule((a) => np.squeeze(a as NDArray, { axis: ones.slice(1) }), [x], { seed });
        },
      ),
      { numRuns: 50 },
    );
  });

  it("give NumPy's shapes and typed errors", () => {
    const x = np.zeros([1, 3, 1]);
    expect(np.ravel(x).shape).toEqual([3]);
    expect(np.ravel(new AdjFloat(1)).shape).toEqual([1]);
    expect(np.expand_dims(np.zeros([3]), [0, -1]).shape).toEqual([1, 3, 1]);
    expect(np.squeeze(x).shape).toEqual([3]);
    expect(np.squeeze(x, -1).shape).toEqual([1, 3]);
    expect(() => np.squeeze(x, 1)).toThrow(/np\.squeeze: cannot remove axis 1 of size 3 .*\[1, 3, 1\]/);
    expect(() => np.expand_dims(np.zeros([3]), 3)).toThrow(/np\.expand_dims/);
    expect(() => np.expand_dims(np.zeros([3]), [0, 0])).toThrow(/np\.expand_dims: repeated axis/);
  });
});

describe("np.transpose, np.moveaxis, np.swapaxes", () => {
  const permutationCase = shapeArbitrary.chain((shape) =>
    fc.record({
      x: arrayOf(shape),
      permutation: fc.shuffledSubarray(
        shape.map((_, i) => i),
        { minLength: shape.length, maxLength: shape.length },
      ),
      negative: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      seed: seedArbitrary,
    }),
  );

  it("pass the rule checker with random permutations", () => {
    fc.assert(
      fc.property(permutationCase, ({ x, permutation, negative, seed }) => {
        const n = x.ndim;
        const axes = permutation.map((p, i) => (negative[i] ? p - n : p));
        assertRule((a) => np.transpose(a as NDArray), [x], { seed });
        assertRule((a) => np.transpose(a as NDArray, axes), [x], { seed });
        assertRule((a) => np.transpose(a as NDArray, { axes }), [x], { seed });
        if (n > 0) {
          const count = 1 + (seed % n);
          const source = axes.slice(0, count);
          const destination = permutation.slice(n - count).reverse();
          assertRule((a) => np.moveaxis(a as NDArray, source, destination), [x], { seed });
          assertRule((a) => np.moveaxis(a as NDArray, source[0], -1), [x], { seed });
          assertRule((a) => np.swapaxes(a as NDArray, axes[0], axes[n - 1]), [x], { seed });
        }
      }),
      { numRuns: 50 },
    );
  });

  it("give NumPy's shapes and typed errors", () => {
    const x = np.zeros([2, 3, 4]);
    expect(np.transpose(x).shape).toEqual([4, 3, 2]);
    expect(np.transpose(x, [1, 0, 2]).shape).toEqual([3, 2, 4]);
    expect(np.moveaxis(x, 0, -1).shape).toEqual([3, 4, 2]);
    expect(np.moveaxis(x, [0, 1], [-1, -2]).shape).toEqual([4, 3, 2]);
    expect(np.swapaxes(x, 0, 2).shape).toEqual([4, 3, 2]);
    const m = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(np.transpose(m).toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(() => np.transpose(x, [0, 1])).toThrow(/np\.transpose.*\[2, 3, 4\]/);
    expect(() => np.transpose(x, [0, 1, 1])).toThrow(/np\.transpose: repeated axis/);
    expect(() => np.moveaxis(x, 3, 0)).toThrow(/np\.moveaxis: axis 3 .*\[2, 3, 4\]/);
    expect(() => np.swapaxes(x, 0, -4)).toThrow(InvalidArgumentError);
  });
});

describe("np.concatenate and np.stack", () => {
  const joinCase = nonScalarShape.chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      axis: axisOf(shape.length),
      lengths: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
      seed: seedArbitrary,
    }),
  );

  it("concatenate passes the rule checker with recorded inputs and constants mixed", () => {
    fc.assert(
      fc.property(
        joinCase.chain(({ shape, axis, lengths, seed }) => {
          const index = axis < 0 ? axis + shape.length : axis;
          const shapes = lengths.map((n) => shape.map((m, d) => (d === index ? n : m)));
          return fc.record({
            arrays: fc.tuple(...shapes.map((s) => arrayOf(s))),
            constant: arrayOf(shapes[0]),
            axis: fc.constant(axis),
            seed: fc.constant(seed),
          });
        }),
        ({ arrays, constant, axis, seed }) => {
          assertRule((...xs) => np.concatenate(xs as NDArray[], axis), arrays, { seed });
          assertRule((...xs) => np.concatenate([...(xs as NDArray[]), constant], { axis }), arrays, { seed });
          assertRule((x) => np.concatenate([constant, x as NDArray], axis), [arrays[0]], { seed });
          assertRule((...xs) => np.concatenate(xs as NDArray[], null), arrays, { seed });
        },
      ),
      { numRuns: 50 },
    );
  });

  it("stack passes the rule checker, also for AdjFloats and constants", () => {
    fc.assert(
      fc.property(
        shapeArbitrary.chain((shape) =>
          fc.record({
            arrays: fc.array(arrayOf(shape), { minLength: 1, maxLength: 3 }),
            constant: arrayOf(shape),
            axis: axisOf(shape.length + 1),
            seed: seedArbitrary,
          }),
        ),
        ({ arrays, constant, axis, seed }) => {
          assertRule((...xs) => np.stack(xs as NDArray[], axis), arrays, { seed });
          assertRule((...xs) => np.stack([constant, ...(xs as NDArray[])], { axis }), arrays, { seed });
        },
      ),
      { numRuns: 50 },
    );
    assertRule((a, b) => np.stack([a as AdjFloat, 2, b as AdjFloat]), [0.5, -1.5]);
  });

  it("give NumPy's values and typed errors naming the shapes", () => {
    const a = np.array([[1, 2]]);
    const b = np.array([[3, 4]]);
    expect(np.concatenate([a, b]).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(np.concatenate([a, b], -1).toArray()).toEqual([[1, 2, 3, 4]]);
    expect(np.concatenate([a, [[5, 6]]], null).toArray()).toEqual([1, 2, 5, 6]);
    expect(np.stack([np.array([1, 2]), np.array([3, 4])], 1).toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(np.stack([new AdjFloat(1), 2]).toArray()).toEqual([1, 2]);
    expect(() => np.concatenate([a, np.zeros([2, 3])])).toThrow(ShapeMismatchError);
    expect(() => np.concatenate([a, np.zeros([2, 3])])).toThrow(/np\.concatenate.*\[1, 2\] and \[2, 3\]/);
    expect(() => np.concatenate([a, np.zeros([2])])).toThrow(/np\.concatenate.*\[1, 2\] and \[2\]/);
    expect(() => np.concatenate([new AdjFloat(1), new AdjFloat(2)])).toThrow(/np\.concatenate.*np\.stack/);
    expect(() => np.concatenate([a, b], 2)).toThrow(/np\.concatenate: axis 2 .*\[1, 2\]/);
    expect(() => np.concatenate([])).toThrow(/np\.concatenate/);
    expect(() => np.stack([a, np.zeros([2, 1])])).toThrow(/np\.stack.*\[1, 2\] and \[2, 1\]/);
    expect(() => np.stack([a, b], 3)).toThrow(/np\.stack: axis 3/);
  });
});

describe("np.broadcast_to", () => {
  it("passes the rule checker", () => {
    fc.assert(
      fc.property(
        shapeArbitrary.chain((target) =>
          broadcastable(target).chain((shape) =>
            fc.record({ x: arrayOf(shape), target: fc.constant(target), seed: seedArbitrary }),
          ),
        ),
        ({ x, target, seed }) => {
          assertRule((a) => np.broadcast_to(a as NDArray, target), [x], { seed });
        },
      ),
      { numRuns: 50 },
    );
    assertRule((a) => np.broadcast_to(a as AdjFloat, [2, 3]), [0.25]);
  });

  it("throws a ShapeMismatchError naming both shapes", () => {
    expect(np.broadcast_to(np.array([1, 2]), [2, 2]).toArray()).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(() => np.broadcast_to(np.zeros([3]), [2, 2])).toThrow(ShapeMismatchError);
    expect(() => np.broadcast_to(np.zeros([3]), [2, 2])).toThrow(/np\.broadcast_to.*\[3\] and \[2, 2\]/);
  });
});

describe("np.take", () => {
  it("passes the rule checker with repeated and negative indices, with and without an axis", () => {
    fc.assert(
      fc.property(
        nonScalarShape.chain((shape) =>
          fc.record({
            x: arrayOf(shape),
            axis: fc.oneof(fc.constant(undefined), axisOf(shape.length)),
            picks: fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 5 }),
            asMatrix: fc.boolean(),
            negative: fc.boolean(),
            seed: seedArbitrary,
          }),
        ),
        ({ x, axis, picks, asMatrix, negative, seed }) => {
          const length = axis === undefined ? x.size : x.shape[axis < 0 ? axis + x.ndim : axis];
          const indices = picks.map((p) => Math.floor(p * length) - (negative ? length : 0));
          assertRule((a) => np.take(a as NDArray, indices, axis), [x], { seed });
          assertRule((a) => np.take(a as NDArray, indices[0], { axis }), [x], { seed });
          if (asMatrix) {
            const matrix = np.array([indices, indices.slice().reverse()]);
            assertRule((a) => np.take(a as NDArray, matrix, axis), [x], { seed });
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it("accumulates repeated indices in the gradient; keeps its indices private", () => {
    const x = np.array([1, 2, 3]);
    const indices = [0, 2, 0];
    const tape = new Tape();
    const y = withTape(tape, () => np.sum(np.take(x, indices)));
    indices[0] = 1;
    const gradient = withTape(tape, () => computeGradient(y, new Control(x)));
    expect(gradient.toArray()).toEqual([2, 0, 1]);
    expect(
      np.take(
        np.array([
          [1, 2],
          [3, 4],
        ]),
        [[1], [0]],
        1,
      ).shape,
    ).toEqual([2, 2, 1]);
  });

  it("throws typed errors naming np.take and the shape", () => {
    const x = np.zeros([2, 3]);
    expect(() => np.take(x, [3], 0)).toThrow(InvalidArgumentError);
    expect(() => np.take(x, [3], 0)).toThrow(/np\.take.*\[2, 3\]/);
    expect(() => np.take(x, [0], 2)).toThrow(/np\.take: axis 2 .*\[2, 3\]/);
  });
});

/** A slice entry for an axis of length n: an index (maybe negative) or a range with any start/stop/step. */
function sliceEntry(n: number): fc.Arbitrary<number | { start?: number; stop?: number; step?: number }> {
  const bound = fc.oneof(fc.constant(undefined), fc.integer({ min: -n - 2, max: n + 2 }));
  return fc.oneof(
    fc.integer({ min: -n, max: n - 1 }),
    fc.record(
      {
        start: bound,
        stop: bound,
        step: fc.oneof(
          fc.constant(undefined),
          fc.integer({ min: -3, max: 3 }).filter((k) => k !== 0),
        ),
      },
      { requiredKeys: [] },
    ),
  );
}

describe("np.slice / np.index", () => {
  it("pass the rule checker with negative indices and steps", () => {
    fc.assert(
      fc.property(
        shapeArbitrary.chain((shape) =>
          fc.record({
            x: arrayOf(shape),
            spec: fc
              .integer({ min: 0, max: shape.length })
              .chain((count) => fc.tuple(...shape.slice(0, count).map((n) => sliceEntry(n)))),
            seed: seedArbitrary,
          }),
        ),
        ({ x, spec, seed }) => {
          const result = np.slice(x, spec);
          fc.pre(result.size > 0);
          assertRule((a) => np.slice(a as NDArray, spec), [x], { seed });
          assertRule((a) => np.index(a as NDArray, ...spec), [x], { seed });
        },
      ),
      { numRuns: 60 },
    );
  });

  it("follows NumPy's semantics and names np.slice in errors", () => {
    const x = np.arange(10);
    expect(np.slice(x, [{ start: 8, stop: 2, step: -3 }]).toArray()).toEqual([8, 5]);
    expect(np.index(x, { step: -1 }).toArray()).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(np.index(x, -1).toArray()).toBe(9);
    const m = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(np.index(m, {}, 1).toArray()).toEqual([2, 5]);
    expect(np.index(m, 1, { start: -2 }).toArray()).toEqual([5, 6]);
    expect(() => np.index(m, 2)).toThrow(/np\.slice: index 2 is out of bounds .*\[2, 3\]/);
    expect(() => np.index(m, 0, 0, 0)).toThrow(/np\.slice: too many indices/);
    expect(() => np.index(m, { step: 0 })).toThrow(InvalidArgumentError);
  });
});

describe("np.diagonal and np.flip", () => {
  it("diagonal passes the rule checker for offsets and axis pairs", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 3 }).chain((shape) =>
          fc.record({
            x: arrayOf(shape),
            axes: fc.shuffledSubarray(
              shape.map((_, i) => i),
              { minLength: 2, maxLength: 2 },
            ),
            offset: fc.integer({ min: -2, max: 2 }),
            options: fc.boolean(),
            seed: seedArbitrary,
          }),
        ),
        ({ x, axes, offset, options, seed }) => {
          const [axis1, axis2] = axes;
          fc.pre(np.diagonal(x, offset, axis1, axis2).size > 0);
          if (options)
            assertRule((a) => np.diagonal(a as NDArray, { offset, axis1, axis2: axis2 - x.ndim }), [x], {
              seed,
            });
          else assertRule((a) => np.diagonal(a as NDArray, offset, axis1, axis2), [x], { seed });
        },
      ),
      { numRuns: 50 },
    );
  });

  it("flip passes the rule checker", () => {
    fc.assert(
      fc.property(
        shapeArbitrary.chain((shape) =>
          fc.record({
            x: arrayOf(shape),
            axes: fc.subarray(shape.map((_, i) => i)),
            whole: fc.boolean(),
            seed: seedArbitrary,
          }),
        ),
        ({ x, axes, whole, seed }) => {
          if (whole) assertRule((a) => np.flip(a as NDArray), [x], { seed });
          else assertRule((a) => np.flip(a as NDArray, { axis: axes.map((k) => k - x.ndim) }), [x], { seed });
        },
      ),
      { numRuns: 50 },
    );
  });

  it("give NumPy's values and typed errors", () => {
    const m = np.array([
      [1, 2],
      [3, 4],
    ]);
    expect(np.diagonal(m).toArray()).toEqual([1, 4]);
    expect(np.diagonal(m, 1).toArray()).toEqual([2]);
    expect(np.diagonal(m, { offset: -1 }).toArray()).toEqual([3]);
    expect(np.flip(m, 1).toArray()).toEqual([
      [2, 1],
      [4, 3],
    ]);
    expect(np.flip(m).toArray()).toEqual([
      [4, 3],
      [2, 1],
    ]);
    expect(() => np.diagonal(np.zeros([3]))).toThrow(/np\.diagonal.*\[3\]/);
    expect(() => np.diagonal(m, 0, 0, 0)).toThrow(/np\.diagonal/);
    expect(() => np.flip(m, 2)).toThrow(/np\.flip: axis 2 .*\[2, 2\]/);
  });
});

describe("np.where", () => {
  it("passes the rule checker with broadcasting of condition, x and y", () => {
    fc.assert(
      fc.property(
        shapeArbitrary.chain((target) =>
          fc
            .tuple(broadcastable(target), broadcastable(target), broadcastable(target))
            .chain(([conditionShape, xShape, yShape]) =>
              fc.record({
                condition: fc
                  .array(fc.boolean(), { minLength: size(conditionShape), maxLength: size(conditionShape) })
                  .map((bits) => np.array(bits.map(Number), conditionShape)),
                x: arrayOf(xShape),
                y: arrayOf(yShape),
                seed: seedArbitrary,
              }),
            ),
        ),
        ({ condition, x, y, seed }) => {
          assertRule((a, b) => np.where(condition, a as NDArray, b as NDArray), [x, y], { seed });
          assertRule((a) => np.where(condition, a as NDArray, 0.5), [x], { seed });
          assertRule((b) => np.where(condition, x, b as NDArray), [y], { seed });
          assertRule((a) => np.where(condition, a as NDArray, a as NDArray), [x], { seed });
        },
      ),
      { numRuns: 50 },
    );
    assertRule((a, b) => np.where([1, 0, 1], a as AdjFloat, b as AdjFloat), [0.3, -0.2]);
  });

  it("gives NumPy's values and names np.where in broadcast errors", () => {
    expect(np.where(np.array([1, 0]), np.array([1, 2]), -1).toArray()).toEqual([1, -1]);
    const x = np.array([-1, 2]);
    expect(np.where(np.greater(x, 0), x, 0).toArray()).toEqual([0, 2]);
    expect(() => np.where(np.zeros([2]), np.zeros([3]), 0)).toThrow(ShapeMismatchError);
    expect(() => np.where(np.zeros([2]), np.zeros([3]), 0)).toThrow(/np\.where.*\[2\].*\[3\]/);
  });
});

describe("np.clip", () => {
  /** Entries in [-2, 2] at least 0.05 away from both bounds -0.5 and 0.5. */
  function awayFromBounds(shape: readonly number[]): fc.Arbitrary<NDArray> {
    const value = fc
      .double({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true })
      .filter((v) => Math.abs(v - 0.5) > 0.05 && Math.abs(v + 0.5) > 0.05);
    return fc.array(value, { minLength: size(shape), maxLength: size(shape) }).map((v) => np.array(v, shape));
  }

  it("passes the rule checker with constant bounds and with recorded, broadcast bounds", () => {
    fc.assert(
      fc.property(
        shapeArbitrary.chain((target) =>
          fc.tuple(broadcastable(target), broadcastable(target)).chain(([lowShape, highShape]) =>
            fc.record({
              x: awayFromBounds(target),
              low: fc.constant(np.full(lowShape, -0.5)),
              high: fc.constant(np.full(highShape, 0.5)),
              seed: seedArbitrary,
            }),
          ),
        ),
        ({ x, low, high, seed }) => {
          assertRule((a) => np.clip(a as NDArray, -0.5, 0.5), [x], { seed });
          assertRule((a) => np.clip(a as NDArray, null, 0.5), [x], { seed });
          assertRule((a) => np.clip(a as NDArray, -0.5, undefined), [x], { seed });
          assertRule((a, l, h) => np.clip(a as NDArray, l as NDArray, h as NDArray), [x, low, high], {
            seed,
          });
        },
      ),
      { numRuns: 50 },
    );
    assertRule((a) => np.clip(a as AdjFloat, 0, 1), [0.3]);
    assertRule((a) => np.clip(a as AdjFloat, 0, 1), [1.3]);
    assertRule((a, h) => np.clip(a as AdjFloat, 0, h as AdjFloat), [1.3, 0.8]);
  });

  it("has derivative 1 inside and 0 outside; keeps scalars scalar", () => {
    const x = np.array([-2, 0.25, 3]);
    const tape = new Tape();
    const y = withTape(tape, () => np.sum(np.clip(x, 0, 1)));
    const gradient = withTape(tape, () => computeGradient(y, new Control(x)));
    expect(gradient.toArray()).toEqual([0, 1, 0]);
    expect(np.clip(x, 0, 1).toArray()).toEqual([0, 0.25, 1]);
    expect(np.clip(5, 0, 1)).toBe(1);
    expect(np.clip(new AdjFloat(5), 0, 1)).toBeInstanceOf(AdjFloat);
    // a typed array is an array operand: an NDArray result, in the type as in the value
    const fromTyped: NDArray = np.clip(new Float64Array([-1, 0.5, 2]), 0, 1);
    expect(fromTyped.toArray()).toEqual([0, 0.5, 1]);
    const boundTyped: NDArray = np.clip(0.5, new Float32Array([0.75, 0]), 1);
    expect(boundTyped.toArray()).toEqual([0.75, 0.5]);
    expect(() => np.clip(x, null, null)).toThrow(/np\.clip/);
    expect(() => np.clip(x, np.zeros([2]), 1)).toThrow(/np\.clip.*\[3\].*\[2\]/);
  });
});

describe("comparisons", () => {
  it("return 0/1 NDArrays with broadcasting, each recorded as one block without derivative", () => {
    const x = np.array([1, 2, 3]);
    const s = new AdjFloat(2);
    const tape = new Tape();
    withTape(tape, () => {
      expect(np.greater(x, s).toArray()).toEqual([0, 0, 1]);
      expect(np.greater_equal(x, 2).toArray()).toEqual([0, 1, 1]);
      expect(np.less(x, [[2], [4]]).toArray()).toEqual([
        [1, 0, 0],
        [1, 1, 1],
      ]);
      expect(np.less_equal(s, x).toArray()).toEqual([0, 1, 1]);
      expect(np.equal(x, 2).toArray()).toEqual([0, 1, 0]);
      expect(np.not_equal(x, 2).toArray()).toEqual([1, 0, 1]);
      expect(np.greater(3, 2).toArray()).toBe(1);
    });
    expect(tape.blocks.length).toBe(7);
    expect(() => np.equal(x, np.zeros([2]))).toThrow(/np\.equal.*\[3\].*\[2\]/);
  });
});

describe("compositions", () => {
  it("chain shape ops and reductions through all four modes", () => {
    const x = np.array([
      [0.3, -1.2, 0.8],
      [1.1, 0.4, -0.6],
    ]);
    assertRule(
      (a) => {
        const m = a as NDArray;
        const rows = np.concatenate([np.reshape(m, [-1]), np.ravel(np.cumsum(m, 1)), np.ravel(np.flip(m))]);
        const picked = np.take(np.stack([rows, np.multiply(rows, rows)]), [1, 0], 0);
        const products = np.prod(np.slice(picked, [{}, { step: 2 }]), 1);
        return np.sum(np.multiply(products, np.norm(np.transpose(m), undefined, 0)));
      },
      [x],
    );
  });
});
