/** @file Shape and indexing kernels: reshape, transpose, concatenate, take, slicing, diagonals, where, clip, and their scatter adjoints. */

import { invalidArgument } from "../../errors.js";
import {
  type Axis,
  asNDArray,
  contiguousStrides,
  formatShape,
  NDArray,
  normalizeAxes,
  normalizeAxis,
  shapeSize,
  shapesEqual,
  validateShape,
} from "../../values/ndarray.js";
import { broadcastShapesFor, broadcastTo } from "./broadcast.js";
import { broadcastStrides, forEachRun, splitAtAxis } from "./strided.js";

/** One axis of a slice: `start` (inclusive), `stop` (exclusive), `step` (non-zero), all optional, Python/NumPy semantics. */
export interface SliceRange {
  readonly start?: number;
  readonly stop?: number;
  readonly step?: number;
}

/** A per-axis slice entry: an integer index (drops the axis) or a {@link SliceRange}. */
export type SliceEntry = number | SliceRange;

/** A slice specification: one entry per leading axis; missing trailing entries mean "the whole axis". */
export type SliceSpec = readonly SliceEntry[];

/** Integer indices for {@link take}: a single index (drops the axis), a list, an Int32Array, or an NDArray of integers (its shape is kept). */
export type TakeIndices = number | readonly number[] | Int32Array | NDArray;

/** A strided view description: element `idx` of a `shape` array lives at `offset + sum(idx[d] * strides[d])` in the source buffer. */
export interface StridedLayout {
  readonly offset: number;
  readonly shape: number[];
  readonly strides: number[];
}

/** Copies the strided view `layout` of `src` into a new contiguous buffer. */
function gather(src: Float64Array, layout: StridedLayout): Float64Array {
  const out = new Float64Array(shapeSize(layout.shape));
  if (out.length === 0) return out;
  let position = 0;
  forEachRun(layout.shape, [layout.strides], [layout.offset], (offsets, length, steps) => {
    let i = offsets[0];
    const step = steps[0];
    if (step === 1) {
      for (let t = 0; t < length; t++) out[position++] = src[i++];
    } else {
      for (let t = 0; t < length; t++, i += step) out[position++] = src[i];
    }
  });
  return out;
}

/** Writes the contiguous `values` into `out` at the strided view `layout` (views never alias themselves). */
function scatter(out: Float64Array, layout: StridedLayout, values: Float64Array): void {
  let position = 0;
  forEachRun(layout.shape, [layout.strides], [layout.offset], (offsets, length, steps) => {
    let o = offsets[0];
    const step = steps[0];
    for (let t = 0; t < length; t++, o += step) out[o] = values[position++];
  });
}

/** True when a strided view is laid out exactly like a contiguous array of its shape. */
function isContiguousLayout(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 1) continue;
    if (strides[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/** A view of `a` through `layout`, sharing the buffer when the view is contiguous. */
function materialise(a: NDArray, layout: StridedLayout): NDArray {
  const size = shapeSize(layout.shape);
  if (size === 0) return new NDArray(new Float64Array(0), layout.shape);
  if (isContiguousLayout(layout.shape, layout.strides)) {
    const data = size === a.size ? a.data : a.data.subarray(layout.offset, layout.offset + size);
    return new NDArray(data, layout.shape);
  }
  return new NDArray(gather(a.data, layout), layout.shape);
}

/**
 * Same data, new shape (no copy). At most one entry may be -1 (inferred).
 * @example
 * reshape(arange(6), [2, -1]).shape; // [2, 3]
 */
export function reshape(a: NDArray, shape: readonly number[]): NDArray {
  let unknown = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const n = shape[i];
    if (n === -1) {
      if (unknown >= 0)
        throw invalidArgument(`reshape: can only specify one unknown dimension, got ${formatShape(shape)}`);
      unknown = i;
    } else {
      if (!Number.isInteger(n) || n < 0)
        throw invalidArgument(`reshape: invalid shape ${formatShape(shape)}`);
      known *= n;
    }
  }
  let target: readonly number[] = shape;
  if (unknown >= 0) {
    if (known === 0 || a.size % known !== 0) {
      throw invalidArgument(
        `reshape: cannot reshape array of size ${a.size} into shape ${formatShape(shape)}`,
      );
    }
    const resolved = shape.slice();
    resolved[unknown] = a.size / known;
    target = resolved;
  } else if (known !== a.size) {
    throw invalidArgument(`reshape: cannot reshape array of size ${a.size} into shape ${formatShape(shape)}`);
  }
  return new NDArray(a.data, target);
}

/**
 * The flattened 1-D array (no copy).
 * @example
 * ravel(array([[1, 2], [3, 4]])).toArray(); // [1, 2, 3, 4]
 */
export function ravel(a: NDArray): NDArray {
  return new NDArray(a.data, [a.size]);
}

function checkPermutation(axes: readonly number[], ndim: number, op: string): number[] {
  if (axes.length !== ndim) {
    throw invalidArgument(`${op}: axes ${JSON.stringify(axes)} do not match array of dimension ${ndim}`);
  }
  const seen = new Uint8Array(ndim);
  const perm = new Array<number>(ndim);
  for (let i = 0; i < ndim; i++) {
    const axisIndex = normalizeAxis(axes[i], ndim, op);
    if (seen[axisIndex]) throw invalidArgument(`${op}: repeated axis in ${JSON.stringify(axes)}`);
    seen[axisIndex] = 1;
    perm[i] = axisIndex;
  }
  return perm;
}

/**
 * Permutes the axes (reverses them when `axes` is omitted). Result axis `i` is input axis `axes[i]`.
 * No copy when only size-1 axes move.
 * @example
 * transpose(zeros([2, 3, 4]), [1, 0, 2]).shape; // [3, 2, 4]
 */
export function transpose(a: NDArray, axes?: readonly number[]): NDArray {
  const ndim = a.ndim;
  const perm =
    axes === undefined ? a.shape.map((_, i) => ndim - 1 - i) : checkPermutation(axes, ndim, "transpose");
  const shape = perm.map((p) => a.shape[p]);
  let previous = -1;
  let ordered = true;
  for (const p of perm) {
    if (a.shape[p] === 1) continue;
    if (p < previous) {
      ordered = false;
      break;
    }
    previous = p;
  }
  if (ordered) return new NDArray(a.data, shape);
  const inStrides = a.strides;
  return new NDArray(gather(a.data, { offset: 0, shape, strides: perm.map((p) => inStrides[p]) }), shape);
}

/**
 * Swaps two axes.
 * @example
 * swapaxes(zeros([2, 3, 4]), 0, 2).shape; // [4, 3, 2]
 */
export function swapaxes(a: NDArray, axis1: number, axis2: number): NDArray {
  const i = normalizeAxis(axis1, a.ndim, "swapaxes");
  const j = normalizeAxis(axis2, a.ndim, "swapaxes");
  const perm = a.shape.map((_, k) => k);
  perm[i] = j;
  perm[j] = i;
  return transpose(a, perm);
}

/**
 * Swaps the last two axes (batched matrix transpose; needs ndim >= 2).
 * @example
 * matrixTranspose(zeros([5, 2, 3])).shape; // [5, 3, 2]
 */
export function matrixTranspose(a: NDArray): NDArray {
  if (a.ndim < 2)
    throw invalidArgument(`matrixTranspose: needs at least 2 dimensions, got shape ${formatShape(a.shape)}`);
  return swapaxes(a, -1, -2);
}

/**
 * Moves axes to new positions, keeping the others in order (NumPy `moveaxis`).
 * @example
 * moveaxis(zeros([2, 3, 4]), 0, -1).shape; // [3, 4, 2]
 */
export function moveaxis(
  a: NDArray,
  source: number | readonly number[],
  destination: number | readonly number[],
): NDArray {
  const sources = normalizeAxisList(source, a.ndim, "moveaxis");
  const destinations = normalizeAxisList(destination, a.ndim, "moveaxis");
  if (sources.length !== destinations.length) {
    throw invalidArgument("moveaxis: source and destination must have the same number of elements");
  }
  const order: number[] = [];
  for (let i = 0; i < a.ndim; i++) if (!sources.includes(i)) order.push(i);
  const pairs = destinations.map((d, k) => [d, sources[k]] as const).sort((x, y) => x[0] - y[0]);
  for (const [d, s] of pairs) order.splice(d, 0, s);
  return transpose(a, order);
}

function normalizeAxisList(axis: number | readonly number[], ndim: number, op: string): number[] {
  const list = typeof axis === "number" ? [axis] : axis;
  const result = list.map((axisIndex) => normalizeAxis(axisIndex, ndim, op));
  if (new Set(result).size !== result.length)
    throw invalidArgument(`${op}: repeated axis in ${JSON.stringify(list)}`);
  return result;
}

/**
 * Inserts size-1 axes at the given positions of the result (no copy).
 * @example
 * expandDims(zeros([2, 3]), 1).shape; // [2, 1, 3]
 * expandDims(zeros([2]), [0, -1]).shape; // [1, 2, 1]
 */
export function expandDims(a: NDArray, axis: number | readonly number[]): NDArray {
  const count = typeof axis === "number" ? 1 : axis.length;
  const ndim = a.ndim + count;
  const positions = normalizeAxisList(axis, ndim, "expandDims");
  const inserted = new Uint8Array(ndim);
  for (const p of positions) inserted[p] = 1;
  const shape: number[] = [];
  let source = 0;
  for (let i = 0; i < ndim; i++) shape.push(inserted[i] ? 1 : a.shape[source++]);
  return new NDArray(a.data, shape);
}

/**
 * Removes size-1 axes (all of them when `axis` is undefined; named axes must have size 1). No copy.
 * @example
 * squeeze(zeros([1, 2, 1])).shape; // [2]
 */
export function squeeze(a: NDArray, axis?: Axis): NDArray {
  let drop: Uint8Array;
  if (axis === undefined) {
    drop = Uint8Array.from(a.shape, (n) => (n === 1 ? 1 : 0));
  } else {
    drop = new Uint8Array(a.ndim);
    for (const axisIndex of normalizeAxes(axis, a.ndim, "squeeze")) {
      if (a.shape[axisIndex] !== 1) {
        throw invalidArgument(
          `squeeze: cannot select axis ${axisIndex} with size ${a.shape[axisIndex]} (not 1) of shape ${formatShape(a.shape)}`,
        );
      }
      drop[axisIndex] = 1;
    }
  }
  const shape = a.shape.filter((_, i) => !drop[i]);
  return new NDArray(a.data, shape);
}

/**
 * Joins arrays of equal rank along an existing axis; all other axes must match.
 * @example
 * concatenate([array([[1, 2]]), array([[3, 4]])], 0).toArray(); // [[1, 2], [3, 4]]
 */
export function concatenate(arrays: readonly NDArray[], axis = 0): NDArray {
  if (arrays.length === 0) throw invalidArgument("concatenate: need at least one array");
  const first = arrays[0];
  if (first.ndim === 0) throw invalidArgument("concatenate: zero-dimensional arrays cannot be concatenated");
  const axisIndex = normalizeAxis(axis, first.ndim, "concatenate");
  const shape = first.shape.slice();
  let total = 0;
  for (const a of arrays) {
    let ok = a.ndim === first.ndim;
    for (let i = 0; ok && i < a.ndim; i++) if (i !== axisIndex && a.shape[i] !== first.shape[i]) ok = false;
    if (!ok) {
      throw invalidArgument(
        `concatenate: all shapes must match except along axis ${axisIndex}; got ${arrays.map((x) => formatShape(x.shape)).join(", ")}`,
      );
    }
    total += a.shape[axisIndex];
  }
  shape[axisIndex] = total;
  const [outer, , inner] = splitAtAxis(shape, axisIndex);
  const out = new Float64Array(outer * total * inner);
  const outChunk = total * inner;
  let start = 0;
  for (const a of arrays) {
    const chunk = a.shape[axisIndex] * inner;
    const src = a.data;
    if (chunk >= 64) {
      for (let o = 0; o < outer; o++) out.set(src.subarray(o * chunk, (o + 1) * chunk), o * outChunk + start);
    } else {
      for (let o = 0; o < outer; o++) {
        const from = o * chunk;
        const to = o * outChunk + start;
        for (let i = 0; i < chunk; i++) out[to + i] = src[from + i];
      }
    }
    start += chunk;
  }
  return new NDArray(out, shape);
}

/**
 * Joins arrays of identical shape along a new axis.
 * @example
 * stack([array([1, 2]), array([3, 4])], 1).toArray(); // [[1, 3], [2, 4]]
 */
export function stack(arrays: readonly NDArray[], axis = 0): NDArray {
  if (arrays.length === 0) throw invalidArgument("stack: need at least one array");
  const shape = arrays[0].shape;
  for (const a of arrays) {
    if (!shapesEqual(a.shape, shape)) {
      throw invalidArgument(
        `stack: all input arrays must have the same shape; got ${arrays.map((x) => formatShape(x.shape)).join(", ")}`,
      );
    }
  }
  const axisIndex = normalizeAxis(axis, shape.length + 1, "stack");
  return concatenate(
    arrays.map((a) => expandDims(a, axisIndex)),
    axisIndex,
  );
}

/**
 * Splits along `axis` into `sections` equal parts (must divide evenly) or at the given split indices (NumPy `split`).
 * @example
 * split(arange(6), 3).map((p) => p.toArray()); // [[0, 1], [2, 3], [4, 5]]
 * split(arange(5), [2]).map((p) => p.toArray()); // [[0, 1], [2, 3, 4]]
 */
export function split(a: NDArray, sections: number | readonly number[], axis = 0): NDArray[] {
  if (a.ndim === 0) throw invalidArgument("split: cannot split a 0-d array");
  const axisIndex = normalizeAxis(axis, a.ndim, "split");
  const length = a.shape[axisIndex];
  let bounds: number[];
  if (typeof sections === "number") {
    if (!Number.isInteger(sections) || sections <= 0 || length % sections !== 0) {
      throw invalidArgument(
        `split: array of length ${length} along axis ${axisIndex} does not split into ${sections} equal sections`,
      );
    }
    const part = length / sections;
    bounds = Array.from({ length: sections - 1 }, (_, i) => (i + 1) * part);
  } else {
    bounds = sections.slice();
  }
  const spec: SliceEntry[] = new Array<SliceEntry>(axisIndex).fill({});
  const result: NDArray[] = [];
  let start = 0;
  for (let k = 0; k <= bounds.length; k++) {
    const stop = k < bounds.length ? bounds[k] : length;
    spec[axisIndex] = { start, stop };
    result.push(sliceArray(a, spec));
    start = stop;
  }
  return result;
}

/**
 * Reverses the order of elements along the given axes (all axes when undefined).
 * @example
 * flip(array([[1, 2], [3, 4]]), 1).toArray(); // [[2, 1], [4, 3]]
 */
export function flip(a: NDArray, axis?: Axis): NDArray {
  const axes = normalizeAxes(axis, a.ndim, "flip");
  const spec: SliceEntry[] = new Array<SliceEntry>(a.ndim).fill({});
  for (const axisIndex of axes) spec[axisIndex] = { step: -1 };
  return sliceArray(a, spec);
}

function normalizeSliceBound(
  value: number | undefined,
  length: number,
  step: number,
  isStart: boolean,
): number {
  const lower = step > 0 ? 0 : -1;
  const upper = step > 0 ? length : length - 1;
  if (value === undefined || value === null) return isStart === step > 0 ? lower : upper;
  if (Number.isNaN(value) || (!Number.isInteger(value) && Number.isFinite(value))) {
    throw invalidArgument(`sliceArray: slice bounds must be integers, got ${value}`);
  }
  let v = value;
  if (v < 0) {
    v += length;
    if (v < lower) v = lower;
  } else if (v > upper) {
    v = upper;
  }
  return v;
}

/**
 * Resolves a {@link SliceSpec} against `shape` (Python slice semantics, negative indices and steps) into the
 * strided layout of the result relative to a contiguous array of that shape.
 * @example
 * sliceLayout([4, 5], [1, { step: -2 }]); // { offset: 9, shape: [3], strides: [-2] }
 */
export function sliceLayout(shape: readonly number[], spec: SliceSpec, op = "sliceArray"): StridedLayout {
  if (spec.length > shape.length) {
    throw invalidArgument(
      `${op}: too many indices (${spec.length}) for array of shape ${formatShape(shape)}`,
    );
  }
  const strides = contiguousStrides(shape);
  let offset = 0;
  const outShape: number[] = [];
  const outStrides: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    const entry: SliceEntry = d < spec.length ? spec[d] : {};
    if (typeof entry === "number") {
      if (!Number.isInteger(entry) || entry < -n || entry >= n) {
        throw invalidArgument(`${op}: index ${entry} is out of bounds for axis ${d} with size ${n}`);
      }
      offset += (entry < 0 ? entry + n : entry) * strides[d];
      continue;
    }
    if (entry === null || typeof entry !== "object") {
      throw invalidArgument(`${op}: slice entry for axis ${d} must be an integer or {start, stop, step}`);
    }
    const step = entry.step ?? 1;
    if (!Number.isInteger(step) || step === 0)
      throw invalidArgument(`${op}: slice step must be a non-zero integer, got ${step}`);
    const start = normalizeSliceBound(entry.start, n, step, true);
    const stop = normalizeSliceBound(entry.stop, n, step, false);
    let length = 0;
    if (step > 0 && start < stop) length = Math.ceil((stop - start) / step);
    else if (step < 0 && start > stop) length = Math.ceil((start - stop) / -step);
    if (length > 0) offset += start * strides[d];
    outShape.push(length);
    outStrides.push(step * strides[d]);
  }
  return { offset, shape: outShape, strides: outStrides };
}

/**
 * Basic slicing `a[spec]` with NumPy semantics: an integer entry selects one index and drops the axis; a
 * `{start, stop, step}` entry keeps it (negative indices and steps allowed). Contiguous results share the buffer.
 * @example
 * sliceArray(arange(10), [{ start: 8, stop: 2, step: -3 }]).toArray(); // [8, 5]
 * sliceArray(array([[1, 2], [3, 4]]), [{}, 1]).toArray(); // [2, 4]
 */
export function sliceArray(a: NDArray, spec: SliceSpec): NDArray {
  return materialise(a, sliceLayout(a.shape, spec));
}

/**
 * The adjoint of {@link sliceArray}: zeros of `shape` with `values` (shape of the slice result, or broadcastable
 * to it) written at the sliced positions.
 * @example
 * scatterSlice([4], [{ start: 1, stop: 3 }], array([5, 6])).toArray(); // [0, 5, 6, 0]
 */
export function scatterSlice(shape: readonly number[], spec: SliceSpec, values: NDArray): NDArray {
  validateShape(shape, "scatterSlice");
  const layout = sliceLayout(shape, spec, "scatterSlice");
  const source = broadcastTo(values, layout.shape);
  const out = new Float64Array(shapeSize(shape));
  scatter(out, layout, source.data);
  return new NDArray(out, shape);
}

function diagonalLayout(
  shape: readonly number[],
  offset: number,
  axis1: number,
  axis2: number,
  op: string,
): StridedLayout {
  if (shape.length < 2)
    throw invalidArgument(`${op}: needs at least 2 dimensions, got shape ${formatShape(shape)}`);
  const i = normalizeAxis(axis1, shape.length, op);
  const j = normalizeAxis(axis2, shape.length, op);
  if (i === j) throw invalidArgument(`${op}: axis1 and axis2 cannot be the same (${axis1}, ${axis2})`);
  if (!Number.isInteger(offset)) throw invalidArgument(`${op}: offset must be an integer, got ${offset}`);
  const strides = contiguousStrides(shape);
  const outShape: number[] = [];
  const outStrides: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (d === i || d === j) continue;
    outShape.push(shape[d]);
    outStrides.push(strides[d]);
  }
  const length =
    offset >= 0
      ? Math.max(0, Math.min(shape[i], shape[j] - offset))
      : Math.max(0, Math.min(shape[i] + offset, shape[j]));
  outShape.push(length);
  outStrides.push(strides[i] + strides[j]);
  const start = length === 0 ? 0 : offset >= 0 ? offset * strides[j] : -offset * strides[i];
  return { offset: start, shape: outShape, strides: outStrides };
}

/**
 * The diagonal with the given offset of the 2-D sub-arrays spanned by `axis1`, `axis2` (NumPy `diagonal`):
 * those axes are removed and the diagonal is appended as the last axis.
 * @example
 * diagonal(array([[1, 2], [3, 4]])).toArray(); // [1, 4]
 * diagonal(array([[1, 2], [3, 4]]), 1).toArray(); // [2]
 */
export function diagonal(a: NDArray, offset = 0, axis1 = 0, axis2 = 1): NDArray {
  return materialise(a, diagonalLayout(a.shape, offset, axis1, axis2, "diagonal"));
}

/**
 * The adjoint of {@link diagonal}: zeros of `shape` with `values` written on the selected diagonal.
 * @example
 * scatterDiagonal([2, 2], 0, 0, 1, array([5, 6])).toArray(); // [[5, 0], [0, 6]]
 */
export function scatterDiagonal(
  shape: readonly number[],
  offset: number,
  axis1: number,
  axis2: number,
  values: NDArray,
): NDArray {
  validateShape(shape, "scatterDiagonal");
  const layout = diagonalLayout(shape, offset, axis1, axis2, "scatterDiagonal");
  const source = broadcastTo(values, layout.shape);
  const out = new Float64Array(shapeSize(shape));
  scatter(out, layout, source.data);
  return new NDArray(out, shape);
}

interface ResolvedIndices {
  indices: Int32Array;
  shape: number[];
}

function resolveIndices(indices: TakeIndices, length: number, axis: number, op: string): ResolvedIndices {
  let raw: ArrayLike<number>;
  let shape: number[];
  if (typeof indices === "number") {
    raw = [indices];
    shape = [];
  } else if (indices instanceof NDArray) {
    raw = indices.data;
    shape = indices.shape.slice();
  } else {
    raw = indices;
    shape = [indices.length];
  }
  const resolved = new Int32Array(raw.length);
  for (let k = 0; k < raw.length; k++) {
    const v = raw[k];
    if (!Number.isInteger(v) || v < -length || v >= length) {
      throw invalidArgument(`${op}: index ${v} is out of bounds for axis ${axis} with size ${length}`);
    }
    resolved[k] = v < 0 ? v + length : v;
  }
  return { indices: resolved, shape };
}

function takeLayout(
  shape: readonly number[],
  indices: TakeIndices,
  axis: number | undefined,
  op: string,
): { source: number[]; axis: number; resolved: ResolvedIndices; outShape: number[] } {
  const source = axis === undefined ? [shapeSize(shape)] : shape.slice();
  const axisIndex = axis === undefined ? 0 : normalizeAxis(axis, shape.length, op);
  const resolved = resolveIndices(indices, source[axisIndex], axisIndex, op);
  const outShape = [...source.slice(0, axisIndex), ...resolved.shape, ...source.slice(axisIndex + 1)];
  return { source, axis: axisIndex, resolved, outShape };
}

/**
 * Selects entries along `axis` by integer index (NumPy `take`; the array is flattened when `axis` is undefined).
 * Result shape: `a.shape[:axis] + indices.shape + a.shape[axis+1:]`. Negative indices count from the end.
 * @example
 * take(array([[1, 2], [3, 4]]), [1, 1, 0], 1).toArray(); // [[2, 2, 1], [4, 4, 3]]
 * take(array([[1, 2], [3, 4]]), [3]).toArray(); // [4]
 */
export function take(a: NDArray, indices: TakeIndices, axis?: number): NDArray {
  const layout = takeLayout(a.shape, indices, axis, "take");
  const [outer, length, inner] = splitAtAxis(layout.source, layout.axis);
  const index = layout.resolved.indices;
  const count = index.length;
  const src = a.data;
  const out = new Float64Array(outer * count * inner);
  let position = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * length;
    for (let k = 0; k < count; k++) {
      const from = (base + index[k]) * inner;
      for (let i = 0; i < inner; i++) out[position++] = src[from + i];
    }
  }
  return new NDArray(out, layout.outShape);
}

/**
 * The adjoint of {@link take}: zeros of `shape` into which `values` (shaped like the `take` result) are added
 * at the indexed positions, accumulating duplicates. `axis` undefined means flat indices.
 * @example
 * scatterAddTake([3], [0, 2, 0], undefined, array([1, 2, 3])).toArray(); // [4, 0, 2]
 */
export function scatterAddTake(
  shape: readonly number[],
  indices: TakeIndices,
  axis: number | undefined,
  values: NDArray,
): NDArray {
  validateShape(shape, "scatterAddTake");
  const layout = takeLayout(shape, indices, axis, "scatterAddTake");
  const source = broadcastTo(values, layout.outShape);
  const [outer, length, inner] = splitAtAxis(layout.source, layout.axis);
  const index = layout.resolved.indices;
  const count = index.length;
  const src = source.data;
  const out = new Float64Array(shapeSize(shape));
  let position = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * length;
    for (let k = 0; k < count; k++) {
      const to = (base + index[k]) * inner;
      for (let i = 0; i < inner; i++) out[to + i] += src[position++];
    }
  }
  return new NDArray(out, shape);
}

/**
 * Elementwise `cond ? x : y` with broadcasting of all three (a condition is true when non-zero; NaN counts as true, like NumPy).
 * @example
 * where(array([1, 0]), array([1, 2]), -1).toArray(); // [1, -1]
 */
export function where(cond: NDArray | number, x: NDArray | number, y: NDArray | number): NDArray {
  const c = asNDArray(cond);
  const xs = asNDArray(x);
  const ys = asNDArray(y);
  const shape = broadcastShapesFor("where", [c.shape, xs.shape, ys.shape]);
  const out = new Float64Array(shapeSize(shape));
  const cData = c.data;
  const xData = xs.data;
  const yData = ys.data;
  let position = 0;
  forEachRun(
    shape,
    [broadcastStrides(c.shape, shape), broadcastStrides(xs.shape, shape), broadcastStrides(ys.shape, shape)],
    null,
    (offsets, length, steps) => {
      let i = offsets[0];
      let j = offsets[1];
      let k = offsets[2];
      const si = steps[0];
      const sj = steps[1];
      const sk = steps[2];
      for (let t = 0; t < length; t++, i += si, j += sj, k += sk)
        out[position++] = cData[i] !== 0 ? xData[j] : yData[k];
    },
  );
  return new NDArray(out, shape);
}

/**
 * Limits values to `[lo, hi]` elementwise, i.e. `min(max(a, lo), hi)` with broadcasting (NaN in `a` stays NaN).
 * Use `-Infinity` / `Infinity` for a missing bound.
 * @example
 * clip(array([-2, 0.5, 3]), 0, 1).toArray(); // [0, 0.5, 1]
 */
export function clip(a: NDArray, lo: NDArray | number, hi: NDArray | number): NDArray {
  if (typeof lo === "number" && typeof hi === "number") {
    const src = a.data;
    const out = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = Math.min(Math.max(src[i], lo), hi);
    return new NDArray(out, a.shape);
  }
  const low = asNDArray(lo);
  const high = asNDArray(hi);
  const shape = broadcastShapesFor("clip", [a.shape, low.shape, high.shape]);
  const out = new Float64Array(shapeSize(shape));
  const src = a.data;
  const lowData = low.data;
  const highData = high.data;
  let position = 0;
  forEachRun(
    shape,
    [
      broadcastStrides(a.shape, shape),
      broadcastStrides(low.shape, shape),
      broadcastStrides(high.shape, shape),
    ],
    null,
    (offsets, length, steps) => {
      let i = offsets[0];
      let j = offsets[1];
      let k = offsets[2];
      const si = steps[0];
      const sj = steps[1];
      const sk = steps[2];
      for (let t = 0; t < length; t++, i += si, j += sj, k += sk) {
        out[position++] = Math.min(Math.max(src[i], lowData[j]), highData[k]);
      }
    },
  );
  return new NDArray(out, shape);
}

/**
 * The inverse of an axis permutation: `transpose(transpose(a, axes), inversePermutation(axes))` is `a`.
 * @example
 * inversePermutation([2, 0, 1]); // [1, 2, 0]
 */
export function inversePermutation(axes: readonly number[]): number[] {
  const perm = checkPermutation(axes, axes.length, "inversePermutation");
  const inverse = new Array<number>(perm.length);
  for (let i = 0; i < perm.length; i++) inverse[perm[i]] = i;
  return inverse;
}

function triangle(a: NDArray, k: number, keepLower: boolean, op: string): NDArray {
  if (a.ndim < 2)
    throw invalidArgument(`${op}: needs at least 2 dimensions, got shape ${formatShape(a.shape)}`);
  if (!Number.isInteger(k)) throw invalidArgument(`${op}: diagonal offset k must be an integer, got ${k}`);
  const rows = a.shape[a.ndim - 2];
  const cols = a.shape[a.ndim - 1];
  const src = a.data;
  const out = new Float64Array(src.length);
  const block = rows * cols;
  for (let base = 0; base < src.length; base += block) {
    for (let i = 0; i < rows; i++) {
      const row = base + i * cols;
      // Lower keeps columns j <= i + k; upper keeps j >= i + k.
      const from = keepLower ? 0 : Math.max(0, Math.min(cols, i + k));
      const to = keepLower ? Math.max(0, Math.min(cols, i + k + 1)) : cols;
      for (let j = from; j < to; j++) out[row + j] = src[row + j];
    }
  }
  return new NDArray(out, a.shape);
}

/**
 * Lower triangle of the matrices in the last two axes: entries with `j <= i + k` kept, others zeroed (NumPy `tril`).
 * @example
 * tril(array([[1, 2], [3, 4]])).toArray(); // [[1, 0], [3, 4]]
 */
export function tril(a: NDArray, k = 0): NDArray {
  return triangle(a, k, true, "tril");
}

/**
 * Upper triangle of the matrices in the last two axes: entries with `j >= i + k` kept, others zeroed (NumPy `triu`).
 * @example
 * triu(array([[1, 2], [3, 4]]), 1).toArray(); // [[0, 2], [0, 0]]
 */
export function triu(a: NDArray, k = 0): NDArray {
  return triangle(a, k, false, "triu");
}
