/** @file Tests for broadcasting: shape rules, broadcastTo vs an index reference, the sumToShape adjoint, map loops. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ShapeMismatchError } from "../../../src/errors.js";
import {
  binaryBroadcast,
  broadcastShapes,
  broadcastShapesFor,
  broadcastTo,
  mapBinary,
  mapUnary,
  sumToRaw,
  sumToShape,
} from "../../../src/ops/kernels/broadcast.js";
import { array, NDArray } from "../../../src/values/ndarray.js";
import {
  broadcastGet,
  broadcastShapesArb,
  dotAll,
  fromFunction,
  intArrayArb,
  realArrayArb,
  shapeArb,
  sizeOf,
  unravel,
} from "./reference.js";

describe("broadcastShapes", () => {
  it("follows NumPy rules", () => {
    expect(broadcastShapes([2, 1], [3])).toEqual([2, 3]);
    expect(broadcastShapes([], [4, 5])).toEqual([4, 5]);
    expect(broadcastShapes([5, 1, 4], [3, 1], [1])).toEqual([5, 3, 4]);
    expect(broadcastShapes([0], [1])).toEqual([0]);
    expect(broadcastShapes()).toEqual([]);
  });

  it("names the op and both shapes on mismatch", () => {
    expect(() => broadcastShapesFor("add", [[2, 3], [4]])).toThrow(ShapeMismatchError);
    expect(() => broadcastShapesFor("add", [[2, 3], [4]])).toThrow(
      "add: shapes [2, 3] and [4] do not fit: operands could not be broadcast together (axis -1: 3 vs 4)",
    );
  });

  it("agrees with the naive rule on random compatible shapes", () => {
    fc.assert(
      fc.property(broadcastShapesArb(3), ({ target, shapes }) => {
        expect(broadcastShapes(...shapes)).toEqual(target);
      }),
    );
  });
});

describe("broadcastTo / sumToShape", () => {
  it("broadcastTo agrees with an explicit index-based reference", () => {
    fc.assert(
      fc.property(
        broadcastShapesArb(2).chain(({ target, shapes }) =>
          intArrayArb(shapes[1]).map((a) => ({ target, a })),
        ),
        ({ target, a }) => {
          const b = broadcastTo(a, target);
          expect(b.shape).toEqual(target);
          const expected = fromFunction(target, (index) => broadcastGet(a, index));
          expect(Array.from(b.data)).toEqual(Array.from(expected.data));
          expect(b).not.toBe(a);
        },
      ),
    );
  });

  it("sumToShape is the adjoint of broadcastTo (dot-product test)", () => {
    fc.assert(
      fc.property(
        broadcastShapesArb(2).chain(({ target, shapes }) =>
          fc.tuple(realArrayArb(shapes[1]), realArrayArb(target)).map(([x, y]) => ({ x, y, target })),
        ),
        ({ x, y }) => {
          const reduced = sumToShape(y, x.shape);
          expect(reduced.shape).toEqual(x.shape);
          const lhs = dotAll(broadcastTo(x, y.shape), y);
          const rhs = dotAll(x, reduced);
          expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(lhs)));
        },
      ),
    );
  });

  it("sumToShape handles leading axes and size-1 axes exactly", () => {
    const y = array([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    expect(sumToShape(y, []).item()).toBe(36);
    expect(sumToShape(y, [2]).toArray()).toEqual([16, 20]);
    expect(sumToShape(y, [2, 1]).toArray()).toEqual([[14], [22]]);
    expect(sumToShape(y, [1, 2, 1]).toArray()).toEqual([[[14], [22]]]);
    expect(sumToShape(y, [2, 1, 2]).toArray()).toEqual([[[4, 6]], [[12, 14]]]);
    expect(() => sumToShape(y, [3])).toThrow(/sumToShape: cannot broadcast an array of shape \[3\]/);
  });

  it("sumToRaw sums to the shape of a raw value: sumToShape for an array, the total for a number", () => {
    fc.assert(
      fc.property(broadcastShapesArb(1), fc.integer({ min: 0, max: 1000 }), ({ target, shapes }, seed) => {
        const small = shapes[0];
        const y = fromFunction(target, (index) => Math.sin(index.reduce((p, k) => 3 * p + k, seed)));
        const like = new NDArray(new Float64Array(small.reduce((p, n) => p * n, 1)), small);
        expect(Array.from(sumToRaw(y, like).data)).toEqual(Array.from(sumToShape(y, small).data));
        expect(sumToRaw(y, like).shape).toEqual(small);
        let total = 0;
        for (const v of y.data) total += v;
        expect(sumToRaw(y, 7)).toBe(total);
      }),
    );
    // a number target is a sum into 0 (as the elementwise adjoints always did): one entry -0 gives +0
    expect(Object.is(sumToRaw(array([-0]), 1), 0)).toBe(true);
    expect(
      sumToRaw(
        array([
          [1, 2],
          [3, 4],
        ]),
        array([0, 0]),
      ).toArray(),
    ).toEqual([4, 6]);
    expect(() => sumToRaw(array([1, 2]), array([0, 0, 0]))).toThrow(/sumToShape: cannot broadcast/);
  });

  it("handles empty arrays", () => {
    expect(broadcastTo(new NDArray(new Float64Array(0), [0]), [2, 0]).shape).toEqual([2, 0]);
    expect(sumToShape(new NDArray(new Float64Array(0), [0, 3]), [3]).toArray()).toEqual([0, 0, 0]);
    expect(() => broadcastTo(array([1, 2]), [3])).toThrow(/cannot broadcast/);
  });
});

describe("mapUnary / mapBinary / binaryBroadcast", () => {
  it("mapBinary agrees with an index-based reference under broadcasting", () => {
    fc.assert(
      fc.property(
        broadcastShapesArb(2).chain(({ target, shapes }) =>
          fc.tuple(intArrayArb(shapes[0]), intArrayArb(shapes[1])).map(([a, b]) => ({ a, b, target })),
        ),
        ({ a, b, target }) => {
          const f = (x: number, y: number): number => 3 * x - y * y;
          const out = mapBinary(a, b, f);
          const expected = fromFunction(target, (index) => f(broadcastGet(a, index), broadcastGet(b, index)));
          expect(out.shape).toEqual(target);
          expect(Array.from(out.data)).toEqual(Array.from(expected.data));
          // Argument order matters: swap the roles and compare again.
          const swapped = mapBinary(b, a, (y, x) => f(x, y));
          expect(Array.from(swapped.data)).toEqual(Array.from(expected.data));
        },
      ),
    );
  });

  it("accepts numbers and 0-d arrays on either side", () => {
    expect(mapBinary(2, array([1, 2]), (x, y) => x - y).toArray()).toEqual([1, 0]);
    expect(mapBinary(array(5), 2, (x, y) => x * y).shape).toEqual([]);
    expect(mapUnary(3, (x) => x * 2).item()).toBe(6);
  });

  it("mapUnary keeps the shape", () => {
    fc.assert(
      fc.property(shapeArb().chain(intArrayArb), (a) => {
        const out = mapUnary(a, (x) => x + 1);
        expect(out.shape).toEqual(a.shape);
        for (let i = 0; i < a.size; i++) expect(out.data[i]).toBe(a.data[i] + 1);
      }),
    );
  });

  it("binaryBroadcast calls the kernel per run with the documented arguments", () => {
    const runs: number[] = [];
    const out = binaryBroadcast(
      array([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      array([[10], [20]]),
      (o, offset, x, i, si, y, j, sj, n) => {
        runs.push(n);
        for (let t = 0; t < n; t++, i += si, j += sj) o[offset + t] = x[i] + y[j];
      },
      "test",
    );
    expect(out.toArray()).toEqual([
      [11, 12, 13],
      [24, 25, 26],
    ]);
    expect(runs).toEqual([3, 3]);
    expect(() => binaryBroadcast(array([1, 2]), array([1, 2, 3]), () => {}, "myop")).toThrow(/^myop: /);
  });

  it("works on random shapes including empty ones", () => {
    const zeroSized = fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 3 });
    fc.assert(
      fc.property(zeroSized, (shape) => {
        const a = new NDArray(
          new Float64Array(sizeOf(shape)).map((_, i) => i),
          shape,
        );
        const out = mapBinary(a, array(1), (x, y) => x + y);
        expect(out.shape).toEqual(shape);
        for (let i = 0; i < out.size; i++) expect(out.data[i]).toBe(i + 1);
        expect(unravel(0, shape).length).toBe(shape.length);
      }),
    );
  });
});
