/** @file NumPy broadcasting: shape rules, broadcastTo, its adjoint sumToShape, and fast elementwise loops. */

import { invalidArgument, ShapeMismatchError } from "../../errors.js";
import { asNDArray, emptyArray, formatShape, NDArray, shapeSize, shapesEqual } from "../../values/ndarray.js";
import { takeArray } from "../../values/pool.js";
import { broadcastPattern, broadcastStrides, forEachRun } from "./strided.js";

/**
 * Kernel for one contiguous output run of a broadcast binary operation:
 * `out[outOffset + t] = op(x[xOffset + t * xStep], y[yOffset + t * yStep])` for `t < length`.
 */
export type BinaryRunKernel = (
  out: Float64Array,
  outOffset: number,
  x: Float64Array,
  xOffset: number,
  xStep: number,
  y: Float64Array,
  yOffset: number,
  yStep: number,
  length: number,
) => void;

/**
 * The broadcast shape of several shapes (NumPy rules), with `op` named in the error message.
 * @example
 * broadcastShapesFor("add", [[2, 1], [3]]); // [2, 3]
 */
export function broadcastShapesFor(op: string, shapes: readonly (readonly number[])[]): number[] {
  let ndim = 0;
  for (const s of shapes) if (s.length > ndim) ndim = s.length;
  const result = new Array<number>(ndim).fill(1);
  for (let k = 0; k < shapes.length; k++) {
    const s = shapes[k];
    const shift = ndim - s.length;
    for (let i = 0; i < s.length; i++) {
      const n = s[i];
      const current = result[i + shift];
      if (n === current || n === 1) continue;
      if (current === 1) {
        result[i + shift] = n;
        continue;
      }
      throw new ShapeMismatchError(
        op,
        shapes,
        `operands could not be broadcast together (axis ${i - s.length}: ${current} vs ${n}); make the sizes equal or 1`,
      );
    }
  }
  return result;
}

/**
 * The broadcast shape of the given shapes (NumPy rules).
 * @example
 * broadcastShapes([2, 1], [3]); // [2, 3]
 * broadcastShapes([], [4, 5]); // [4, 5]
 */
export function broadcastShapes(...shapes: readonly (readonly number[])[]): number[] {
  return broadcastShapesFor("broadcastShapes", shapes);
}

function checkBroadcastable(from: readonly number[], to: readonly number[], op: string): void {
  let ok = from.length <= to.length;
  const shift = to.length - from.length;
  for (let i = 0; ok && i < from.length; i++) if (from[i] !== 1 && from[i] !== to[i + shift]) ok = false;
  if (!ok)
    throw invalidArgument(
      `${op}: cannot broadcast an array of shape ${formatShape(from)} to shape ${formatShape(to)}`,
    );
}

/**
 * Materialises `a` broadcast to `shape` (a copy unless no element needs repeating, in which case the buffer is shared).
 * @example
 * broadcastTo(array([1, 2]), [2, 2]).toArray(); // [[1, 2], [1, 2]]
 */
export function broadcastTo(a: NDArray, shape: readonly number[]): NDArray {
  checkBroadcastable(a.shape, shape, "broadcastTo");
  const size = shapeSize(shape);
  if (size === a.size) return new NDArray(a.data, shape);
  // every entry is written below (a pooled buffer inside an adjoint sweep, see values/pool.ts)
  const out = takeArray(size);
  if (a.size === 1) {
    out.fill(a.data[0]);
    return new NDArray(out, shape);
  }
  const src = a.data;
  const pattern = broadcastPattern(a.shape, shape);
  if (pattern !== null) {
    // the loops live in their own functions: optimised while a long loop runs (on-stack replacement), this
    // function would otherwise meet its `new NDArray` with no type feedback and deoptimise on every call
    if ("trailing" in pattern) repeatEachInto(out, src, pattern.trailing);
    else tileInto(out, src);
    return new NDArray(out, shape);
  }
  let position = 0;
  forEachRun(shape, [broadcastStrides(a.shape, shape)], null, (offsets, length, steps) => {
    let i = offsets[0];
    const step = steps[0];
    if (step === 0) {
      out.fill(src[i], position, position + length);
      position += length;
    } else {
      for (let t = 0; t < length; t++, i += step) out[position++] = src[i];
    }
  });
  return new NDArray(out, shape);
}

/** out = each entry of src repeated over a contiguous group of g entries. */
function repeatEachInto(out: Float64Array, src: Float64Array, g: number): void {
  if (g >= 16) for (let j = 0, o = 0; j < src.length; j++, o += g) out.fill(src[j], o, o + g);
  else if (g === 2) {
    // two entries of src a step, loads ahead of stores (V8 reloads a typed array's data pointer after a store)
    const n = src.length;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const v = src[j];
      const u = src[j + 1];
      const o = 2 * j;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = u;
      out[o + 3] = u;
    }
    if (j < n) {
      const v = src[j];
      out[2 * j] = v;
      out[2 * j + 1] = v;
    }
  } else
    for (let j = 0, o = 0; j < src.length; j++) {
      const v = src[j];
      for (let t = 0; t < g; t++) out[o++] = v;
    }
}

/** out = the whole of src repeated block after block. */
function tileInto(out: Float64Array, src: Float64Array): void {
  for (let o = 0; o < out.length; o += src.length) out.set(src, o);
}

/**
 * Sums `a` over the axes along which an array of shape `shape` would have been broadcast to `a.shape`
 * (leading extra axes and size-1 axes), giving an array of exactly `shape`: the adjoint of
 * {@link broadcastTo}. `shape` must broadcast to `a.shape`.
 * @example
 * sumToShape(array([[1, 2], [3, 4]]), [2]).toArray(); // [4, 6]
 * sumToShape(array([[1, 2], [3, 4]]), [2, 1]).toArray(); // [[3], [7]]
 */
export function sumToShape(a: NDArray, shape: readonly number[]): NDArray {
  checkBroadcastable(shape, a.shape, "sumToShape");
  const size = shapeSize(shape);
  if (size === a.size) return new NDArray(a.data, shape);
  const src = a.data;
  if (size === 1) return new NDArray(Float64Array.of(sumAll(src)), shape);
  const pattern = broadcastPattern(shape, a.shape);
  if (pattern !== null) {
    // uninitialised (values/ndarray.ts): sumPatternInto writes every entry
    const sums = emptyArray(size);
    sumPatternInto(sums, src, pattern);
    return new NDArray(sums, shape);
  }
  const out = new Float64Array(size);
  const outStrides = broadcastStrides(shape, a.shape);
  accumulateInto(out, src, a.shape, outStrides);
  return new NDArray(out, shape);
}

/** The sum of every entry, left to right from 0 (so one entry -0 gives 0, as a sum into zeros). */
function sumAll(data: Float64Array): number {
  let total = 0;
  for (let i = 0; i < data.length; i++) total += data[i];
  return total;
}

/**
 * The one "sum back to shape" of raw values (the adjoint of broadcasting an operand to `a.shape`): `a`
 * summed down to the shape of the raw value `target` with {@link sumToShape}; a number target (an AdjFloat
 * operand) takes the total of all entries, as a number. `target` only gives the shape; its entries are not
 * read.
 * @example
 * sumToRaw(array([[1, 2], [3, 4]]), array([0, 0])).toArray(); // [4, 6]
 * sumToRaw(array([1, 2]), 0); // 3
 */
export function sumToRaw(a: NDArray, target: number): number;
export function sumToRaw(a: NDArray, target: NDArray): NDArray;
export function sumToRaw(a: NDArray, target: number | NDArray): number | NDArray;
export function sumToRaw(a: NDArray, target: number | NDArray): number | NDArray {
  return typeof target === "number" ? sumAll(a.data) : sumToShape(a, target.shape);
}

/**
 * Writes into `out` (every entry; its contents are not read) the sums of `src` along a
 * {@link broadcastPattern}: contiguous groups summed one by one (`trailing`), or blocks added entry by entry
 * (`leading`), in the same order as the strided loop adding into zeros: each sum starts from +0 (so -0
 * terms alone give +0, as `0 + -0` does).
 * @example
 * sumPatternInto(out, src, { trailing: 2 }); // out[j] = src[2j] + src[2j + 1]
 */
export function sumPatternInto(
  out: Float64Array,
  src: Float64Array,
  pattern: { trailing: number } | { leading: number },
): void {
  if ("trailing" in pattern) sumGroupsInto(out, src, pattern.trailing);
  else sumBlocksInto(out, src, pattern.leading);
}

// A sum started from +0 is never -0 (x + y is -0 only when both are -0), so adding it into a zero (+0 + s)
// gives s itself: assigning the sums below gives the bits that adding them into a zero-filled array gave.

/** out[j] = the sum of src's j-th contiguous group of g entries (summed from 0). */
function sumGroupsInto(out: Float64Array, src: Float64Array, g: number): void {
  const n = out.length;
  if (g === 2) {
    // two groups a step, loads ahead of stores (V8 reloads a typed array's data pointer after a store)
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const position = 2 * j;
      const x0 = src[position];
      const x1 = src[position + 1];
      const y0 = src[position + 2];
      const y1 = src[position + 3];
      out[j] = 0 + x0 + x1;
      out[j + 1] = 0 + y0 + y1;
    }
    if (j < n) out[j] = 0 + src[2 * j] + src[2 * j + 1];
    return;
  }
  if (g === 3) {
    for (let j = 0, position = 0; j < n; j++, position += 3)
      out[j] = 0 + src[position] + src[position + 1] + src[position + 2];
    return;
  }
  if (g === 4) {
    for (let j = 0, position = 0; j < n; j++, position += 4)
      out[j] = 0 + src[position] + src[position + 1] + src[position + 2] + src[position + 3];
    return;
  }
  for (let j = 0, position = 0; j < n; j++) {
    let total = 0;
    for (let t = 0; t < g; t++) total += src[position++];
    out[j] = total;
  }
}

/** out[j] = the sum of src's j-th entry of every block of m entries, block after block (from 0). */
function sumBlocksInto(out: Float64Array, src: Float64Array, m: number): void {
  if (src.length === 0) {
    out.fill(0, 0, m);
    return;
  }
  for (let j = 0; j < m; j++) out[j] = 0 + src[j];
  for (let position = m; position < src.length; ) for (let j = 0; j < m; j++) out[j] += src[position++];
}

/**
 * Adds every element of the contiguous array `src` (shape `shape`) into `out` at the offsets given by
 * `outStrides` (0 on summed axes).
 */
function accumulateInto(
  out: Float64Array,
  src: Float64Array,
  shape: readonly number[],
  outStrides: number[],
): void {
  let position = 0;
  forEachRun(shape, [outStrides], null, (offsets, length, steps) => {
    let o = offsets[0];
    const step = steps[0];
    if (step === 0) {
      let total = 0;
      for (let t = 0; t < length; t++) total += src[position++];
      out[o] += total;
    } else {
      for (let t = 0; t < length; t++, o += step) out[o] += src[position++];
    }
  });
}

/**
 * Applies `f` to every element. For hot paths prefer the dedicated kernels in `elementwise.ts`.
 * @example
 * mapUnary(array([1, 4]), Math.sqrt).toArray(); // [1, 2]
 */
export function mapUnary(a: NDArray | number, f: (x: number) => number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f(src[i]);
  return new NDArray(out, input.shape);
}

/**
 * Runs a broadcast binary operation by calling `kernel` once per contiguous output run (not per element).
 * Fast paths: equal sizes, or one side of size 1, give a single run. `op` names the operation in errors.
 * @example
 * const addRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
 *   for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] + y[j];
 * };
 * binaryBroadcast(array([1, 2]), array([[10], [20]]), addRun, "add").toArray(); // [[11, 12], [21, 22]]
 */
export function binaryBroadcast(
  a: NDArray | number,
  b: NDArray | number,
  kernel: BinaryRunKernel,
  op: string,
): NDArray {
  const x = asNDArray(a);
  const y = asNDArray(b);
  const shape = shapesEqual(x.shape, y.shape) ? x.shape : broadcastShapesFor(op, [x.shape, y.shape]);
  const size = shapeSize(shape);
  const out = new Float64Array(size);
  const xSize = x.size;
  const ySize = y.size;
  if ((xSize === size || xSize === 1) && (ySize === size || ySize === 1)) {
    if (size > 0) kernel(out, 0, x.data, 0, xSize === size ? 1 : 0, y.data, 0, ySize === size ? 1 : 0, size);
    return new NDArray(out, shape);
  }
  const xData = x.data;
  const yData = y.data;
  let position = 0;
  forEachRun(
    shape,
    [broadcastStrides(x.shape, shape), broadcastStrides(y.shape, shape)],
    null,
    (offsets, length, steps) => {
      kernel(out, position, xData, offsets[0], steps[0], yData, offsets[1], steps[1], length);
      position += length;
    },
  );
  return new NDArray(out, shape);
}

/**
 * Applies `f` elementwise with NumPy broadcasting. For hot paths prefer the dedicated kernels in `elementwise.ts`.
 * @example
 * mapBinary(array([1, 2]), 10, (x, y) => x * y).toArray(); // [10, 20]
 */
export function mapBinary(
  a: NDArray | number,
  b: NDArray | number,
  f: (x: number, y: number) => number,
): NDArray {
  return binaryBroadcast(
    a,
    b,
    (out, o, x, i, si, y, j, sj, n) => {
      for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = f(x[i], y[j]);
    },
    "mapBinary",
  );
}
