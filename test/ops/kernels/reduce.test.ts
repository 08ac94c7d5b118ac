/** @file Tests for reductions, arg-extrema, extremum masks, cumsum and norm against naive loops. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  argmax,
  argmin,
  cumsum,
  max,
  maxMask,
  mean,
  min,
  minMask,
  norm,
  prod,
  sum,
} from "../../../src/ops/kernels/reduce.js";
import { array, NDArray } from "../../../src/values/ndarray.js";
import {
  expectClose,
  fromFunction,
  intArrayArb,
  ravelIndex,
  shapeArb,
  sizeOf,
  unravel,
} from "./reference.js";

type Fold = (values: number[]) => number;

/** Naive reduction: groups elements by their index with reduced axes removed, then folds each group. */
function naiveReduce(a: NDArray, axes: readonly number[], keepdims: boolean, fold: Fold): NDArray {
  const outShape = a.shape.map((n, d) => (axes.includes(d) ? 1 : n));
  const groups: number[][] = Array.from({ length: sizeOf(outShape) }, () => []);
  for (let i = 0; i < a.size; i++) {
    const index = unravel(i, a.shape).map((k, d) => (axes.includes(d) ? 0 : k));
    groups[ravelIndex(index, outShape)].push(a.data[i]);
  }
  const shape = keepdims ? outShape : a.shape.filter((_, d) => !axes.includes(d));
  return new NDArray(Float64Array.from(groups, fold), shape);
}

const folds: Record<string, Fold> = {
  sum: (v) => v.reduce((x, y) => x + y, 0),
  prod: (v) => v.reduce((x, y) => x * y, 1),
  max: (v) => Math.max(...v),
  min: (v) => Math.min(...v),
  mean: (v) => v.reduce((x, y) => x + y, 0) / v.length,
  norm: (v) => Math.sqrt(v.reduce((x, y) => x + y * y, 0)),
};
const reducers = { sum, prod, max, min, mean, norm };

/** An array plus a random axis argument (undefined, one axis possibly negative, or a list). */
const arrayWithAxes = shapeArb(4, 1, 4).chain((shape) =>
  fc.tuple(
    intArrayArb(shape, 3),
    fc.oneof(
      fc.constant(undefined),
      shape.length > 0 ? fc.integer({ min: -shape.length, max: shape.length - 1 }) : fc.constant(undefined),
      fc.subarray(shape.map((_, i) => i)),
    ),
    fc.boolean(),
  ),
);

function axesOf(axis: number | number[] | undefined, ndim: number): number[] {
  if (axis === undefined) return Array.from({ length: ndim }, (_, i) => i);
  if (typeof axis === "number") return [axis < 0 ? axis + ndim : axis];
  return axis;
}

describe("reductions", () => {
  for (const [name, reducer] of Object.entries(reducers)) {
    it(`${name} agrees with a naive loop for any axis/keepdims`, () => {
      fc.assert(
        fc.property(arrayWithAxes, ([a, axis, keepdims]) => {
          const out = reducer(a, axis, keepdims);
          const expected = naiveReduce(a, axesOf(axis, a.ndim), keepdims, folds[name]);
          expectClose(out, expected, 1e-12, 1e-12);
        }),
      );
    });
  }

  it("handle empty reductions like NumPy", () => {
    const empty = new NDArray(new Float64Array(0), [0, 3]);
    expect(sum(empty).item()).toBe(0);
    expect(sum(empty, 0).toArray()).toEqual([0, 0, 0]);
    expect(prod(empty, 0).toArray()).toEqual([1, 1, 1]);
    expect(sum(empty, 1).toArray()).toEqual([]);
    expect(max(empty, 1).shape).toEqual([0]);
    expect(Number.isNaN(mean(empty).item())).toBe(true);
    expect(() => max(empty, 0)).toThrow(/zero-size/);
    expect(() => min(empty)).toThrow(/zero-size/);
  });

  it("axis [] reduces nothing and returns a copy", () => {
    const a = array([1, 2]);
    const s = sum(a, []);
    expect(s.toArray()).toEqual([1, 2]);
    expect(s.data).not.toBe(a.data);
  });

  it("max/min propagate NaN", () => {
    const a = array([
      [1, Number.NaN],
      [3, 4],
    ]);
    expect(max(a, 1).toArray()).toEqual([Number.NaN, 4]);
    expect(min(a, 0).toArray()).toEqual([1, Number.NaN]);
    expect(Number.isNaN(max(a).item())).toBe(true);
  });

  it("reject bad axes", () => {
    expect(() => sum(array([1]), 1)).toThrow("sum: axis 1 is out of bounds for array of dimension 1");
    expect(() => sum(array([[1]]), [0, 0])).toThrow(/repeated axis/);
  });
});

describe("argmax / argmin", () => {
  it("agree with a naive first-occurrence scan", () => {
    const arb = shapeArb(3, 1, 4).chain((shape) =>
      fc.tuple(
        intArrayArb(shape, 2),
        shape.length > 0 ? fc.integer({ min: -shape.length, max: shape.length - 1 }) : fc.constant(undefined),
        fc.boolean(),
      ),
    );
    fc.assert(
      fc.property(arb, ([a, axis, keepdims]) => {
        for (const [fn, better] of [
          [argmax, (x: number, y: number) => x > y],
          [argmin, (x: number, y: number) => x < y],
        ] as const) {
          const out = fn(a, axis, keepdims);
          if (axis === undefined) {
            let best = 0;
            for (let i = 1; i < a.size; i++) if (better(a.data[i], a.data[best])) best = i;
            expect(out.item()).toBe(best);
            continue;
          }
          const ax = axis < 0 ? axis + a.ndim : axis;
          const keepShape = a.shape.map((n, d) => (d === ax ? 1 : n));
          const expected = fromFunction(keepShape, (index) => {
            let best = 0;
            for (let k = 1; k < a.shape[ax]; k++) {
              const candidate = index.slice();
              candidate[ax] = k;
              const current = index.slice();
              current[ax] = best;
              if (better(a.data[ravelIndex(candidate, a.shape)], a.data[ravelIndex(current, a.shape)]))
                best = k;
            }
            return best;
          });
          expect(out.shape).toEqual(keepdims ? keepShape : a.shape.filter((_, d) => d !== ax));
          expect(Array.from(out.data)).toEqual(Array.from(expected.data));
        }
      }),
    );
  });

  it("treat NaN as the extremum (first NaN wins) and reject empty input", () => {
    expect(argmax(array([1, Number.NaN, 5, Number.NaN])).item()).toBe(1);
    expect(argmin(array([[1, Number.NaN, -5]]), 1).toArray()).toEqual([1]);
    expect(() => argmax(new NDArray(new Float64Array(0), [0]))).toThrow(/empty/);
    expect(argmax(array([[1, 2]]), undefined, true).shape).toEqual([1, 1]);
  });
});

describe("maxMask / minMask", () => {
  it("split ties evenly, sum to 1 per slice, and select only extremal elements", () => {
    fc.assert(
      fc.property(arrayWithAxes, ([a, axis]) => {
        for (const [maskFn, reduceFn] of [
          [maxMask, max],
          [minMask, min],
        ] as const) {
          const mask = maskFn(a, axis);
          expect(mask.shape).toEqual(a.shape);
          expectClose(
            sum(mask, axis),
            new NDArray(new Float64Array(sum(mask, axis).size).fill(1), sum(mask, axis).shape),
          );
          const extremum = reduceFn(a, axis, true);
          const axes = axesOf(axis, a.ndim);
          for (let i = 0; i < a.size; i++) {
            const index = unravel(i, a.shape).map((k, d) => (axes.includes(d) ? 0 : k));
            const isExtremal = a.data[i] === extremum.data[ravelIndex(index, extremum.shape)];
            expect(mask.data[i] > 0).toBe(isExtremal);
          }
          // Within a slice all non-zero weights are equal (1 / number of ties).
          const counts = naiveReduce(mask, axes, true, (v) => v.filter((w) => w > 0).length);
          for (let i = 0; i < a.size; i++) {
            if (mask.data[i] === 0) continue;
            const index = unravel(i, a.shape).map((k, d) => (axes.includes(d) ? 0 : k));
            expect(mask.data[i]).toBeCloseTo(1 / counts.data[ravelIndex(index, counts.shape)], 14);
          }
        }
      }),
    );
  });

  it("example from the docs", () => {
    expect(maxMask(array([1, 3, 3])).toArray()).toEqual([0, 0.5, 0.5]);
    expect(
      minMask(
        array([
          [1, 1],
          [0, 2],
        ]),
        1,
      ).toArray(),
    ).toEqual([
      [0.5, 0.5],
      [1, 0],
    ]);
  });
});

describe("cumsum", () => {
  it("agrees with a naive running sum along any axis and flattens when axis is undefined", () => {
    const arb = shapeArb(4, 1, 4).chain((shape) =>
      fc.tuple(
        intArrayArb(shape),
        shape.length > 0 ? fc.integer({ min: -shape.length, max: shape.length - 1 }) : fc.constant(undefined),
      ),
    );
    fc.assert(
      fc.property(arb, ([a, axis]) => {
        const out = cumsum(a, axis);
        if (axis === undefined) {
          let total = 0;
          expect(out.shape).toEqual([a.size]);
          expect(Array.from(out.data)).toEqual(Array.from(a.data, (v) => (total += v)));
          return;
        }
        const ax = axis < 0 ? axis + a.ndim : axis;
        const expected = fromFunction(a.shape, (index) => {
          let total = 0;
          for (let k = 0; k <= index[ax]; k++) {
            const j = index.slice();
            j[ax] = k;
            total += a.data[ravelIndex(j, a.shape)];
          }
          return total;
        });
        expect(out.shape).toEqual(a.shape);
        expect(Array.from(out.data)).toEqual(Array.from(expected.data));
      }),
    );
  });

  it("0-d input flattens to one element", () => {
    expect(cumsum(array(3)).toArray()).toEqual([3]);
  });
});

describe("norm", () => {
  it("vector and Frobenius norms", () => {
    expect(norm(array([3, 4])).item()).toBe(5);
    expect(
      norm(
        array([
          [3, 4],
          [6, 8],
        ]),
        1,
      ).toArray(),
    ).toEqual([5, 10]);
    expect(
      norm(
        array([
          [1, 2],
          [2, 4],
        ]),
        [0, 1],
        true,
      ).toArray(),
    ).toEqual([[5]]);
  });
});
