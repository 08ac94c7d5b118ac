import fc from "fast-check";
import {
  AdjFloat,
  assertRule,
  Control,
  checkRule,
  computeGradient,
  InvalidArgumentError,
  NonFiniteValueError,
  np,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import type { NDArray } from "../../src/values/ndarray.js";

type ArrayFn = (a: NDArray) => NDArray | AdjFloat;

/** A shape of rank 0 to 3 with sizes 1 to 4. */
const shapeArbitrary = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });

function size(shape: readonly number[]): number {
  return shape.reduce((p, n) => p * n, 1);
}

/** Entries in [-2, 2], at least `gap` apart from 0 in absolute value when `gap` > 0. */
function entries(count: number, gap = 0): fc.Arbitrary<number[]> {
  const value = fc.double({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true });
  const kept = gap > 0 ? value.filter((v) => Math.abs(v) > gap) : value;
  return fc.array(kept, { minLength: count, maxLength: count });
}

function arrayOf(shape: readonly number[], gap = 0): fc.Arbitrary<NDArray> {
  return entries(size(shape), gap).map((values) => np.array(values, shape));
}

/** An axis argument valid for `rank`: undefined, one axis (maybe negative) or a list of distinct axes. */
function axisFor(rank: number): fc.Arbitrary<number | number[] | undefined> {
  if (rank === 0) return fc.constantFrom(undefined, [] as number[]);
  const single = fc.integer({ min: 0, max: rank - 1 }).chain((axis) => fc.constantFrom(axis, axis - rank));
  const list = fc
    .subarray(
      Array.from({ length: rank }, (_, i) => i),
      { minLength: 0 },
    )
    .chain((axes) =>
      fc
        .tuple(
          fc.shuffledSubarray(axes, { minLength: axes.length }),
          fc.array(fc.boolean(), { minLength: rank, maxLength: rank }),
        )
        .map(([shuffled, negative]) => shuffled.map((axis, i) => (negative[i] ? axis - rank : axis))),
    );
  return fc.oneof(fc.constant(undefined), single, list);
}

const caseArbitrary = shapeArbitrary.chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    x: arrayOf(shape),
    axis: axisFor(shape.length),
    keepdims: fc.boolean(),
    options: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1000 }),
  }),
);

type ReductionName = "sum" | "mean" | "prod" | "max" | "min";
const reductions: Record<ReductionName, typeof np.sum> = {
  sum: np.sum,
  mean: np.mean,
  prod: np.prod,
  max: np.max,
  min: np.min,
};

function reductionFn(
  name: ReductionName,
  axis: number | number[] | undefined,
  keepdims: boolean,
  options: boolean,
): ArrayFn {
  const reduce = reductions[name];
  return options ? (a) => reduce(a, { axis, keepdims }) : (a) => reduce(a, axis, keepdims);
}

describe("np.sum", () => {
  it("passes the rule checker over random shapes, axes and keepdims", () => {
    fc.assert(
      fc.property(caseArbitrary, ({ x, axis, keepdims, options, seed }) => {
        assertRule((a) => reductionFn("sum", axis, keepdims, options)(a as NDArray), [x], { seed });
      }),
      { numRuns: 60 },
    );
  });

  it("gives NumPy's values and shapes", () => {
    const x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(np.sum(x).toArray()).toBe(21);
    expect(np.sum(x).shape).toEqual([]);
    expect(np.sum(x, 0).toArray()).toEqual([5, 7, 9]);
    expect(np.sum(x, -1, true).toArray()).toEqual([[6], [15]]);
    expect(np.sum(x, { axis: [0, 1], keepdims: true }).shape).toEqual([1, 1]);
    expect(np.sum(x, []).toArray()).toEqual(x.toArray());
    expect(np.sum(3)).toBe(3);
  });

  it("of an AdjFloat is an AdjFloat with derivative 1", () => {
    const x = new AdjFloat(2.5);
    const tape = new Tape();
    const y = withTape(tape, () => np.sum(x));
    expect(y).toBeInstanceOf(AdjFloat);
    expect(y.value).toBe(2.5);
    assertRule((a) => np.sum(a as AdjFloat), [1.5]);
    assertRule((a) => np.sum(a as AdjFloat, { keepdims: true }), [1.5]);
  });

  it("names np.sum and the shape when the axis is bad", () => {
    const x = np.zeros([2, 3]);
    expect(() => np.sum(x, 2)).toThrow(InvalidArgumentError);
    expect(() => np.sum(x, 2)).toThrow(/np\.sum.*\[2, 3\]/);
    expect(() => np.sum(x, [0, -2])).toThrow(/np\.sum: repeated axis/);
    expect(() => np.sum(new AdjFloat(1), 0)).toThrow(/np\.sum.*\[\]/);
  });
});

describe("np.mean", () => {
  it("passes the rule checker over random shapes, axes and keepdims", () => {
    fc.assert(
      fc.property(caseArbitrary, ({ x, axis, keepdims, options, seed }) => {
        assertRule((a) => reductionFn("mean", axis, keepdims, options)(a as NDArray), [x], { seed });
      }),
      { numRuns: 40 },
    );
  });

  it("gives NumPy's values; an AdjFloat stays an AdjFloat", () => {
    const x = np.array([
      [1, 2],
      [3, 5],
    ]);
    expect(np.mean(x).toArray()).toBe(2.75);
    expect(np.mean(x, 1).toArray()).toEqual([1.5, 4]);
    expect(np.mean(x, { axis: 0, keepdims: true }).toArray()).toEqual([[2, 3.5]]);
    assertRule((a) => np.mean(a as AdjFloat), [-0.3]);
  });
});

describe("np.prod", () => {
  it("passes the rule checker over random shapes, axes and keepdims", () => {
    fc.assert(
      fc.property(caseArbitrary, ({ x, axis, keepdims, options, seed }) => {
        assertRule((a) => reductionFn("prod", axis, keepdims, options)(a as NDArray), [x], { seed });
      }),
      { numRuns: 60 },
    );
  });

  it("has exact derivatives with one or more zero entries", () => {
    const cases = [
      np.array([0, 2, 3]),
      np.array([0, 0, 3]),
      np.array([0, 0, 0]),
      np.array([
        [0, 1.5, -2],
        [1, 0, 0],
      ]),
    ];
    for (const x of cases) {
      assertRule((a) => np.prod(a as NDArray), [x]);
      assertRule((a) => np.prod(a as NDArray, -1), [x]);
      assertRule((a) => np.prod(a as NDArray, 0, true), [x]);
    }
    // d/dx0 prod([0, 2, 3]) = 6, the others 0; no 0/0
    const x = np.array([0, 2, 3]);
    const tape = new Tape();
    const y = withTape(tape, () => np.prod(x));
    const gradient = withTape(tape, () => computeGradient(y, new Control(x)));
    expect(gradient.toArray()).toEqual([6, 0, 0]);
  });

  it("gives NumPy's values; an AdjFloat stays an AdjFloat", () => {
    expect(
      np
        .prod(
          np.array([
            [1, 2],
            [3, 4],
          ]),
          1,
        )
        .toArray(),
    ).toEqual([2, 12]);
    expect(np.prod(2)).toBe(2);
    assertRule((a) => np.prod(a as AdjFloat), [1.3]);
  });
});

/** Arrays whose entries are distinct and at least 0.3 apart, so every maximum and minimum is separated. */
function separatedArray(shape: readonly number[]): fc.Arbitrary<NDArray> {
  const n = size(shape);
  return fc
    .tuple(
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
      fc.array(fc.double({ min: -0.1, max: 0.1, noNaN: true }), { minLength: n, maxLength: n }),
    )
    .map(([order, noise]) =>
      np.array(
        order.map((k, i) => (k - n / 2) * 0.4 + noise[i]),
        shape,
      ),
    );
}

const separatedCase = shapeArbitrary.chain((shape) =>
  fc.record({
    x: separatedArray(shape),
    axis: axisFor(shape.length),
    keepdims: fc.boolean(),
    options: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1000 }),
  }),
);

describe("np.max / np.min", () => {
  for (const name of ["max", "min"] as const) {
    it(`np.${name} passes the rule checker where the extremum is separated`, () => {
      fc.assert(
        fc.property(separatedCase, ({ x, axis, keepdims, options, seed }) => {
          assertRule((a) => reductionFn(name, axis, keepdims, options)(a as NDArray), [x], { seed });
        }),
        { numRuns: 60 },
      );
    });
  }

  it("splits the derivative evenly among ties (dot-product test and the values)", () => {
    const x = np.array([
      [1, 3, 3],
      [2, 2, 2],
    ]);
    for (const fn of [(a: NDArray) => np.max(a, 1), (a: NDArray) => np.min(a), (a: NDArray) => np.max(a)]) {
      const report = checkRule((a) => fn(a as NDArray), [x]);
      expect(report.dotProductError).toBeLessThan(1e-12);
    }
    const tape = new Tape();
    const y = withTape(tape, () => np.sum(np.max(x, 1)));
    const gradient = withTape(tape, () => computeGradient(y, new Control(x)));
    expect(gradient.toArray()).toEqual([
      [0, 0.5, 0.5],
      [1 / 3, 1 / 3, 1 / 3],
    ]);
  });

  it("gives NumPy's values; amax/amin are aliases; an AdjFloat stays an AdjFloat", () => {
    const x = np.array([
      [1, 5],
      [3, 4],
    ]);
    expect(np.max(x, 0).toArray()).toEqual([3, 5]);
    expect(np.min(x, 1, true).toArray()).toEqual([[1], [3]]);
    expect(np.amax(x).toArray()).toBe(5);
    expect(np.amin(x).toArray()).toBe(1);
    expect(np.max(new AdjFloat(2))).toBeInstanceOf(AdjFloat);
    assertRule((a) => np.max(a as AdjFloat), [0.4]);
    assertRule((a) => np.min(a as AdjFloat), [0.4]);
  });
});

describe("np.norm", () => {
  const normCase = shapeArbitrary.chain((shape) =>
    fc.record({
      x: arrayOf(shape, 0.1),
      axis: axisFor(shape.length),
      keepdims: fc.boolean(),
      options: fc.boolean(),
      seed: fc.integer({ min: 1, max: 1000 }),
    }),
  );

  it("passes the rule checker over random shapes, axes and keepdims", () => {
    fc.assert(
      fc.property(normCase, ({ x, axis, keepdims, options, seed }) => {
        const fn = options
          ? (a: NDArray) => np.norm(a, { axis, keepdims })
          : (a: NDArray) => np.norm(a, undefined, axis, keepdims);
        assertRule((a) => fn(a as NDArray), [x], { seed });
      }),
      { numRuns: 60 },
    );
  });

  it("gives the 2-norm and Frobenius norm; accepts ord 2 / 'fro' where they mean that", () => {
    expect(np.norm(np.array([3, 4])).toArray()).toBe(5);
    const m = np.array([
      [3, 4],
      [6, 8],
    ]);
    expect(np.norm(m, undefined, 1).toArray()).toEqual([5, 10]);
    expect(np.norm(m, 2, -1).toArray()).toEqual([5, 10]);
    expect(np.norm(m, "fro").toArray()).toBeCloseTo(Math.sqrt(125), 14);
    expect(np.norm(m, { ord: "fro", axis: [0, 1], keepdims: true }).shape).toEqual([1, 1]);
    expect(() => np.norm(m, 2)).toThrow(/np\.norm.*spectral/);
    expect(() => np.norm(m, "nuc" as unknown as 2, 0)).toThrow(InvalidArgumentError);
    assertRule((a) => np.norm(a as AdjFloat), [-0.8]);
  });

  it("throws NonFiniteValueError for a derivative at the zero vector, never NaN", () => {
    const x = np.zeros([3]);
    const tape = new Tape();
    const y = withTape(tape, () => np.norm(x));
    expect(y.toArray()).toBe(0);
    expect(() => withTape(tape, () => computeGradient(y, new Control(x)))).toThrow(NonFiniteValueError);
    expect(() => withTape(tape, () => computeGradient(y, new Control(x)))).toThrow(/np\.norm/);
    // a zero row whose seed is zero does not matter
    const rows = np.array([
      [0, 0],
      [3, 4],
    ]);
    const tape2 = new Tape();
    const picked = withTape(tape2, () => np.take(np.norm(rows, undefined, 1), 1));
    const gradient = withTape(tape2, () => computeGradient(picked, new Control(rows)));
    expect(gradient.toArray()).toEqual([
      [0, 0],
      [0.6, 0.8],
    ]);
  });
});

describe("np.cumsum", () => {
  const cumsumCase = shapeArbitrary.chain((shape) =>
    fc.record({
      x: arrayOf(shape),
      axis:
        shape.length === 0
          ? fc.constant(undefined)
          : fc.oneof(fc.constant(undefined), fc.integer({ min: -shape.length, max: shape.length - 1 })),
      options: fc.boolean(),
      seed: fc.integer({ min: 1, max: 1000 }),
    }),
  );

  it("passes the rule checker over random shapes and axes", () => {
    fc.assert(
      fc.property(cumsumCase, ({ x, axis, options, seed }) => {
        const fn = options ? (a: NDArray) => np.cumsum(a, { axis }) : (a: NDArray) => np.cumsum(a, axis);
        assertRule((a) => fn(a as NDArray), [x], { seed });
      }),
      { numRuns: 60 },
    );
  });

  it("gives NumPy's values; an AdjFloat gives shape [1]", () => {
    const x = np.array([
      [1, 2],
      [3, 4],
    ]);
    expect(np.cumsum(x, 1).toArray()).toEqual([
      [1, 3],
      [3, 7],
    ]);
    expect(np.cumsum(x).toArray()).toEqual([1, 3, 6, 10]);
    expect(np.cumsum(x, { axis: -2 }).toArray()).toEqual([
      [1, 2],
      [4, 6],
    ]);
    expect(np.cumsum(new AdjFloat(2)).shape).toEqual([1]);
    assertRule((a) => np.cumsum(a as AdjFloat), [0.9]);
    expect(() => np.cumsum(x, 2)).toThrow(/np\.cumsum.*\[2, 2\]/);
  });
});

describe("reduction errors", () => {
  it("name the function and the shape", () => {
    const x = np.zeros([2, 3]);
    for (const name of ["sum", "mean", "prod", "max", "min"] as const) {
      expect(() => reductions[name](x, -3)).toThrow(InvalidArgumentError);
      expect(() => reductions[name](x, -3)).toThrow(new RegExp(`np\\.${name}: axis -3 .*\\[2, 3\\]`));
    }
    expect(() => np.norm(x, undefined, 5)).toThrow(/np\.norm: axis 5 .*\[2, 3\]/);
    expect(() => np.max(np.zeros([0]))).toThrow(/np\.max/);
    expect(() => np.sum(x, { axis: 0 }, true)).toThrow(/np\.sum: keepdims given both/);
  });

  it("nothing is recorded for plain numbers; the tape stays usable after an error", () => {
    const tape = new Tape();
    withTape(tape, () => {
      expect(np.sum(4)).toBe(4);
      expect(() => np.sum(np.zeros([2]), 1)).toThrow(InvalidArgumentError);
    });
    expect(tape.blocks.length).toBe(0);
  });
});
