/** @file Reductions over axes (sum, prod, max, min, mean, norm), arg-extrema, extremum masks and cumsum. */

import { invalidArgument } from "../../errors.js";
import {
  type Axis,
  emptyArray,
  formatShape,
  NDArray,
  normalizeAxes,
  normalizeAxis,
} from "../../values/ndarray.js";
import { binaryBroadcast, sumPatternInto } from "./broadcast.js";
import { broadcastPattern, broadcastStrides, forEachRun, splitAtAxis } from "./strided.js";

type ReduceKind = "sum" | "prod" | "max" | "min" | "sumOfSquares";

interface ReductionLayout {
  /** Shape with reduced axes set to 1. */
  keepShape: number[];
  /** Result shape (keepShape, or the non-reduced axes only). */
  outShape: number[];
  /** Number of input elements folded into each output element. */
  reducedCount: number;
  /** Whether each axis is reduced. */
  reduced: Uint8Array;
}

function reductionLayout(
  shape: readonly number[],
  axis: Axis,
  keepdims: boolean,
  op: string,
): ReductionLayout {
  const axes = normalizeAxes(axis, shape.length, op);
  const reduced = new Uint8Array(shape.length);
  for (const axisIndex of axes) reduced[axisIndex] = 1;
  const keepShape: number[] = [];
  const outShape: number[] = [];
  let reducedCount = 1;
  for (let i = 0; i < shape.length; i++) {
    if (reduced[i]) {
      keepShape.push(1);
      if (keepdims) outShape.push(1);
      reducedCount *= shape[i];
    } else {
      keepShape.push(shape[i]);
      outShape.push(shape[i]);
    }
  }
  return { keepShape, outShape, reducedCount, reduced };
}

function foldAll(src: Float64Array, kind: ReduceKind): number {
  const n = src.length;
  switch (kind) {
    case "sum": {
      let total = 0;
      for (let i = 0; i < n; i++) total += src[i];
      return total;
    }
    case "prod": {
      let total = 1;
      for (let i = 0; i < n; i++) total *= src[i];
      return total;
    }
    case "max": {
      let best = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (v > best || Number.isNaN(v)) best = v;
        if (Number.isNaN(best)) break;
      }
      return best;
    }
    case "min": {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (v < best || Number.isNaN(v)) best = v;
        if (Number.isNaN(best)) break;
      }
      return best;
    }
    case "sumOfSquares": {
      let total = 0;
      for (let i = 0; i < n; i++) total += src[i] * src[i];
      return total;
    }
  }
}

function identityOf(kind: ReduceKind): number {
  switch (kind) {
    case "prod":
      return 1;
    case "max":
      return Number.NEGATIVE_INFINITY;
    case "min":
      return Number.POSITIVE_INFINITY;
    default:
      return 0;
  }
}

function reduceInto(out: Float64Array, a: NDArray, outStrides: number[], kind: ReduceKind): void {
  const src = a.data;
  let position = 0;
  switch (kind) {
    case "sum":
    case "sumOfSquares": {
      const squares = kind === "sumOfSquares";
      forEachRun(a.shape, [outStrides], null, (offsets, length, steps) => {
        let o = offsets[0];
        const step = steps[0];
        if (step === 0) {
          let total = 0;
          if (squares) {
            for (let t = 0; t < length; t++, position++) total += src[position] * src[position];
          } else {
            for (let t = 0; t < length; t++) total += src[position++];
          }
          out[o] += total;
        } else if (squares) {
          for (let t = 0; t < length; t++, o += step, position++) out[o] += src[position] * src[position];
        } else {
          for (let t = 0; t < length; t++, o += step) out[o] += src[position++];
        }
      });
      return;
    }
    case "prod": {
      forEachRun(a.shape, [outStrides], null, (offsets, length, steps) => {
        let o = offsets[0];
        const step = steps[0];
        if (step === 0) {
          let total = 1;
          for (let t = 0; t < length; t++) total *= src[position++];
          out[o] *= total;
        } else {
          for (let t = 0; t < length; t++, o += step) out[o] *= src[position++];
        }
      });
      return;
    }
    case "max": {
      forEachRun(a.shape, [outStrides], null, (offsets, length, steps) => {
        let o = offsets[0];
        const step = steps[0];
        for (let t = 0; t < length; t++, o += step) {
          const v = src[position++];
          if (v > out[o] || Number.isNaN(v)) out[o] = v;
        }
      });
      return;
    }
    case "min": {
      forEachRun(a.shape, [outStrides], null, (offsets, length, steps) => {
        let o = offsets[0];
        const step = steps[0];
        for (let t = 0; t < length; t++, o += step) {
          const v = src[position++];
          if (v < out[o] || Number.isNaN(v)) out[o] = v;
        }
      });
      return;
    }
  }
}

function reduce(a: NDArray, axis: Axis, keepdims: boolean, kind: ReduceKind, op: string): NDArray {
  const layout = reductionLayout(a.shape, axis, keepdims, op);
  if ((kind === "max" || kind === "min") && layout.reducedCount === 0) {
    throw invalidArgument(
      `${op}: zero-size reduction (array of shape ${formatShape(a.shape)}) has no identity`,
    );
  }
  const outSize = a.size / (layout.reducedCount || 1);
  if (layout.reducedCount === 0) {
    let size = 1;
    for (const n of layout.outShape) size *= n;
    return new NDArray(new Float64Array(size).fill(identityOf(kind)), layout.outShape);
  }
  if (outSize === 1) return new NDArray(new Float64Array([foldAll(a.data, kind)]), layout.outShape);
  if (layout.reducedCount === 1) {
    // uninitialised (values/ndarray.ts): every entry is written
    const copy = emptyArray(outSize);
    const src = a.data;
    if (kind === "sumOfSquares") for (let i = 0; i < src.length; i++) copy[i] = src[i] * src[i];
    else copy.set(src);
    return new NDArray(copy, layout.outShape);
  }
  if (kind === "sum") {
    const pattern = broadcastPattern(layout.keepShape, a.shape);
    if (pattern !== null) {
      // uninitialised (values/ndarray.ts): sumPatternInto writes every entry
      const sums = emptyArray(outSize);
      sumPatternInto(sums, a.data, pattern);
      return new NDArray(sums, layout.outShape);
    }
  }
  const out = new Float64Array(outSize);
  const identity = identityOf(kind);
  if (identity !== 0) out.fill(identity);
  reduceInto(out, a, broadcastStrides(layout.keepShape, a.shape), kind);
  return new NDArray(out, layout.outShape);
}

/**
 * Sum over `axis` (all axes when undefined; negative axes allowed; `[]` reduces nothing).
 * @example
 * sum(array([[1, 2], [3, 4]]), 0).toArray(); // [4, 6]
 * sum(array([[1, 2], [3, 4]])).item(); // 10
 */
export function sum(a: NDArray, axis?: Axis, keepdims = false): NDArray {
  return reduce(a, axis, keepdims, "sum", "sum");
}

/**
 * Product over `axis` (all axes when undefined).
 * @example
 * prod(array([[1, 2], [3, 4]]), 1).toArray(); // [2, 12]
 */
export function prod(a: NDArray, axis?: Axis, keepdims = false): NDArray {
  return reduce(a, axis, keepdims, "prod", "prod");
}

/**
 * Maximum over `axis` (all axes when undefined); NaN propagates; empty reductions throw.
 * @example
 * max(array([[1, 5], [3, 4]]), 0).toArray(); // [3, 5]
 */
export function max(a: NDArray, axis?: Axis, keepdims = false): NDArray {
  return reduce(a, axis, keepdims, "max", "max");
}

/**
 * Minimum over `axis` (all axes when undefined); NaN propagates; empty reductions throw.
 * @example
 * min(array([[1, 5], [3, 4]]), 1).toArray(); // [1, 3]
 */
export function min(a: NDArray, axis?: Axis, keepdims = false): NDArray {
  return reduce(a, axis, keepdims, "min", "min");
}

/**
 * Arithmetic mean over `axis` (all axes when undefined); an empty reduction gives NaN.
 * @example
 * mean(array([[1, 2], [3, 4]]), 1).toArray(); // [1.5, 3.5]
 */
export function mean(a: NDArray, axis?: Axis, keepdims = false): NDArray {
  const layout = reductionLayout(a.shape, axis, keepdims, "mean");
  const total = reduce(a, axis, keepdims, "sum", "mean");
  const data = total.data;
  const count = layout.reducedCount;
  // `total` always owns a fresh buffer, so it can be scaled in place.
  for (let i = 0; i < data.length; i++) data[i] = count === 0 ? Number.NaN : data[i] / count;
  return total;
}

/**
 * 2-norm of vectors along `axis`; with axis undefined (or two axes) the Frobenius norm, i.e. `sqrt(sum(a**2, axis))`.
 * @example
 * norm(array([3, 4])).item(); // 5
 * norm(array([[3, 4], [6, 8]]), 1).toArray(); // [5, 10]
 */
export function norm(a: NDArray, axis?: Axis, keepdims = false): NDArray {
  const squares = reduce(a, axis, keepdims, "sumOfSquares", "norm");
  const data = squares.data;
  for (let i = 0; i < data.length; i++) data[i] = Math.sqrt(data[i]);
  return squares;
}

function argExtremum(
  a: NDArray,
  axis: number | undefined,
  keepdims: boolean,
  isMax: boolean,
  op: string,
): NDArray {
  const src = a.data;
  if (axis === undefined) {
    if (src.length === 0) throw invalidArgument(`${op}: attempt to get ${op} of an empty sequence`);
    let bestIndex = 0;
    let best = src[0];
    for (let i = 1; i < src.length && !Number.isNaN(best); i++) {
      const v = src[i];
      if ((isMax ? v > best : v < best) || Number.isNaN(v)) {
        best = v;
        bestIndex = i;
      }
    }
    const shape = keepdims ? a.shape.map(() => 1) : [];
    return new NDArray(new Float64Array([bestIndex]), shape);
  }
  const axisIndex = normalizeAxis(axis, a.ndim, op);
  const [outer, length, inner] = splitAtAxis(a.shape, axisIndex);
  if (length === 0)
    throw invalidArgument(`${op}: attempt to get ${op} of an empty sequence along axis ${axis}`);
  const outShape = a.shape.slice();
  if (keepdims) outShape[axisIndex] = 1;
  else outShape.splice(axisIndex, 1);
  const out = new Float64Array(outer * inner);
  const best = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * length * inner;
    const outBase = o * inner;
    for (let i = 0; i < inner; i++) best[i] = src[base + i];
    for (let k = 1; k < length; k++) {
      const row = base + k * inner;
      for (let i = 0; i < inner; i++) {
        const v = src[row + i];
        const current = best[i];
        if (!Number.isNaN(current) && ((isMax ? v > current : v < current) || Number.isNaN(v))) {
          best[i] = v;
          out[outBase + i] = k;
        }
      }
    }
  }
  return new NDArray(out, outShape);
}

/**
 * Index of the first maximum along `axis` (of the flattened array when undefined), as float64 integers.
 * A NaN counts as the maximum (first NaN wins), like NumPy.
 * @example
 * argmax(array([[1, 5], [7, 4]]), 1).toArray(); // [1, 0]
 */
export function argmax(a: NDArray, axis?: number, keepdims = false): NDArray {
  return argExtremum(a, axis, keepdims, true, "argmax");
}

/**
 * Index of the first minimum along `axis` (of the flattened array when undefined), as float64 integers.
 * @example
 * argmin(array([[1, 5], [7, 4]]), 1).toArray(); // [0, 1]
 */
export function argmin(a: NDArray, axis?: number, keepdims = false): NDArray {
  return argExtremum(a, axis, keepdims, false, "argmin");
}

function extremumMask(a: NDArray, axis: Axis, isMax: boolean, op: string): NDArray {
  const extremum = reduce(a, axis, true, isMax ? "max" : "min", op);
  const hits = binaryBroadcast(
    a,
    extremum,
    (out, o, x, i, si, y, j, sj, n) => {
      for (let t = 0; t < n; t++, i += si, j += sj) {
        const v = x[i];
        const m = y[j];
        out[o + t] = v === m || (Number.isNaN(v) && Number.isNaN(m)) ? 1 : 0;
      }
    },
    op,
  );
  const counts = reduce(hits, axis, true, "sum", op);
  const weights = hits.data;
  const countData = counts.data;
  if (countData.length === 1) {
    const inverse = 1 / countData[0];
    for (let i = 0; i < weights.length; i++) weights[i] *= inverse;
    return hits;
  }
  let position = 0;
  forEachRun(a.shape, [broadcastStrides(counts.shape, a.shape)], null, (offsets, length, steps) => {
    let c = offsets[0];
    const step = steps[0];
    for (let t = 0; t < length; t++, c += step, position++) weights[position] /= countData[c];
  });
  return hits;
}

/**
 * Weights locating the maximum of each reduced slice: an array shaped like `a` holding `1/k` at each of the
 * `k` elements equal to that slice's maximum (ties split evenly) and 0 elsewhere, so each slice's weights sum
 * to 1. This is the derivative selector for `max`: `dmax = sum(maxMask(a, axis) * da, axis)`.
 * @example
 * maxMask(array([1, 3, 3])).toArray(); // [0, 0.5, 0.5]
 */
export function maxMask(a: NDArray, axis?: Axis): NDArray {
  return extremumMask(a, axis, true, "maxMask");
}

/**
 * Like {@link maxMask} for the minimum: `1/k` at each of the `k` minimal elements of every reduced slice.
 * @example
 * minMask(array([[1, 1], [0, 2]]), 1).toArray(); // [[0.5, 0.5], [1, 0]]
 */
export function minMask(a: NDArray, axis?: Axis): NDArray {
  return extremumMask(a, axis, false, "minMask");
}

/**
 * Cumulative sum along `axis`; when `axis` is undefined the array is flattened first (result is 1-D), like NumPy.
 * @example
 * cumsum(array([[1, 2], [3, 4]]), 1).toArray(); // [[1, 3], [3, 7]]
 * cumsum(array([[1, 2], [3, 4]])).toArray(); // [1, 3, 6, 10]
 */
export function cumsum(a: NDArray, axis?: number): NDArray {
  const src = a.data;
  const out = new Float64Array(src.length);
  if (axis === undefined) {
    let total = 0;
    for (let i = 0; i < src.length; i++) {
      total += src[i];
      out[i] = total;
    }
    return new NDArray(out, [src.length]);
  }
  const axisIndex = normalizeAxis(axis, a.ndim, "cumsum");
  const [outer, length, inner] = splitAtAxis(a.shape, axisIndex);
  for (let o = 0; o < outer; o++) {
    const base = o * length * inner;
    for (let i = 0; i < inner; i++) out[base + i] = src[base + i];
    for (let k = 1; k < length; k++) {
      const row = base + k * inner;
      const previous = row - inner;
      for (let i = 0; i < inner; i++) out[row + i] = out[previous + i] + src[row + i];
    }
  }
  return new NDArray(out, a.shape);
}
