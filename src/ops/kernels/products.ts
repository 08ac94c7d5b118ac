/** @file Dense matrix-product kernels: matmul (blocked gemm over batches), tensordot, dot, inner, outer, vdot, trace. */

import { invalidArgument } from "../../errors.js";
import { asNDArray, formatShape, NDArray, normalizeAxis, shapeSize } from "../../values/ndarray.js";
import { broadcastShapesFor } from "./broadcast.js";
import { multiply } from "./elementwise.js";
import { sum } from "./reduce.js";
import { diagonal, transpose } from "./shape.js";
import { broadcastStrides, forEachRun } from "./strided.js";

// ---------------------------------------------------------------------------------------------------------------
// Dense matrix products
// ---------------------------------------------------------------------------------------------------------------

/** `C[cOff..] += A[aOff..] (m x k) @ B[bOff..] (k x n)`, all row-major contiguous; `C` must start zeroed. */
function gemm(
  a: Float64Array,
  aOffset: number,
  b: Float64Array,
  bOffset: number,
  c: Float64Array,
  cOffset: number,
  m: number,
  k: number,
  n: number,
): void {
  if (n === 1) {
    for (let i = 0; i < m; i++) {
      const row = aOffset + i * k;
      let total = 0;
      for (let p = 0; p < k; p++) total += a[row + p] * b[bOffset + p];
      c[cOffset + i] += total;
    }
    return;
  }
  for (let i = 0; i < m; i++) {
    const aRow = aOffset + i * k;
    const cRow = cOffset + i * n;
    let p = 0;
    // Four rows of B per sweep over the output row: a quarter of the loads/stores of C.
    for (; p + 3 < k; p += 4) {
      const a0 = a[aRow + p];
      const a1 = a[aRow + p + 1];
      const a2 = a[aRow + p + 2];
      const a3 = a[aRow + p + 3];
      const b0 = bOffset + p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        c[cRow + j] += a0 * b[b0 + j] + a1 * b[b1 + j] + a2 * b[b2 + j] + a3 * b[b3 + j];
      }
    }
    for (; p < k; p++) {
      const factor = a[aRow + p];
      const bRow = bOffset + p * n;
      for (let j = 0; j < n; j++) c[cRow + j] += factor * b[bRow + j];
    }
  }
}

/** Batched gemm with broadcast batch dimensions; returns the output buffer of `batch` x m x n. */
export function batchedGemm(
  a: Float64Array,
  aBatch: readonly number[],
  b: Float64Array,
  bBatch: readonly number[],
  batch: readonly number[],
  m: number,
  k: number,
  n: number,
): Float64Array {
  const out = new Float64Array(shapeSize(batch) * m * n);
  if (out.length === 0 || k === 0) return out;
  if (shapeSize(aBatch) === 1 && shapeSize(bBatch) === 1) {
    gemm(a, 0, b, 0, out, 0, m, k, n);
    return out;
  }
  const aStep = m * k;
  const bStep = k * n;
  const cStep = m * n;
  let position = 0;
  forEachRun(
    batch,
    [broadcastStrides(aBatch, batch), broadcastStrides(bBatch, batch)],
    null,
    (offsets, length, steps) => {
      let i = offsets[0];
      let j = offsets[1];
      for (let t = 0; t < length; t++, i += steps[0], j += steps[1], position++) {
        gemm(a, i * aStep, b, j * bStep, out, position * cStep, m, k, n);
      }
    },
  );
  return out;
}

/**
 * Matrix product with NumPy `matmul` semantics: 1-D operands are promoted to a row (left) or column (right)
 * vector and the added axis removed afterwards; leading dimensions are batch dimensions and broadcast.
 * @example
 * matmul(array([[1, 2], [3, 4]]), array([1, 1])).toArray(); // [3, 7]
 * matmul(zeros([5, 2, 3]), zeros([3, 4])).shape; // [5, 2, 4]
 */
export function matmul(a: NDArray, b: NDArray): NDArray {
  if (a.ndim === 0 || b.ndim === 0) {
    throw invalidArgument(
      `matmul: operands must be at least 1-D, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  const aShape = a.ndim === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.ndim === 1 ? [b.shape[0], 1] : b.shape;
  const m = aShape[aShape.length - 2];
  const k = aShape[aShape.length - 1];
  const n = bShape[bShape.length - 1];
  if (bShape[bShape.length - 2] !== k) {
    throw invalidArgument(
      `matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} are not aligned (${k} != ${bShape[bShape.length - 2]})`,
    );
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShapesFor("matmul", [aBatch, bBatch]);
  const out = batchedGemm(a.data, aBatch, b.data, bBatch, batch, m, k, n);
  const shape = batch.slice();
  if (a.ndim > 1) shape.push(m);
  if (b.ndim > 1) shape.push(n);
  return new NDArray(out, shape);
}

/** Explicit tensordot axes: `[axesOfA, axesOfB]`, each one axis or a list (paired in order). */
export type AxesPair = readonly [number | readonly number[], number | readonly number[]];

/**
 * Tensor contraction over the given axes (NumPy `tensordot`): `axes = N` contracts the last N axes of `a` with
 * the first N of `b`; `axes = [axesA, axesB]` pairs them explicitly. Result: free axes of `a` then of `b`.
 * @example
 * tensordot(zeros([2, 3, 4]), zeros([3, 4, 5]), 2).shape; // [2, 5]
 * tensordot(zeros([2, 3]), zeros([4, 2]), [[0], [1]]).shape; // [3, 4]
 */
export function tensordot(a: NDArray, b: NDArray, axes: number | AxesPair = 2): NDArray {
  let axesA: number[];
  let axesB: number[];
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > a.ndim || axes > b.ndim) {
      throw invalidArgument(
        `tensordot: cannot contract ${axes} axes of shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
      );
    }
    axesA = Array.from({ length: axes }, (_, i) => a.ndim - axes + i);
    axesB = Array.from({ length: axes }, (_, i) => i);
  } else {
    const listA = typeof axes[0] === "number" ? [axes[0]] : axes[0];
    const listB = typeof axes[1] === "number" ? [axes[1]] : axes[1];
    if (listA.length !== listB.length)
      throw invalidArgument("tensordot: axes lists must have the same length");
    axesA = listA.map((axisIndex) => normalizeAxis(axisIndex, a.ndim, "tensordot"));
    axesB = listB.map((axisIndex) => normalizeAxis(axisIndex, b.ndim, "tensordot"));
    if (new Set(axesA).size !== axesA.length || new Set(axesB).size !== axesB.length) {
      throw invalidArgument("tensordot: repeated axis in axes");
    }
  }
  let k = 1;
  for (let i = 0; i < axesA.length; i++) {
    if (a.shape[axesA[i]] !== b.shape[axesB[i]]) {
      throw invalidArgument(
        `tensordot: shape mismatch for contracted axes of ${formatShape(a.shape)} and ${formatShape(b.shape)}: ${a.shape[axesA[i]]} != ${b.shape[axesB[i]]}`,
      );
    }
    k *= a.shape[axesA[i]];
  }
  const freeA = a.shape.map((_, i) => i).filter((i) => !axesA.includes(i));
  const freeB = b.shape.map((_, i) => i).filter((i) => !axesB.includes(i));
  const freeShapeA = freeA.map((i) => a.shape[i]);
  const freeShapeB = freeB.map((i) => b.shape[i]);
  const m = shapeSize(freeShapeA);
  const n = shapeSize(freeShapeB);
  const left = transpose(a, [...freeA, ...axesA]);
  const right = transpose(b, [...axesB, ...freeB]);
  const out = new Float64Array(m * n);
  if (out.length > 0 && k > 0) gemm(left.data, 0, right.data, 0, out, 0, m, k, n);
  return new NDArray(out, [...freeShapeA, ...freeShapeB]);
}

/**
 * NumPy `dot`: scalar multiply if either is 0-d, inner product for 1-D/1-D, matrix product for 2-D, and for
 * N-D a sum product over the last axis of `a` and the second-to-last of `b` (last if `b` is 1-D).
 * @example
 * dot(array([1, 2]), array([3, 4])).item(); // 11
 */
export function dot(a: NDArray, b: NDArray): NDArray {
  if (a.ndim === 0 || b.ndim === 0) return multiply(a, b);
  if (a.ndim <= 2 && b.ndim <= 2) return matmul(a, b);
  checkLastAxis(a, b, b.ndim === 1 ? 0 : b.ndim - 2, "dot");
  return tensordot(a, b, [[a.ndim - 1], [b.ndim === 1 ? 0 : b.ndim - 2]]);
}

function checkLastAxis(a: NDArray, b: NDArray, bAxis: number, op: string): void {
  if (a.shape[a.ndim - 1] !== b.shape[bAxis]) {
    throw invalidArgument(
      `${op}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} not aligned: ${a.shape[a.ndim - 1]} (dim ${a.ndim - 1}) != ${b.shape[bAxis]} (dim ${bAxis})`,
    );
  }
}

/**
 * NumPy `inner`: sum product over the last axes (scalar multiply if either is 0-d).
 * @example
 * inner(array([[1, 2], [3, 4]]), array([1, 1])).toArray(); // [3, 7]
 */
export function inner(a: NDArray, b: NDArray): NDArray {
  if (a.ndim === 0 || b.ndim === 0) return multiply(a, b);
  checkLastAxis(a, b, b.ndim - 1, "inner");
  return tensordot(a, b, [[a.ndim - 1], [b.ndim - 1]]);
}

/**
 * Outer product of the flattened inputs: `out[i, j] = a.flat[i] * b.flat[j]`.
 * @example
 * outer(array([1, 2]), array([3, 4])).toArray(); // [[3, 4], [6, 8]]
 */
export function outer(a: NDArray, b: NDArray): NDArray {
  const x = a.data;
  const y = b.data;
  const m = x.length;
  const n = y.length;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const xi = x[i];
    const row = i * n;
    for (let j = 0; j < n; j++) out[row + j] = xi * y[j];
  }
  return new NDArray(out, [m, n]);
}

/**
 * Sum of the elementwise product of two arrays of equal size (flattened), as a number (NumPy `vdot` for reals).
 * @example
 * vdot(array([[1, 2], [3, 4]]), array([[1, 1], [1, 1]])); // 10
 */
export function vdot(a: NDArray | number, b: NDArray | number): number {
  const x = asNDArray(a).data;
  const y = asNDArray(b).data;
  if (x.length !== y.length)
    throw invalidArgument(`vdot: arrays must have the same size, got ${x.length} and ${y.length}`);
  let total = 0;
  for (let i = 0; i < x.length; i++) total += x[i] * y[i];
  return total;
}

/**
 * Sum along a diagonal of the 2-D sub-arrays spanned by `axis1`, `axis2` (NumPy `trace`); those axes are removed.
 * @example
 * trace(array([[1, 2], [3, 4]])).item(); // 5
 */
export function trace(a: NDArray, offset = 0, axis1 = 0, axis2 = 1): NDArray {
  return sum(diagonal(a, offset, axis1, axis2), -1);
}
