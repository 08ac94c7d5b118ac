/** @file Tests for shape/indexing kernels and the adjoint pairs slice/scatterSlice, take/scatterAddTake, diagonal/scatterDiagonal. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { broadcastTo, sumToShape } from "../../../src/ops/kernels/broadcast.js";
import { arange, zeros } from "../../../src/ops/kernels/creation.js";
import { einsum } from "../../../src/ops/kernels/linalg.js";
import { sum } from "../../../src/ops/kernels/reduce.js";
import {
  clip,
  concatenate,
  diagonal,
  expandDims,
  flip,
  inversePermutation,
  matrixTranspose,
  moveaxis,
  ravel,
  reshape,
  type SliceEntry,
  scatterAddTake,
  scatterDiagonal,
  scatterSlice,
  sliceArray,
  sliceLayout,
  split,
  squeeze,
  stack,
  swapaxes,
  take,
  transpose,
  tril,
  triu,
  where,
} from "../../../src/ops/kernels/shape.js";
import { array, NDArray } from "../../../src/values/ndarray.js";
import {
  broadcastGet,
  broadcastShapesArb,
  dotAll,
  fromFunction,
  intArrayArb,
  ravelIndex,
  realArrayArb,
  shapeArb,
  sizeOf,
} from "./reference.js";

/** [length, start, stop, step, expected indices] generated with Python's `list(range(n))[start:stop:step]`. */
const PYTHON_SLICES: [number, number | null, number | null, number | null, number[]][] = [
  [1, -7, null, 3, [0]],
  [6, 3, -6, 3, []],
  [0, 3, -9, -2, []],
  [3, null, 9, null, [0, 1, 2]],
  [2, null, null, -1, [1, 0]],
  [0, 3, 4, -2, []],
  [0, 5, 8, 1, []],
  [2, null, null, 3, [0]],
  [2, 4, 8, -2, []],
  [0, null, 0, null, []],
  [5, 7, 4, -1, []],
  [6, -3, 9, 3, [3]],
  [6, 3, -8, 3, []],
  [1, 3, -4, 2, []],
  [4, 2, null, -2, [2, 0]],
  [4, null, null, -3, [3, 0]],
  [3, -9, 0, -2, []],
  [6, 9, -4, 1, []],
  [4, null, null, 1, [0, 1, 2, 3]],
  [4, 8, null, -1, [3, 2, 1, 0]],
  [2, 9, -1, -2, []],
  [4, -9, 7, -3, []],
  [1, 8, null, null, []],
  [3, 9, 7, 3, []],
  [3, 4, 8, -1, []],
  [4, 1, -9, -3, [1]],
  [1, 8, -7, -3, [0]],
  [4, -1, null, -2, [3, 1]],
  [0, null, null, null, []],
  [6, -2, null, -3, [4, 1]],
  [4, null, null, 1, [0, 1, 2, 3]],
  [1, null, -1, -2, []],
  [5, null, 6, 3, [0, 3]],
  [0, null, 4, -3, []],
  [1, null, null, -2, [0]],
  [4, 4, -9, 1, []],
  [0, -8, -4, 3, []],
  [5, 4, -2, -2, [4]],
  [6, 5, null, -2, [5, 3, 1]],
  [0, 9, 4, null, []],
  [5, null, -8, 2, []],
  [0, 0, 0, -2, []],
  [1, -1, null, -1, [0]],
  [6, null, 9, 3, [0, 3]],
  [1, 7, null, 1, []],
  [2, null, 4, -1, []],
  [1, 3, null, 3, []],
  [0, 3, -9, 1, []],
  [1, 9, 1, 3, []],
  [1, null, null, 3, [0]],
  [4, 8, 8, 1, []],
  [0, -7, null, 1, []],
  [4, null, 7, -3, []],
  [2, 1, null, 1, [1]],
  [6, 6, null, -1, [5, 4, 3, 2, 1, 0]],
  [6, null, null, null, [0, 1, 2, 3, 4, 5]],
  [3, -5, 1, null, [0]],
  [4, 3, null, -1, [3, 2, 1, 0]],
  [1, -1, 0, -1, []],
  [4, 5, -6, -3, [3, 0]],
  [0, -9, -9, null, []],
  [3, null, -8, 1, []],
  [1, 9, -6, 3, []],
  [1, -4, -6, 3, []],
  [3, 8, 0, -1, [2, 1]],
  [2, 1, null, -2, [1]],
  [2, null, null, 2, [0]],
  [5, 5, 3, null, []],
  [0, 5, null, 1, []],
  [6, 8, 6, -2, []],
  [2, null, 0, 1, []],
  [1, -1, null, -3, [0]],
  [3, null, 1, 1, [0]],
  [3, -8, 1, -3, []],
  [6, 0, null, null, [0, 1, 2, 3, 4, 5]],
  [4, -7, null, null, [0, 1, 2, 3]],
  [6, null, null, -1, [5, 4, 3, 2, 1, 0]],
  [6, null, null, -2, [5, 3, 1]],
  [0, null, 6, 3, []],
  [6, -6, 1, null, [0]],
  [4, -4, null, 1, [0, 1, 2, 3]],
  [1, 1, 7, -3, []],
  [4, null, -5, -1, [3, 2, 1, 0]],
  [5, null, 8, -3, []],
  [5, -3, null, 3, [2]],
  [4, null, -2, 2, [0]],
  [6, null, 4, -1, [5]],
  [2, 8, 3, -3, []],
  [2, null, 4, -1, []],
  [0, null, -5, -1, []],
  [1, null, -1, 3, []],
  [4, -7, null, null, [0, 1, 2, 3]],
  [1, 7, 5, -2, []],
  [5, -2, 6, 1, [3, 4]],
  [5, 8, -1, -2, []],
  [1, null, null, -1, [0]],
  [5, -4, -3, 2, [1]],
  [2, 8, 5, -1, []],
  [0, 7, -4, 1, []],
  [2, 9, -8, 3, []],
  [5, 2, -4, -1, [2]],
  [5, 7, -1, -2, []],
  [0, null, -5, -3, []],
  [4, -7, -2, -3, []],
  [3, 4, 1, 3, []],
  [1, 6, -6, 3, []],
  [4, -6, -1, 1, [0, 1, 2]],
  [3, -9, 7, 3, [0]],
  [4, null, -2, -3, [3]],
  [2, null, null, -1, [1, 0]],
  [1, null, -1, -3, []],
  [5, -4, 6, 3, [1, 4]],
  [6, null, null, 3, [0, 3]],
  [1, null, null, -3, [0]],
  [0, null, 8, 2, []],
  [5, -5, null, 2, [0, 2, 4]],
  [4, 4, 2, -3, [3]],
  [4, -6, 5, 2, [0, 2]],
  [2, 1, 9, 3, [1]],
  [0, 3, 8, null, []],
  [2, 7, null, 3, []],
  [4, 4, 0, -2, [3, 1]],
  [1, 7, null, -1, [0]],
  [0, 9, 3, 2, []],
  [6, -7, -2, -2, []],
  [5, null, null, -2, [4, 2, 0]],
  [5, null, 3, -3, [4]],
  [2, -7, -9, 2, []],
  [2, 4, 8, 2, []],
  [1, -1, 5, -1, []],
  [0, null, null, -1, []],
  [3, null, null, 3, [0]],
  [0, null, -4, -2, []],
  [0, -1, -3, -1, []],
  [1, null, -7, null, []],
  [5, 7, 5, -1, []],
  [4, -4, null, -2, [0]],
  [5, 8, null, -1, [4, 3, 2, 1, 0]],
  [5, null, -4, 3, [0]],
  [6, null, -2, 2, [0, 2]],
  [4, -9, 3, 2, [0, 2]],
  [3, -2, -3, null, []],
  [5, 9, -5, -1, [4, 3, 2, 1]],
  [2, -4, null, 1, [0, 1]],
  [5, 0, -2, null, [0, 1, 2]],
  [5, null, -7, null, []],
  [1, 6, -4, null, []],
  [0, -9, -3, -2, []],
  [0, 7, 5, 2, []],
  [5, -6, -4, null, [0]],
  [1, 6, -4, 1, []],
  [1, 5, 3, 1, []],
  [3, 1, -6, 1, []],
  [0, null, 6, 2, []],
  [3, 0, 3, 1, [0, 1, 2]],
  [6, -5, -9, null, []],
  [3, null, -8, -1, [2, 1, 0]],
  [3, null, null, -2, [2, 0]],
  [6, -9, null, null, [0, 1, 2, 3, 4, 5]],
  [4, -8, -6, 3, []],
];

/** Independent reference of Python slice index lists (validated against PYTHON_SLICES below). */
function pySliceIndices(n: number, start?: number, stop?: number, step = 1): number[] {
  const result: number[] = [];
  if (step > 0) {
    let from = start === undefined ? 0 : start < 0 ? Math.max(0, start + n) : Math.min(start, n);
    const to = stop === undefined ? n : stop < 0 ? Math.max(0, stop + n) : Math.min(stop, n);
    for (; from < to; from += step) result.push(from);
  } else {
    let from = start === undefined ? n - 1 : start < 0 ? start + n : Math.min(start, n - 1);
    const to = stop === undefined ? -1 : stop < 0 ? Math.max(-1, stop + n) : stop;
    for (; from > to && from >= 0; from += step) result.push(from);
  }
  return result;
}

const asOptional = (v: number | null): number | undefined => (v === null ? undefined : v);

/** A random slice entry for an axis of length n: an index (when n > 0) or a range. */
function sliceEntryArb(n: number): fc.Arbitrary<SliceEntry> {
  const bound = fc.option(fc.integer({ min: -n - 2, max: n + 2 }), { nil: undefined });
  const range = fc
    .record({
      start: bound,
      stop: bound,
      step: fc.option(fc.constantFrom(1, 2, 3, -1, -2, -3), { nil: undefined }),
    })
    .map((r) => {
      const entry: { start?: number; stop?: number; step?: number } = {};
      if (r.start !== undefined) entry.start = r.start;
      if (r.stop !== undefined) entry.stop = r.stop;
      if (r.step !== undefined) entry.step = r.step;
      return entry as SliceEntry;
    });
  return n > 0 ? fc.oneof(range, fc.integer({ min: -n, max: n - 1 })) : range;
}

const sliceCaseArb = shapeArb(4, 0, 4).chain((shape) =>
  fc
    .integer({ min: 0, max: shape.length })
    .chain((count) => fc.tuple(...shape.slice(0, count).map(sliceEntryArb)))
    .map((spec) => ({ shape, spec: spec as SliceEntry[] })),
);

/** Naive slicing: per-axis index lists, then all combinations. */
function naiveSlice(a: NDArray, spec: readonly SliceEntry[]): NDArray {
  const lists = a.shape.map((n, d) => {
    const entry = d < spec.length ? spec[d] : {};
    if (typeof entry === "number") return { indices: [entry < 0 ? entry + n : entry], keep: false };
    return { indices: pySliceIndices(n, entry.start, entry.stop, entry.step), keep: true };
  });
  const fullShape = lists.map((l) => l.indices.length);
  const shape = lists.filter((l) => l.keep).map((l) => l.indices.length);
  const data = fromFunction(
    fullShape,
    (index) =>
      a.data[
        ravelIndex(
          index.map((k, d) => lists[d].indices[k]),
          a.shape,
        )
      ],
  ).data;
  return new NDArray(data, shape);
}

describe("slicing", () => {
  it("the test reference matches Python's slice semantics", () => {
    for (const [n, start, stop, step, expected] of PYTHON_SLICES) {
      expect(pySliceIndices(n, asOptional(start), asOptional(stop), asOptional(step) ?? 1)).toEqual(expected);
    }
  });

  it("sliceArray matches Python on 1-D fixtures", () => {
    for (const [n, start, stop, step, expected] of PYTHON_SLICES) {
      const entry: { start?: number; stop?: number; step?: number } = {};
      if (start !== null) entry.start = start;
      if (stop !== null) entry.stop = stop;
      if (step !== null) entry.step = step;
      expect(Array.from(sliceArray(arange(n), [entry]).data)).toEqual(expected);
    }
  });

  it("sliceArray agrees with a naive reference on random shapes and specs", () => {
    fc.assert(
      fc.property(
        sliceCaseArb.chain(({ shape, spec }) => intArrayArb(shape).map((a) => ({ a, spec }))),
        ({ a, spec }) => {
          const out = sliceArray(a, spec);
          const expected = naiveSlice(a, spec);
          expect(out.shape).toEqual(expected.shape);
          expect(Array.from(out.data)).toEqual(Array.from(expected.data));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("scatterSlice is the adjoint of sliceArray (dot-product test)", () => {
    fc.assert(
      fc.property(
        sliceCaseArb.chain(({ shape, spec }) =>
          realArrayArb(shape).chain((x) =>
            realArrayArb(naiveSlice(x, spec).shape).map((y) => ({ x, y, spec })),
          ),
        ),
        ({ x, y, spec }) => {
          const scattered = scatterSlice(x.shape, spec, y);
          expect(scattered.shape).toEqual(x.shape);
          const lhs = dotAll(sliceArray(x, spec), y);
          const rhs = dotAll(x, scattered);
          expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(lhs)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("contiguous slices share the buffer; others copy", () => {
    const a = reshape(arange(12), [3, 4]);
    const row = sliceArray(a, [1]);
    expect(row.toArray()).toEqual([4, 5, 6, 7]);
    expect(row.data.buffer).toBe(a.data.buffer);
    const column = sliceArray(a, [{}, 1]);
    expect(column.toArray()).toEqual([1, 5, 9]);
    expect(column.data.buffer).not.toBe(a.data.buffer);
  });

  it("reports clear errors", () => {
    expect(() => sliceArray(arange(3), [3])).toThrow(
      "sliceArray: index 3 is out of bounds for axis 0 with size 3",
    );
    expect(() => sliceArray(arange(3), [{ step: 0 }])).toThrow(/step/);
    expect(() => sliceArray(arange(3), [0, 0])).toThrow(/too many indices/);
    expect(() => sliceArray(arange(3), [{ start: 0.5 }])).toThrow(/integers/);
  });

  it("sliceLayout describes the strided view", () => {
    expect(sliceLayout([4, 5], [1, { step: -2 }])).toEqual({ offset: 9, shape: [3], strides: [-2] });
  });

  it("flip reverses the chosen axes", () => {
    const a = array([
      [1, 2],
      [3, 4],
    ]);
    expect(flip(a, 1).toArray()).toEqual([
      [2, 1],
      [4, 3],
    ]);
    expect(flip(a).toArray()).toEqual([
      [4, 3],
      [2, 1],
    ]);
  });
});

describe("take / scatterAddTake", () => {
  const takeCaseArb = shapeArb(3, 1, 4).chain((shape) =>
    fc
      .oneof(
        fc.constant(undefined),
        shape.length > 0 ? fc.integer({ min: -shape.length, max: shape.length - 1 }) : fc.constant(undefined),
      )
      .chain((axis) => {
        const n = axis === undefined ? sizeOf(shape) : shape[axis < 0 ? axis + shape.length : axis];
        const index = fc.integer({ min: -n, max: n - 1 });
        const indices = fc.oneof(
          index.map((i): number | number[] | Int32Array | NDArray => i),
          fc.array(index, { maxLength: 5 }),
          fc.array(index, { maxLength: 5 }).map((l) => Int32Array.from(l)),
          fc.array(index, { minLength: 2, maxLength: 2 }).map((l) => array([l, l.slice().reverse()])),
        );
        return fc.tuple(realArrayArb(shape), fc.constant(axis), indices);
      }),
  );

  function naiveTake(
    a: NDArray,
    indices: number | number[] | Int32Array | NDArray,
    axis: number | undefined,
  ): NDArray {
    const source = axis === undefined ? new NDArray(a.data, [a.size]) : a;
    const ax = axis === undefined ? 0 : axis < 0 ? axis + a.ndim : axis;
    const n = source.shape[ax];
    const list =
      typeof indices === "number"
        ? [indices]
        : indices instanceof NDArray
          ? Array.from(indices.data)
          : Array.from(indices);
    const indShape =
      typeof indices === "number"
        ? []
        : indices instanceof NDArray
          ? indices.shape.slice()
          : [indices.length];
    const outShape = [...source.shape.slice(0, ax), ...indShape, ...source.shape.slice(ax + 1)];
    return fromFunction(outShape, (index) => {
      const inner = index.slice(ax, ax + indShape.length);
      const k = list[ravelIndex(inner, indShape)];
      const src = [...index.slice(0, ax), k < 0 ? k + n : k, ...index.slice(ax + indShape.length)];
      return source.data[ravelIndex(src, source.shape)];
    });
  }

  it("take agrees with a naive reference (NumPy semantics, axis undefined flattens)", () => {
    fc.assert(
      fc.property(takeCaseArb, ([a, axis, indices]) => {
        const out = take(a, indices, axis);
        const expected = naiveTake(a, indices, axis);
        expect(out.shape).toEqual(expected.shape);
        expect(Array.from(out.data)).toEqual(Array.from(expected.data));
      }),
    );
  });

  it("scatterAddTake is the adjoint of take, accumulating duplicates (dot-product test)", () => {
    fc.assert(
      fc.property(
        takeCaseArb.chain(([a, axis, indices]) =>
          realArrayArb(take(a, indices, axis).shape).map((y) => ({ a, axis, indices, y })),
        ),
        ({ a, axis, indices, y }) => {
          const back = scatterAddTake(a.shape, indices, axis, y);
          expect(back.shape).toEqual(a.shape);
          const lhs = dotAll(take(a, indices, axis), y);
          const rhs = dotAll(a, back);
          expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(lhs)));
        },
      ),
    );
    expect(scatterAddTake([3], [0, 2, 0], undefined, array([1, 2, 3])).toArray()).toEqual([4, 0, 2]);
  });

  it("rejects out-of-range indices", () => {
    expect(() => take(arange(3), [3])).toThrow("take: index 3 is out of bounds for axis 0 with size 3");
    expect(() => take(arange(3), [0.5])).toThrow(/out of bounds/);
  });
});

describe("diagonal / scatterDiagonal", () => {
  const diagCaseArb = fc
    .array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 4 })
    .chain((shape) =>
      fc.tuple(
        realArrayArb(shape),
        fc.integer({ min: -4, max: 4 }),
        fc
          .tuple(fc.integer({ min: 0, max: shape.length - 1 }), fc.integer({ min: 0, max: shape.length - 1 }))
          .filter(([i, j]) => i !== j),
      ),
    );

  it("diagonal agrees with a naive reference", () => {
    fc.assert(
      fc.property(diagCaseArb, ([a, offset, [axis1, axis2]]) => {
        const out = diagonal(a, offset, axis1, axis2);
        const rest = a.shape.map((_, d) => d).filter((d) => d !== axis1 && d !== axis2);
        const n1 = a.shape[axis1];
        const n2 = a.shape[axis2];
        const length = Math.max(0, offset >= 0 ? Math.min(n1, n2 - offset) : Math.min(n1 + offset, n2));
        const shape = [...rest.map((d) => a.shape[d]), length];
        const expected = fromFunction(shape, (index) => {
          const full = new Array<number>(a.ndim);
          rest.forEach((d, k) => {
            full[d] = index[k];
          });
          const k = index[index.length - 1];
          full[axis1] = offset >= 0 ? k : k - offset;
          full[axis2] = offset >= 0 ? k + offset : k;
          return a.data[ravelIndex(full, a.shape)];
        });
        expect(out.shape).toEqual(expected.shape);
        expect(Array.from(out.data)).toEqual(Array.from(expected.data));
      }),
    );
  });

  it("scatterDiagonal is the adjoint of diagonal (dot-product test)", () => {
    fc.assert(
      fc.property(
        diagCaseArb.chain(([a, offset, axes]) =>
          realArrayArb(diagonal(a, offset, axes[0], axes[1]).shape).map((y) => ({ a, offset, axes, y })),
        ),
        ({ a, offset, axes, y }) => {
          const back = scatterDiagonal(a.shape, offset, axes[0], axes[1], y);
          const lhs = dotAll(diagonal(a, offset, axes[0], axes[1]), y);
          expect(Math.abs(lhs - dotAll(a, back))).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(lhs)));
        },
      ),
    );
  });
});

describe("reshape / transpose family", () => {
  it("reshape infers -1, shares data and returns a new object", () => {
    const a = arange(6);
    const b = reshape(a, [2, -1]);
    expect(b.shape).toEqual([2, 3]);
    expect(b.data).toBe(a.data);
    expect(reshape(a, [6])).not.toBe(a);
    expect(reshape(array(1), []).shape).toEqual([]);
    expect(reshape(zeros([0, 3]), [-1, 3]).shape).toEqual([0, 3]);
    expect(() => reshape(a, [4, -1])).toThrow("reshape: cannot reshape array of size 6 into shape [4, -1]");
    expect(() => reshape(a, [-1, -1])).toThrow(/one unknown/);
    expect(ravel(reshape(a, [3, 2])).shape).toEqual([6]);
  });

  it("transpose agrees with an index reference for random permutations", () => {
    const arb = shapeArb(4, 1, 4).chain((shape) =>
      fc.tuple(
        intArrayArb(shape),
        fc.shuffledSubarray(
          shape.map((_, i) => i),
          { minLength: shape.length, maxLength: shape.length },
        ),
      ),
    );
    fc.assert(
      fc.property(arb, ([a, perm]) => {
        const out = transpose(a, perm);
        const shape = perm.map((p) => a.shape[p]);
        const expected = fromFunction(shape, (index) => {
          const source = new Array<number>(a.ndim);
          perm.forEach((p, i) => {
            source[p] = index[i];
          });
          return a.data[ravelIndex(source, a.shape)];
        });
        expect(out.shape).toEqual(shape);
        expect(Array.from(out.data)).toEqual(Array.from(expected.data));
        // The inverse permutation undoes it.
        const inverse = new Array<number>(perm.length);
        perm.forEach((p, i) => {
          inverse[p] = i;
        });
        expect(Array.from(transpose(out, inverse).data)).toEqual(Array.from(a.data));
      }),
    );
    expect(transpose(zeros([2, 3, 4])).shape).toEqual([4, 3, 2]);
    expect(() => transpose(zeros([2, 3]), [0, 0])).toThrow(/repeated axis/);
  });

  it("swapaxes, matrixTranspose and moveaxis match NumPy", () => {
    const x = reshape(arange(60), [3, 4, 5]);
    expect(swapaxes(x, 0, 2).shape).toEqual([5, 4, 3]);
    expect(matrixTranspose(x).shape).toEqual([3, 5, 4]);
    expect(Array.from(matrixTranspose(x).data)).toEqual(Array.from(transpose(x, [0, 2, 1]).data));
    expect(moveaxis(x, 0, -1).shape).toEqual([4, 5, 3]);
    expect(moveaxis(x, -1, 0).shape).toEqual([5, 3, 4]);
    expect(moveaxis(x, [0, 1], [-1, -2]).shape).toEqual([5, 4, 3]);
    expect(moveaxis(x, [0, 1, 2], [-1, -2, -3]).shape).toEqual([5, 4, 3]);
    expect(Array.from(moveaxis(x, 0, -1).data)).toEqual(Array.from(transpose(x, [1, 2, 0]).data));
    expect(() => matrixTranspose(arange(3))).toThrow(/at least 2/);
  });

  it("expandDims and squeeze", () => {
    expect(expandDims(zeros([2, 3]), 1).shape).toEqual([2, 1, 3]);
    expect(expandDims(zeros([2]), [0, -1]).shape).toEqual([1, 2, 1]);
    expect(expandDims(array(1), 0).shape).toEqual([1]);
    expect(squeeze(zeros([1, 2, 1])).shape).toEqual([2]);
    expect(squeeze(zeros([1, 2, 1]), -1).shape).toEqual([1, 2]);
    expect(() => squeeze(zeros([1, 2]), 1)).toThrow(/size 2/);
  });
});

describe("concatenate / stack / split", () => {
  it("concatenate agrees with an index reference and split undoes it", () => {
    const arb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
      fc.integer({ min: 0, max: shape.length - 1 }).chain((axis) =>
        fc
          .array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 })
          .chain((lengths) =>
            fc.tuple(...lengths.map((n) => intArrayArb(shape.map((m, d) => (d === axis ? n : m))))),
          )
          .map((arrays) => ({ arrays, axis })),
      ),
    );
    fc.assert(
      fc.property(arb, ({ arrays, axis }) => {
        const out = concatenate(arrays, axis);
        const starts: number[] = [];
        let total = 0;
        for (const a of arrays) {
          starts.push(total);
          total += a.shape[axis];
        }
        const shape = arrays[0].shape.slice();
        shape[axis] = total;
        const expected = fromFunction(shape, (index) => {
          let which = arrays.length - 1;
          while (starts[which] > index[axis] || arrays[which].shape[axis] === 0) which--;
          const local = index.slice();
          local[axis] -= starts[which];
          return arrays[which].data[ravelIndex(local, arrays[which].shape)];
        });
        expect(out.shape).toEqual(shape);
        expect(Array.from(out.data)).toEqual(Array.from(expected.data));
        const parts = split(out, starts.slice(1), axis);
        parts.forEach((p, i) => {
          expect(p.shape).toEqual(arrays[i].shape);
          expect(Array.from(p.data)).toEqual(Array.from(arrays[i].data));
        });
      }),
    );
    expect(() => concatenate([zeros([2, 3]), zeros([3, 2])], 0)).toThrow(/must match except along axis 0/);
    expect(() => concatenate([array(1)])).toThrow(/zero-dimensional/);
  });

  it("concatenate copies large chunks correctly", () => {
    const a = reshape(arange(200), [2, 100]);
    const b = reshape(arange(100), [2, 50]);
    const out = concatenate([a, b], 1);
    expect(out.shape).toEqual([2, 150]);
    expect(out.get(1, 99)).toBe(199);
    expect(out.get(1, 100)).toBe(50);
  });

  it("stack adds a new axis", () => {
    expect(stack([array([1, 2]), array([3, 4])], 1).toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(stack([array(1), array(2)]).toArray()).toEqual([1, 2]);
    expect(stack([zeros([2, 3]), zeros([2, 3])], -1).shape).toEqual([2, 3, 2]);
    expect(() => stack([zeros([2]), zeros([3])])).toThrow(/same shape/);
  });

  it("split into equal sections", () => {
    expect(split(arange(6), 3).map((p) => p.toArray())).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(() => split(arange(5), 2)).toThrow(/equal sections/);
  });
});

describe("where / clip", () => {
  it("where broadcasts all three operands", () => {
    fc.assert(
      fc.property(
        broadcastShapesArb(3).chain(({ target, shapes }) =>
          fc
            .tuple(intArrayArb(shapes[0], 1), intArrayArb(shapes[1]), intArrayArb(shapes[2]))
            .map((ops) => ({ target, ops })),
        ),
        ({ target, ops: [c, x, y] }) => {
          const out = where(c, x, y);
          const expected = fromFunction(target, (i) =>
            broadcastGet(c, i) !== 0 ? broadcastGet(x, i) : broadcastGet(y, i),
          );
          expect(out.shape).toEqual(target);
          expect(Array.from(out.data)).toEqual(Array.from(expected.data));
        },
      ),
    );
    expect(where(array([1, 0]), array([1, 2]), -1).toArray()).toEqual([1, -1]);
  });

  it("clip with scalar and array bounds", () => {
    expect(clip(array([-2, 0.5, 3, Number.NaN]), 0, 1).toArray()).toEqual([0, 0.5, 1, Number.NaN]);
    expect(clip(array([[-2, 5]]), array([[0], [1]]), 2).toArray()).toEqual([
      [0, 2],
      [1, 2],
    ]);
    expect(clip(array([5]), Number.NEGATIVE_INFINITY, 3).toArray()).toEqual([3]);
  });
});

describe("inversePermutation / tril / triu", () => {
  it("inversePermutation undoes transpose", () => {
    expect(inversePermutation([2, 0, 1])).toEqual([1, 2, 0]);
    const a = reshape(arange(24), [2, 3, 4]);
    const back = transpose(transpose(a, [2, 0, 1]), inversePermutation([2, 0, 1]));
    expect(Array.from(back.data)).toEqual(Array.from(a.data));
    expect(() => inversePermutation([0, 0])).toThrow(/repeated/);
  });

  it("tril/triu agree with the index rule and partition the matrix", () => {
    const arb = fc
      .tuple(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: -4, max: 4 }),
      )
      .chain(([shape, k]) => intArrayArb(shape).map((a) => ({ a, k })));
    fc.assert(
      fc.property(arb, ({ a, k }) => {
        const lower = tril(a, k);
        const upper = triu(a, k + 1);
        const expectedLower = fromFunction(a.shape, (index) => {
          const [i, j] = index.slice(-2);
          return j <= i + k ? a.data[ravelIndex(index, a.shape)] : 0;
        });
        expect(Array.from(lower.data)).toEqual(Array.from(expectedLower.data));
        for (let i = 0; i < a.size; i++) expect(lower.data[i] + upper.data[i]).toBe(a.data[i]);
      }),
    );
    expect(() => tril(arange(3))).toThrow(/at least 2/);
  });
});

describe("result identity", () => {
  it("no-op kernel calls still return a new NDArray object (so each result can own a tape link)", () => {
    const a = reshape(arange(6), [2, 3]);
    const results = [
      broadcastTo(a, [2, 3]),
      sumToShape(a, [2, 3]),
      reshape(a, [2, 3]),
      ravel(arange(3)),
      transpose(a, [0, 1]),
      squeeze(a),
      expandDims(a, []),
      moveaxis(a, 0, 0),
      flip(a, []),
      sliceArray(a, []),
      concatenate([a]),
      split(a, 1)[0],
      sum(a, []),
      einsum("ij->ij", a),
      where(1, a, 0),
      clip(a, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
    ];
    for (const r of results) {
      expect(r).not.toBe(a);
      expect(r.shape).toEqual(r === results[3] ? [3] : [2, 3]);
    }
  });
});
