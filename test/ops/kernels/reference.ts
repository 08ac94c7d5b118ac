/** @file Test helpers: naive index-based references, closeness checks and fast-check arbitraries for arrays. */

import fc from "fast-check";
import { expect } from "vitest";
import { NDArray } from "../../../src/values/ndarray.js";

/** Multi-index of flat position `flat` in a row-major array of `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return index;
}

/** Flat row-major position of a multi-index. */
export function ravelIndex(index: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + index[d];
  return flat;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, n) => p * n, 1);
}

/** Builds an NDArray by evaluating `f` at every multi-index. */
export function fromFunction(shape: readonly number[], f: (index: number[]) => number): NDArray {
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = f(unravel(i, shape));
  return new NDArray(data, shape);
}

/** Element of a broadcast operand at an output multi-index (NumPy right-aligned rules). */
export function broadcastGet(a: NDArray, outIndex: readonly number[]): number {
  const shift = outIndex.length - a.ndim;
  const index = a.shape.map((n, d) => (n === 1 ? 0 : outIndex[d + shift]));
  return a.data[ravelIndex(index, a.shape)];
}

/** Dot product of two equally sized arrays. */
export function dotAll(a: NDArray, b: NDArray): number {
  expect(a.size).toBe(b.size);
  let total = 0;
  for (let i = 0; i < a.size; i++) total += a.data[i] * b.data[i];
  return total;
}

/** Asserts equal shapes and elementwise closeness `|x - y| <= atol + rtol * |y|` (NaNs must match). */
export function expectClose(actual: NDArray, expected: NDArray, rtol = 1e-10, atol = 1e-10): void {
  expect(actual.shape).toEqual(expected.shape);
  for (let i = 0; i < expected.size; i++) {
    const x = actual.data[i];
    const y = expected.data[i];
    if (Number.isNaN(y)) {
      expect(Number.isNaN(x), `element ${i}: expected NaN, got ${x}`).toBe(true);
      continue;
    }
    if (x === y) continue;
    const tolerance = atol + rtol * Math.abs(y);
    if (!(Math.abs(x - y) <= tolerance)) {
      throw new Error(
        `element ${i} (index [${unravel(i, expected.shape).join(", ")}]): ${x} vs expected ${y} (tolerance ${tolerance})`,
      );
    }
  }
}

/** Asserts two numbers are close relative to a scale. */
export function expectNumberClose(actual: number, expected: number, rtol = 1e-10, atol = 1e-10): void {
  if (!(Math.abs(actual - expected) <= atol + rtol * Math.abs(expected))) {
    throw new Error(`${actual} vs expected ${expected}`);
  }
}

/** Shapes with up to `maxRank` axes of sizes in [minDim, maxDim] (rank 0 included). */
export function shapeArb(maxRank = 4, minDim = 1, maxDim = 4): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: 0, maxLength: maxRank });
}

/** Small-integer-valued data (exact arithmetic in sums) of the given shape. */
export function intArrayArb(shape: readonly number[], range = 5): fc.Arbitrary<NDArray> {
  const size = sizeOf(shape);
  return fc
    .array(fc.integer({ min: -range, max: range }), { minLength: size, maxLength: size })
    .map((values) => new NDArray(Float64Array.from(values), shape));
}

/** Real-valued data in [-range, range] of the given shape. */
export function realArrayArb(shape: readonly number[], range = 2): fc.Arbitrary<NDArray> {
  const size = sizeOf(shape);
  return fc
    .array(fc.double({ min: -range, max: range, noNaN: true, noDefaultInfinity: true }), {
      minLength: size,
      maxLength: size,
    })
    .map((values) => new NDArray(Float64Array.from(values), shape));
}

/** A random array with its own random shape. */
export function anyIntArrayArb(maxRank = 4, minDim = 1, maxDim = 4): fc.Arbitrary<NDArray> {
  return shapeArb(maxRank, minDim, maxDim).chain((shape) => intArrayArb(shape));
}

/**
 * `count` operand shapes that are mutually broadcast-compatible (random suffixes of a common target with some
 * axes set to 1), together with their broadcast shape computed naively.
 */
export function broadcastShapesArb(
  count: number,
  maxRank = 4,
): fc.Arbitrary<{ target: number[]; shapes: number[][] }> {
  return shapeArb(maxRank, 1, 4).chain((base) => {
    const operand = fc
      .tuple(
        fc.integer({ min: 0, max: base.length }),
        fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      )
      .map(([rank, ones]) =>
        base.slice(base.length - rank).map((n, i) => (ones[i + base.length - rank] ? 1 : n)),
      );
    return fc.array(operand, { minLength: count, maxLength: count }).map((shapes) => {
      const rank = Math.max(0, ...shapes.map((s) => s.length));
      const target = new Array<number>(rank).fill(1);
      for (const s of shapes)
        for (let i = 0; i < s.length; i++)
          target[i + rank - s.length] = Math.max(target[i + rank - s.length], s[i]);
      return { target, shapes };
    });
  });
}
