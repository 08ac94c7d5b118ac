/** @file Linear algebra kernels: matmul/dot/tensordot/einsum contractions and batched LU, solve, inv, det, Cholesky. */

import { invalidArgument } from "../../errors.js";
import { asNDArray, formatShape, NDArray, normalizeAxis, shapeSize } from "../../values/ndarray.js";
import { broadcastShapesFor, broadcastTo } from "./broadcast.js";
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
function batchedGemm(
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

// ---------------------------------------------------------------------------------------------------------------
// einsum
// ---------------------------------------------------------------------------------------------------------------

/** Label ids: letters use their char code; the j-th (right-aligned) ellipsis axis uses ELLIPSIS_BASE + j. */
const ELLIPSIS_BASE = 1000;

interface EinsumPlan {
  inputs: number[][];
  output: number[];
}

function parseTerm(term: string, op: string): { labels: number[]; ellipsisAt: number } {
  const labels: number[] = [];
  let ellipsisAt = -1;
  for (let i = 0; i < term.length; i++) {
    const ch = term[i];
    if (ch === ".") {
      if (term.slice(i, i + 3) !== "..." || ellipsisAt >= 0)
        throw invalidArgument(`${op}: invalid ellipsis in '${term}'`);
      ellipsisAt = labels.length;
      i += 2;
    } else if ((ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z")) {
      labels.push(ch.charCodeAt(0));
    } else {
      throw invalidArgument(`${op}: invalid subscript character '${ch}' in '${term}'`);
    }
  }
  return { labels, ellipsisAt };
}

function labelName(label: number): string {
  return label >= ELLIPSIS_BASE ? `...[${label - ELLIPSIS_BASE}]` : String.fromCharCode(label);
}

function parseEinsum(subscripts: string, operands: readonly NDArray[]): EinsumPlan {
  const op = "einsum";
  const text = subscripts.replace(/\s+/g, "");
  const arrow = text.indexOf("->");
  if (arrow >= 0 && text.indexOf("->", arrow + 1) >= 0)
    throw invalidArgument(`${op}: more than one '->' in '${subscripts}'`);
  const lhs = arrow >= 0 ? text.slice(0, arrow) : text;
  const terms = lhs.split(",");
  if (terms.length !== operands.length) {
    throw invalidArgument(
      `${op}: '${subscripts}' has ${terms.length} operand terms but ${operands.length} operands were given`,
    );
  }
  const parsed = terms.map((t) => parseTerm(t, op));
  let ellipsisDims = 0;
  const ellipsisCounts = parsed.map((p, i) => {
    const ndim = operands[i].ndim;
    const extra = ndim - p.labels.length;
    if ((p.ellipsisAt < 0 && extra !== 0) || extra < 0) {
      throw invalidArgument(
        `${op}: operand ${i} has shape ${formatShape(operands[i].shape)} but subscripts '${terms[i]}' name ${p.labels.length} axes`,
      );
    }
    if (p.ellipsisAt >= 0 && extra > ellipsisDims) ellipsisDims = extra;
    return p.ellipsisAt >= 0 ? extra : 0;
  });
  const inputs = parsed.map((p, i) => {
    if (p.ellipsisAt < 0) return p.labels;
    const count = ellipsisCounts[i];
    const ellipsisLabels = Array.from({ length: count }, (_, j) => ELLIPSIS_BASE + ellipsisDims - count + j);
    return [...p.labels.slice(0, p.ellipsisAt), ...ellipsisLabels, ...p.labels.slice(p.ellipsisAt)];
  });
  const allEllipsis = Array.from({ length: ellipsisDims }, (_, j) => ELLIPSIS_BASE + j);
  let output: number[];
  if (arrow >= 0) {
    const outTerm = parseTerm(text.slice(arrow + 2), op);
    if (outTerm.ellipsisAt < 0 && ellipsisDims > 0) {
      throw invalidArgument(
        `${op}: the inputs have ${ellipsisDims} axes under '...' but the output '${text.slice(arrow + 2)}' has no '...'`,
      );
    }
    output =
      outTerm.ellipsisAt >= 0
        ? [
            ...outTerm.labels.slice(0, outTerm.ellipsisAt),
            ...allEllipsis,
            ...outTerm.labels.slice(outTerm.ellipsisAt),
          ]
        : outTerm.labels;
    const seen = new Set<number>();
    for (const label of output) {
      if (seen.has(label))
        throw invalidArgument(`${op}: output subscript '${labelName(label)}' appears more than once`);
      seen.add(label);
      if (!inputs.some((labels) => labels.includes(label))) {
        throw invalidArgument(`${op}: output subscript '${labelName(label)}' does not appear in the inputs`);
      }
    }
  } else {
    const counts = new Map<number, number>();
    for (const labels of inputs) for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts.entries()]
      .filter(([l, c]) => c === 1 && l < ELLIPSIS_BASE)
      .map(([l]) => l)
      .sort((x, y) => x - y);
    output = [...allEllipsis, ...once];
  }
  return { inputs, output };
}

/** Size of every label over the given operands (size-1 axes broadcast); throws on conflicts. */
function labelSizes(operands: readonly NDArray[], inputs: readonly number[][]): Map<number, number> {
  const sizes = new Map<number, number>();
  for (let i = 0; i < operands.length; i++) {
    const labels = inputs[i];
    const shape = operands[i].shape;
    const local = new Map<number, number>();
    for (let d = 0; d < labels.length; d++) {
      const label = labels[d];
      const n = shape[d];
      const own = local.get(label);
      if (own !== undefined && own !== n) {
        throw invalidArgument(
          `einsum: repeated subscript '${labelName(label)}' in operand ${i} has unequal sizes in shape ${formatShape(shape)}`,
        );
      }
      local.set(label, n);
      const current = sizes.get(label);
      if (current === undefined || current === 1) sizes.set(label, n);
      else if (n !== 1 && n !== current) {
        throw invalidArgument(
          `einsum: size mismatch for subscript '${labelName(label)}': ${current} vs ${n} (operand ${i})`,
        );
      }
    }
  }
  return sizes;
}

/**
 * Direct strided loop for any einsum: iterates over output labels then summed labels, multiplying operand
 * elements and accumulating into the output. Handles repeated labels (diagonals) and size-1 broadcasting.
 */
function einsumLoop(
  operands: readonly NDArray[],
  inputs: readonly number[][],
  output: readonly number[],
): NDArray {
  const sizes = labelSizes(operands, inputs);
  const summed: number[] = [];
  for (const labels of inputs)
    for (const l of labels) if (!output.includes(l) && !summed.includes(l)) summed.push(l);
  const loopLabels = [...output, ...summed];
  const loopShape = loopLabels.map((l) => sizes.get(l) ?? 1);
  const outShape = output.map((l) => sizes.get(l) ?? 1);
  const out = new Float64Array(shapeSize(outShape));
  const outStrides = new Array<number>(loopLabels.length).fill(0);
  let stride = 1;
  for (let d = output.length - 1; d >= 0; d--) {
    outStrides[d] = stride;
    stride *= outShape[d];
  }
  const operandStrides = operands.map((operand, i) => {
    const labels = inputs[i];
    const strides = operand.strides;
    return loopLabels.map((l) => {
      let total = 0;
      for (let d = 0; d < labels.length; d++)
        if (labels[d] === l && operand.shape[d] !== 1) total += strides[d];
      return total;
    });
  });
  const datas = operands.map((o) => o.data);
  const count = operands.length;
  if (count === 1) {
    const x = datas[0];
    forEachRun(loopShape, [outStrides, operandStrides[0]], null, (offsets, length, steps) => {
      let o = offsets[0];
      let i = offsets[1];
      const so = steps[0];
      const si = steps[1];
      for (let t = 0; t < length; t++, o += so, i += si) out[o] += x[i];
    });
  } else if (count === 2) {
    const x = datas[0];
    const y = datas[1];
    forEachRun(
      loopShape,
      [outStrides, operandStrides[0], operandStrides[1]],
      null,
      (offsets, length, steps) => {
        let o = offsets[0];
        let i = offsets[1];
        let j = offsets[2];
        const so = steps[0];
        const si = steps[1];
        const sj = steps[2];
        for (let t = 0; t < length; t++, o += so, i += si, j += sj) out[o] += x[i] * y[j];
      },
    );
  } else {
    const cursor = new Int32Array(count);
    forEachRun(loopShape, [outStrides, ...operandStrides], null, (offsets, length, steps) => {
      let o = offsets[0];
      const so = steps[0];
      for (let q = 0; q < count; q++) cursor[q] = offsets[q + 1];
      for (let t = 0; t < length; t++, o += so) {
        let product = 1;
        for (let q = 0; q < count; q++) {
          product *= datas[q][cursor[q]];
          cursor[q] += steps[q + 1];
        }
        out[o] += product;
      }
    });
  }
  return new NDArray(out, outShape);
}

/** Contracts two operands with distinct labels each, keeping `keep` labels, via one batched gemm. */
function contractPair(
  a: NDArray,
  aLabels: readonly number[],
  b: NDArray,
  bLabels: readonly number[],
  keep: ReadonlySet<number>,
): { result: NDArray; labels: number[] } {
  let left = a;
  let leftLabels = aLabels.slice();
  let right = b;
  let rightLabels = bLabels.slice();
  const dropLeft = leftLabels
    .map((l, d) => (!keep.has(l) && !rightLabels.includes(l) ? d : -1))
    .filter((d) => d >= 0);
  if (dropLeft.length > 0) {
    left = sum(left, dropLeft);
    leftLabels = leftLabels.filter((_, d) => !dropLeft.includes(d));
  }
  const dropRight = rightLabels
    .map((l, d) => (!keep.has(l) && !leftLabels.includes(l) ? d : -1))
    .filter((d) => d >= 0);
  if (dropRight.length > 0) {
    right = sum(right, dropRight);
    rightLabels = rightLabels.filter((_, d) => !dropRight.includes(d));
  }
  const batch = leftLabels.filter((l) => rightLabels.includes(l) && keep.has(l));
  const contracted = leftLabels.filter((l) => rightLabels.includes(l) && !keep.has(l));
  const freeLeft = leftLabels.filter((l) => !rightLabels.includes(l));
  const freeRight = rightLabels.filter((l) => !leftLabels.includes(l));
  const sizeOf = (labels: readonly number[], array: NDArray, owner: readonly number[]): number[] =>
    labels.map((l) => array.shape[owner.indexOf(l)]);
  const batchShape = sizeOf(batch, left, leftLabels);
  const freeLeftShape = sizeOf(freeLeft, left, leftLabels);
  const freeRightShape = sizeOf(freeRight, right, rightLabels);
  const batchSize = shapeSize(batchShape);
  const m = shapeSize(freeLeftShape);
  const n = shapeSize(freeRightShape);
  const k = shapeSize(sizeOf(contracted, left, leftLabels));
  const leftOrdered = transpose(
    left,
    [...batch, ...freeLeft, ...contracted].map((l) => leftLabels.indexOf(l)),
  );
  const rightOrdered = transpose(
    right,
    [...batch, ...contracted, ...freeRight].map((l) => rightLabels.indexOf(l)),
  );
  const out = batchedGemm(
    leftOrdered.data,
    [batchSize],
    rightOrdered.data,
    [batchSize],
    [batchSize],
    m,
    k,
    n,
  );
  return {
    result: new NDArray(out, [...batchShape, ...freeLeftShape, ...freeRightShape]),
    labels: [...batch, ...freeLeft, ...freeRight],
  };
}

/**
 * Einstein summation (NumPy `einsum`): explicit (`"ij,jk->ik"`) and implicit (`"ij,jk"`) forms, repeated
 * subscripts within an operand (diagonals/traces), `...` ellipsis broadcasting, size-1 broadcasting and any
 * number of operands. Operands are first reduced on their own (diagonals, private summed labels), then
 * contracted pairwise left to right with batched matrix products.
 * @example
 * einsum("ij,jk->ik", array([[1, 2]]), array([[3], [4]])).toArray(); // [[11]]
 * einsum("ii->", array([[1, 2], [3, 4]])).item(); // 5
 * einsum("...ij,...jk->...ik", zeros([5, 2, 3]), zeros([3, 4])).shape; // [5, 2, 4]
 */
export function einsum(subscripts: string, ...operands: NDArray[]): NDArray {
  if (operands.length === 0) throw invalidArgument("einsum: needs at least one operand");
  const { inputs, output } = parseEinsum(subscripts, operands);
  const sizes = labelSizes(operands, inputs);
  const arrays = operands.slice();
  const labelLists = inputs.map((labels) => labels.slice());
  for (let i = 0; i < arrays.length; i++) {
    const labels = labelLists[i];
    const needed = (l: number): boolean =>
      output.includes(l) || labelLists.some((other, j) => j !== i && other.includes(l));
    const unique = labels.filter((l, d) => labels.indexOf(l) === d && needed(l));
    if (unique.length !== labels.length) {
      arrays[i] = einsumLoop([arrays[i]], [labels], unique);
      labelLists[i] = unique;
    }
    const target = labelLists[i].map((l) => sizes.get(l) ?? 1);
    if (arrays.length > 1 && target.some((n, d) => n !== arrays[i].shape[d]))
      arrays[i] = broadcastTo(arrays[i], target);
  }
  let current = arrays[0];
  let currentLabels = labelLists[0];
  for (let i = 1; i < arrays.length; i++) {
    const keep = new Set<number>(output);
    for (let j = i + 1; j < arrays.length; j++) for (const l of labelLists[j]) keep.add(l);
    const step = contractPair(current, currentLabels, arrays[i], labelLists[i], keep);
    current = step.result;
    currentLabels = step.labels;
  }
  if (currentLabels.length !== output.length) return einsumLoop([current], [currentLabels], output);
  return transpose(
    current,
    output.map((l) => currentLabels.indexOf(l)),
  );
}

/**
 * Reference einsum evaluated by the plain strided loop only (no pairwise contraction); same semantics as
 * {@link einsum}. Useful for testing and for tiny operands.
 * @example
 * einsumDirect("ij,j->i", array([[1, 2]]), array([3, 4])).toArray(); // [11]
 */
export function einsumDirect(subscripts: string, ...operands: NDArray[]): NDArray {
  if (operands.length === 0) throw invalidArgument("einsum: needs at least one operand");
  const { inputs, output } = parseEinsum(subscripts, operands);
  return einsumLoop(operands, inputs, output);
}

// ---------------------------------------------------------------------------------------------------------------
// Dense factorisations and solvers (batched over leading axes)
// ---------------------------------------------------------------------------------------------------------------

/**
 * A batched LU factorisation with partial pivoting, `P A = L U` for each matrix, as returned by {@link luFactor}.
 * `lu` holds U on and above the diagonal and the multipliers of the unit lower-triangular L below it.
 * `pivots` is LAPACK `getrf` style (0-based): at step k row k was swapped with row `pivots[b * n + k]` (>= k).
 */
export interface LUFactorization {
  /** Packed factors, shape `[...batchShape, n, n]`. */
  readonly lu: NDArray;
  /** Row interchanges, length `batchSize * n`. */
  readonly pivots: Int32Array;
  /** Sign (+1 / -1) of each permutation, length `batchSize`. */
  readonly pivotSigns: Float64Array;
  /** 1 where an exactly zero pivot was met (the matrix is singular), length `batchSize`. */
  readonly singular: Uint8Array;
  /** Leading batch dimensions. */
  readonly batchShape: readonly number[];
  /** Matrix order. */
  readonly n: number;
}

function squareInfo(a: NDArray, op: string): { batchShape: number[]; n: number; batchSize: number } {
  const rank = a.ndim;
  if (rank < 2 || a.shape[rank - 1] !== a.shape[rank - 2]) {
    throw invalidArgument(
      `${op}: expected square matrices in the last two axes, got shape ${formatShape(a.shape)}`,
    );
  }
  const batchShape = a.shape.slice(0, -2);
  return { batchShape, n: a.shape[rank - 1], batchSize: shapeSize(batchShape) };
}

function batchLabel(batchShape: readonly number[], index: number): string {
  if (batchShape.length === 0) return "";
  const position: number[] = [];
  let rest = index;
  for (let d = batchShape.length - 1; d >= 0; d--) {
    position.unshift(rest % batchShape[d]);
    rest = Math.floor(rest / batchShape[d]);
  }
  return ` (batch index [${position.join(", ")}])`;
}

/**
 * LU factorisation with partial pivoting of each matrix in the last two axes. Never throws for singular
 * matrices (they are flagged in `singular`; solving with them throws, their determinant is 0).
 * @example
 * const factor = luFactor(array([[0, 1], [2, 3]]));
 * luSolve(factor, array([1, 5])).toArray(); // [1, 1]
 */
export function luFactor(a: NDArray): LUFactorization {
  const { batchShape, n, batchSize } = squareInfo(a, "luFactor");
  const lu = a.data.slice();
  const pivots = new Int32Array(batchSize * n);
  const pivotSigns = new Float64Array(batchSize).fill(1);
  const singular = new Uint8Array(batchSize);
  const block = n * n;
  for (let batch = 0; batch < batchSize; batch++) {
    const base = batch * block;
    let sign = 1;
    for (let k = 0; k < n; k++) {
      let p = k;
      let largest = Math.abs(lu[base + k * n + k]);
      for (let i = k + 1; i < n; i++) {
        const v = Math.abs(lu[base + i * n + k]);
        if (v > largest) {
          largest = v;
          p = i;
        }
      }
      pivots[batch * n + k] = p;
      if (p !== k) {
        sign = -sign;
        const rowK = base + k * n;
        const rowP = base + p * n;
        for (let j = 0; j < n; j++) {
          const tmp = lu[rowK + j];
          lu[rowK + j] = lu[rowP + j];
          lu[rowP + j] = tmp;
        }
      }
      const pivotRow = base + k * n;
      const pivot = lu[pivotRow + k];
      if (pivot === 0) {
        singular[batch] = 1;
        continue;
      }
      for (let i = k + 1; i < n; i++) {
        const row = base + i * n;
        const factor = lu[row + k] / pivot;
        lu[row + k] = factor;
        if (factor === 0) continue;
        for (let j = k + 1; j < n; j++) lu[row + j] -= factor * lu[pivotRow + j];
      }
    }
    pivotSigns[batch] = sign;
  }
  return { lu: new NDArray(lu, a.shape), pivots, pivotSigns, singular, batchShape, n };
}

interface RightHandSide {
  batchShape: number[];
  columns: number;
  isVector: boolean;
}

/** NumPy 2 `solve` convention: a 1-D `b` is one vector; otherwise `b` is `[..., n, k]`. */
function rightHandSide(b: NDArray, n: number, op: string): RightHandSide {
  if (b.ndim === 1) {
    if (b.shape[0] !== n)
      throw invalidArgument(
        `${op}: right-hand side of shape ${formatShape(b.shape)} does not match matrix order ${n}`,
      );
    return { batchShape: [], columns: 1, isVector: true };
  }
  if (b.ndim < 1 || b.shape[b.ndim - 2] !== n) {
    throw invalidArgument(
      `${op}: right-hand side of shape ${formatShape(b.shape)} must be [n] or [..., n, k] with n = ${n}`,
    );
  }
  return { batchShape: b.shape.slice(0, -2), columns: b.shape[b.ndim - 1], isVector: false };
}

/**
 * Pairs every output batch index with the matrix batch index and right-hand-side batch index it reads
 * (broadcasting). Returns [matrixIndex, rhsIndex] pairs flattened.
 */
function batchPairs(
  matrixBatch: readonly number[],
  rhsBatch: readonly number[],
  op: string,
): { batch: number[]; pairs: Int32Array } {
  const batch = broadcastShapesFor(op, [matrixBatch, rhsBatch]);
  const count = shapeSize(batch);
  const pairs = new Int32Array(2 * count);
  let position = 0;
  forEachRun(
    batch,
    [broadcastStrides(matrixBatch, batch), broadcastStrides(rhsBatch, batch)],
    null,
    (offsets, length, steps) => {
      let i = offsets[0];
      let j = offsets[1];
      for (let t = 0; t < length; t++, i += steps[0], j += steps[1]) {
        pairs[position++] = i;
        pairs[position++] = j;
      }
    },
  );
  return { batch, pairs };
}

/** Solves in place with one packed LU block for a row-major n x k block `x`. */
function luSolveBlock(
  lu: Float64Array,
  base: number,
  pivots: Int32Array,
  pivotBase: number,
  x: Float64Array,
  xBase: number,
  n: number,
  k: number,
  transposed: boolean,
): void {
  const swapRows = (i: number, p: number): void => {
    const ri = xBase + i * k;
    const rp = xBase + p * k;
    for (let c = 0; c < k; c++) {
      const tmp = x[ri + c];
      x[ri + c] = x[rp + c];
      x[rp + c] = tmp;
    }
  };
  if (!transposed) {
    for (let i = 0; i < n; i++) {
      const p = pivots[pivotBase + i];
      if (p !== i) swapRows(i, p);
    }
    if (k === 1) {
      // Single right-hand side: row-times-vector substitutions.
      for (let i = 1; i < n; i++) {
        const lrow = base + i * n;
        let value = x[xBase + i];
        for (let j = 0; j < i; j++) value -= lu[lrow + j] * x[xBase + j];
        x[xBase + i] = value;
      }
      for (let i = n - 1; i >= 0; i--) {
        const urow = base + i * n;
        let value = x[xBase + i];
        for (let j = i + 1; j < n; j++) value -= lu[urow + j] * x[xBase + j];
        x[xBase + i] = value / lu[urow + i];
      }
      return;
    }
    // L y = P b (unit lower triangular)
    for (let i = 1; i < n; i++) {
      const ri = xBase + i * k;
      const lrow = base + i * n;
      for (let j = 0; j < i; j++) {
        const l = lu[lrow + j];
        if (l === 0) continue;
        const rj = xBase + j * k;
        for (let c = 0; c < k; c++) x[ri + c] -= l * x[rj + c];
      }
    }
    // U x = y
    for (let i = n - 1; i >= 0; i--) {
      const ri = xBase + i * k;
      const urow = base + i * n;
      for (let j = i + 1; j < n; j++) {
        const u = urow + j;
        const value = lu[u];
        if (value === 0) continue;
        const rj = xBase + j * k;
        for (let c = 0; c < k; c++) x[ri + c] -= value * x[rj + c];
      }
      const inverse = 1 / lu[urow + i];
      for (let c = 0; c < k; c++) x[ri + c] *= inverse;
    }
    return;
  }
  // A^T = U^T L^T P: solve U^T y = b (lower, non-unit), then L^T z = y (upper, unit), then x = P^T z.
  for (let i = 0; i < n; i++) {
    const ri = xBase + i * k;
    for (let j = 0; j < i; j++) {
      const value = lu[base + j * n + i];
      if (value === 0) continue;
      const rj = xBase + j * k;
      for (let c = 0; c < k; c++) x[ri + c] -= value * x[rj + c];
    }
    const inverse = 1 / lu[base + i * n + i];
    for (let c = 0; c < k; c++) x[ri + c] *= inverse;
  }
  for (let i = n - 2; i >= 0; i--) {
    const ri = xBase + i * k;
    for (let j = i + 1; j < n; j++) {
      const value = lu[base + j * n + i];
      if (value === 0) continue;
      const rj = xBase + j * k;
      for (let c = 0; c < k; c++) x[ri + c] -= value * x[rj + c];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const p = pivots[pivotBase + i];
    if (p !== i) swapRows(i, p);
  }
}

function luSolveNamed(factor: LUFactorization, b: NDArray, transposed: boolean, op: string): NDArray {
  const n = factor.n;
  const rhs = rightHandSide(b, n, op);
  const { batch, pairs } = batchPairs(factor.batchShape, rhs.batchShape, op);
  const k = rhs.columns;
  const block = n * k;
  const count = pairs.length / 2;
  const out = new Float64Array(count * block);
  const src = b.data;
  const lu = factor.lu.data;
  for (let t = 0; t < count; t++) {
    const matrix = pairs[2 * t];
    const rhsIndex = pairs[2 * t + 1];
    if (factor.singular[matrix])
      throw invalidArgument(`${op}: singular matrix${batchLabel(factor.batchShape, matrix)}`);
    const xBase = t * block;
    out.set(src.subarray(rhsIndex * block, rhsIndex * block + block), xBase);
    luSolveBlock(lu, matrix * n * n, factor.pivots, matrix * n, out, xBase, n, k, transposed);
  }
  const shape = rhs.isVector ? [...batch, n] : [...batch, n, k];
  return new NDArray(out, shape);
}

/**
 * Solves `A x = b` (or `A^T x = b` when `transpose`) reusing an {@link luFactor} result. `b` follows NumPy 2
 * `solve`: a 1-D `b` is a single vector (result `[..., n]`), otherwise `b` is `[..., n, k]`; batch axes broadcast.
 * Throws for singular matrices.
 * @example
 * luSolve(luFactor(array([[2, 0], [0, 4]])), array([2, 4])).toArray(); // [1, 1]
 */
export function luSolve(factor: LUFactorization, b: NDArray, transpose = false): NDArray {
  return luSolveNamed(factor, b, transpose, "luSolve");
}

/**
 * Solves `a x = b` for square `a` (batched over leading axes), with NumPy 2 `solve` conventions for `b`
 * (1-D = one vector, otherwise `[..., n, k]`). Throws a clear error for singular matrices.
 * @example
 * solve(array([[3, 1], [1, 2]]), array([9, 8])).toArray(); // [2, 3]
 */
export function solve(a: NDArray, b: NDArray): NDArray {
  squareInfo(a, "solve");
  return luSolveNamed(luFactor(a), b, false, "solve");
}

/**
 * Inverse of each square matrix in the last two axes; throws for singular matrices.
 * @example
 * inv(array([[2, 0], [0, 4]])).toArray(); // [[0.5, 0], [0, 0.25]]
 */
export function inv(a: NDArray): NDArray {
  const { n } = squareInfo(a, "inv");
  const identity = new Float64Array(n * n);
  for (let i = 0; i < n; i++) identity[i * n + i] = 1;
  return luSolveNamed(luFactor(a), new NDArray(identity, [n, n]), false, "inv");
}

/**
 * Determinant of each square matrix in the last two axes via LU (sign-correct; 0 for singular matrices).
 * @example
 * det(array([[1, 2], [3, 4]])).item(); // -2
 */
export function det(a: NDArray): NDArray {
  const factor = luFactor(a);
  const n = factor.n;
  const lu = factor.lu.data;
  const out = new Float64Array(factor.pivotSigns.length);
  for (let batch = 0; batch < out.length; batch++) {
    let value = factor.pivotSigns[batch];
    const base = batch * n * n;
    for (let i = 0; i < n; i++) value *= lu[base + i * n + i];
    out[batch] = factor.singular[batch] ? 0 : value;
  }
  return new NDArray(out, factor.batchShape);
}

/**
 * Sign and natural log of the absolute determinant (robust to over/underflow); singular gives sign 0 and -Infinity.
 * @example
 * const { sign, logAbsDet } = slogdet(array([[1, 2], [3, 4]])); // sign -1, logAbsDet log(2)
 */
export function slogdet(a: NDArray): { sign: NDArray; logAbsDet: NDArray } {
  const factor = luFactor(a);
  const n = factor.n;
  const lu = factor.lu.data;
  const count = factor.pivotSigns.length;
  const signs = new Float64Array(count);
  const logs = new Float64Array(count);
  for (let batch = 0; batch < count; batch++) {
    let sign = factor.pivotSigns[batch];
    let total = 0;
    const base = batch * n * n;
    for (let i = 0; i < n; i++) {
      const d = lu[base + i * n + i];
      if (d < 0) sign = -sign;
      total += Math.log(Math.abs(d));
    }
    if (factor.singular[batch]) {
      sign = 0;
      total = Number.NEGATIVE_INFINITY;
    }
    signs[batch] = sign;
    logs[batch] = total;
  }
  return { sign: new NDArray(signs, factor.batchShape), logAbsDet: new NDArray(logs, factor.batchShape) };
}

/**
 * Lower-triangular Cholesky factor `L` with `L L^T = A` for each symmetric positive-definite matrix in the last
 * two axes (only the lower triangle of `A` is read). Throws a clear error if a matrix is not positive definite.
 * @example
 * cholesky(array([[4, 2], [2, 5]])).toArray(); // [[2, 0], [1, 2]]
 */
export function cholesky(a: NDArray): NDArray {
  const { batchShape, n, batchSize } = squareInfo(a, "cholesky");
  const src = a.data;
  const out = new Float64Array(src.length);
  const block = n * n;
  for (let batch = 0; batch < batchSize; batch++) {
    const base = batch * block;
    for (let j = 0; j < n; j++) {
      const rowJ = base + j * n;
      let diagonalValue = src[rowJ + j];
      for (let p = 0; p < j; p++) diagonalValue -= out[rowJ + p] * out[rowJ + p];
      if (!(diagonalValue > 0)) {
        throw invalidArgument(
          `cholesky: matrix is not positive definite${batchLabel(batchShape, batch)} (leading minor of order ${j + 1})`,
        );
      }
      const pivot = Math.sqrt(diagonalValue);
      out[rowJ + j] = pivot;
      for (let i = j + 1; i < n; i++) {
        const rowI = base + i * n;
        let value = src[rowI + j];
        for (let p = 0; p < j; p++) value -= out[rowI + p] * out[rowJ + p];
        out[rowI + j] = value / pivot;
      }
    }
  }
  return new NDArray(out, a.shape);
}

/** Options of {@link solveTriangular}. */
export interface TriangularSolveOptions {
  /** Use the lower triangle of `a` (default false: upper, like SciPy). */
  readonly lower?: boolean;
  /** Solve `a^T x = b` instead of `a x = b`. */
  readonly transpose?: boolean;
  /** Assume ones on the diagonal of `a` (the diagonal is not read). */
  readonly unitDiagonal?: boolean;
}

/**
 * Solves `a x = b` (or `a^T x = b`) where `a` is triangular; only the chosen triangle is read. Batched over
 * leading axes with the same `b` conventions as {@link solve}. Throws on a zero diagonal entry.
 * @example
 * solveTriangular(array([[2, 0], [1, 1]]), array([2, 3]), { lower: true }).toArray(); // [1, 2]
 */
export function solveTriangular(a: NDArray, b: NDArray, options: TriangularSolveOptions = {}): NDArray {
  const op = "solveTriangular";
  const { batchShape, n } = squareInfo(a, op);
  const lower = options.lower ?? false;
  const transposed = options.transpose ?? false;
  const unit = options.unitDiagonal ?? false;
  const rhs = rightHandSide(b, n, op);
  const { batch, pairs } = batchPairs(batchShape, rhs.batchShape, op);
  const k = rhs.columns;
  const block = n * k;
  const count = pairs.length / 2;
  const out = new Float64Array(count * block);
  const src = b.data;
  const t = a.data;
  // Element (i, j) of op(a) is at rowStride * i + colStride * j.
  const rowStride = transposed ? 1 : n;
  const colStride = transposed ? n : 1;
  const forward = lower !== transposed;
  for (let q = 0; q < count; q++) {
    const base = pairs[2 * q] * n * n;
    const rhsIndex = pairs[2 * q + 1];
    const xBase = q * block;
    out.set(src.subarray(rhsIndex * block, rhsIndex * block + block), xBase);
    for (let step = 0; step < n; step++) {
      const i = forward ? step : n - 1 - step;
      const ri = xBase + i * k;
      const jStart = forward ? 0 : i + 1;
      const jStop = forward ? i : n;
      for (let j = jStart; j < jStop; j++) {
        const value = t[base + i * rowStride + j * colStride];
        if (value === 0) continue;
        const rj = xBase + j * k;
        for (let c = 0; c < k; c++) out[ri + c] -= value * out[rj + c];
      }
      if (!unit) {
        const d = t[base + i * (rowStride + colStride)];
        if (d === 0) {
          throw invalidArgument(
            `${op}: singular matrix (zero diagonal entry ${i})${batchLabel(batchShape, pairs[2 * q])}`,
          );
        }
        const inverse = 1 / d;
        for (let c = 0; c < k; c++) out[ri + c] *= inverse;
      }
    }
  }
  const shape = rhs.isVector ? [...batch, n] : [...batch, n, k];
  return new NDArray(out, shape);
}
