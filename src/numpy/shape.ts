/**
 * @file Shape, indexing and selection operations of `tsadjoint/numpy`: reshape, ravel, transpose, moveaxis,
 * swapaxes, expand_dims, squeeze, concatenate, stack, broadcast_to, take, slice / index, diagonal, flip,
 * where, clip, and the comparisons (greater, ..., not_equal) as plain values without derivatives.
 * Inputs may be numbers, AdjFloats (0-d), NDArrays or nested arrays (constants); results are NDArrays, except
 * `clip`, which is elementwise and keeps scalars scalar. Every result that depends on a recorded value is
 * recorded with all four modes.
 */
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import { mapBroadcast, ZeroDerivativeBlock, type ZeroDerivativeKernel } from "../ops/compare.js";
import { broadcastTo as broadcastToKernel } from "../ops/kernels/broadcast.js";
import {
  equal as equalKernel,
  greaterEqual as greaterEqualKernel,
  greater as greaterKernel,
  lessEqual as lessEqualKernel,
  less as lessKernel,
  notEqual as notEqualKernel,
  sign as signKernel,
} from "../ops/kernels/elementwise.js";
import {
  concatenate as concatenateKernel,
  diagonal as diagonalKernel,
  flip as flipKernel,
  type SliceEntry,
  type SliceSpec,
  sliceArray,
  stack as stackKernel,
  type TakeIndices,
  take as takeKernel,
  transpose as transposeKernel,
  where as whereKernel,
} from "../ops/kernels/shape.js";
import {
  type ArrayOperand,
  broadcastShapeOf,
  broadcastToLinear,
  ClipBlock,
  ConcatenateBlock,
  diagonalLinear,
  expandDimsLinear,
  flipLinear,
  isOptions,
  isOptionsArgument,
  moveaxisLinear,
  permutationOf,
  ravelLinear,
  renamed,
  reshapeLinear,
  resolveAxes,
  resolveAxis,
  StackBlock,
  sliceLinear,
  squeezeLinear,
  swapaxesLinear,
  takeLinear,
  toOverloaded,
  transposeLinear,
  valueArray,
  WhereBlock,
} from "../ops/shape.js";
import { checkedTape, onTape, tapeOnly } from "../ops/tape-option.js";
import { checkOptions } from "../options.js";
import { annotating } from "../tape/annotation.js";
import { record } from "../tape/record.js";
import type { TapeOption } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import {
  array,
  checkArraySize,
  formatShape,
  NDArray,
  type NestedNumberArray,
  shapeSize,
  type TypedNumberArray,
} from "../values/ndarray.js";
import { describeType } from "../values/space.js";

export type { SliceEntry, SliceRange, SliceSpec } from "../ops/kernels/shape.js";

import type { SliceRange } from "../ops/kernels/shape.js";

/** A shape argument: a list of sizes, or one size for a 1-D shape. */
export type ShapeArgument = number | readonly number[];

function shapeList(operation: string, shape: ShapeArgument): number[] {
  const list = typeof shape === "number" ? [shape] : shape;
  if (!Array.isArray(list) || list.some((n) => typeof n !== "number")) {
    throw new InvalidArgumentError(
      `np.${operation}`,
      `shape must be a number or a list of numbers, got ${describeType(shape)}`,
    );
  }
  return list.slice();
}

/** A positional argument that an options object may replace: never a plain object. */
type Positional = number | readonly number[] | null | undefined;

/** An argument read by {@link splitOptions}: the positional value, or the checked options object. */
type Split<T, V> =
  | { readonly value: V; readonly options: undefined }
  | { readonly value: undefined; readonly options: T };

/**
 * Reads an argument that may be an options object: `{ options }` checked (only `keys` and `tape`) when it is
 * one, else `{ value }`, the positional value.
 */
function splitOptions<T extends TapeOption, V extends Positional>(
  operation: string,
  argument: T | V,
  keys: readonly (keyof T & string)[],
): Split<T, V> {
  if (!isOptionsArgument(argument)) return { value: argument, options: undefined };
  const options = checkOptions(`np.${operation}`, argument, [...keys, "tape"]);
  checkedTape(`np.${operation}`, options.tape);
  return { value: undefined, options };
}

/** An axis list argument: a number or a list of numbers. */
function axisList(operation: string, name: string, value: unknown): readonly number[] {
  const list = typeof value === "number" ? [value] : value;
  if (!Array.isArray(list) || !list.every((n): n is number => typeof n === "number")) {
    throw new InvalidArgumentError(
      `np.${operation}`,
      `${name} must be an integer or a list of integers, got ${describeType(value)}`,
    );
  }
  return list;
}

// ---------------------------------------------------------------------------------------------------------
// reshape family
// ---------------------------------------------------------------------------------------------------------

function reshaped(
  operation: "reshape" | "ravel" | "expand_dims" | "squeeze",
  value: AdjFloat | NDArray,
  x: NDArray,
  shape: readonly number[],
): NDArray {
  const result = new NDArray(x.data, shape);
  const linear =
    operation === "ravel"
      ? ravelLinear
      : operation === "expand_dims"
        ? expandDimsLinear
        : operation === "squeeze"
          ? squeezeLinear
          : reshapeLinear;
  return linear.record(value, result, shape);
}

/**
 * The same entries in a new shape (row-major order; no copy). One entry may be -1 (inferred).
 * Linear: the adjoint reshapes back.
 *
 * @example
 * np.reshape(x, [2, -1]);
 * np.reshape(x, 6); // 1-D
 */
export function reshape(a: ArrayOperand, shape: ShapeArgument, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.reshape", options), () => reshapeOn(a, shape));
}

function reshapeOn(a: ArrayOperand, shape: ShapeArgument): NDArray {
  const value = toOverloaded("reshape", a);
  const x = valueArray(value);
  const target = shapeList("reshape", shape);
  let unknown = -1;
  let known = 1;
  for (let i = 0; i < target.length; i++) {
    const n = target[i];
    if (n === -1 && unknown < 0) unknown = i;
    else if (Number.isInteger(n) && n >= 0) known *= n;
    else {
      throw new ShapeMismatchError(
        "np.reshape",
        [x.shape, target],
        n === -1
          ? "only one size may be -1 (inferred)"
          : `sizes must be non-negative integers or a single -1, got ${n}`,
      );
    }
  }
  if (unknown >= 0) {
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeMismatchError(
        "np.reshape",
        [x.shape, target],
        `cannot infer the -1 size: ${x.size} entries do not divide into blocks of ${known}`,
      );
    }
    target[unknown] = x.size / known;
  } else if (known !== x.size) {
    throw new ShapeMismatchError(
      "np.reshape",
      [x.shape, target],
      `cannot reshape an array of size ${x.size} into shape ${formatShape(target)} (size ${known}); the sizes must be equal (use -1 for one inferred size)`,
    );
  }
  return reshaped("reshape", value, x, target);
}

/**
 * The entries as a 1-D array (row-major; no copy). Linear: the adjoint reshapes back.
 *
 * @example
 * np.ravel(x); // shape [x.size]
 */
export function ravel(a: ArrayOperand, options?: TapeOption): NDArray {
  const value = toOverloaded("ravel", a);
  const x = valueArray(value);
  return onTape(tapeOnly("np.ravel", options), () => reshaped("ravel", value, x, [x.size]));
}

/**
 * Inserts size-1 axes at the given positions of the result (negative positions count from the result's end).
 *
 * @example
 * np.expand_dims(x, 0); // [3] -> [1, 3]
 * np.expand_dims(x, [0, -1]); // [3] -> [1, 3, 1]
 */
export function expand_dims(
  a: ArrayOperand,
  axis: number | readonly number[],
  options?: TapeOption,
): NDArray {
  return onTape(tapeOnly("np.expand_dims", options), () => expandDimsOn(a, axis));
}

function expandDimsOn(a: ArrayOperand, axis: number | readonly number[]): NDArray {
  const value = toOverloaded("expand_dims", a);
  const x = valueArray(value);
  const count = axisList("expand_dims", "axis", axis).length;
  const ndim = x.ndim + count;
  const resultShape = new Array<number>(ndim).fill(1);
  const positions = resolveAxes("expand_dims", axis, resultShape);
  if (positions.length !== count) {
    throw new InvalidArgumentError("np.expand_dims", `repeated axis in ${JSON.stringify(axis)}`);
  }
  const inserted = new Uint8Array(ndim);
  for (const position of positions) inserted[position] = 1;
  let source = 0;
  for (let i = 0; i < ndim; i++) if (!inserted[i]) resultShape[i] = x.shape[source++];
  return reshaped("expand_dims", value, x, resultShape);
}

/** Keyword arguments of `squeeze` and `flip` (NumPy's `axis=`). */
export interface AxisOptions extends TapeOption {
  /** The axis or axes; all (eligible) axes when undefined or null. */
  axis?: number | readonly number[] | null;
}

/**
 * Removes size-1 axes: all of them when `axis` is omitted, else the named ones (which must have size 1).
 *
 * @example
 * np.squeeze(x); // [1, 3, 1] -> [3]
 * np.squeeze(x, 0); // [1, 3, 1] -> [3, 1]
 */
export function squeeze(a: ArrayOperand, axis?: number | readonly number[] | null | AxisOptions): NDArray {
  const { value, options } = splitOptions<AxisOptions, Positional>("squeeze", axis, ["axis"]);
  return onTape(options?.tape, () => squeezeOn(a, options === undefined ? value : options.axis));
}

function squeezeOn(a: ArrayOperand, axisValue: number | readonly number[] | null | undefined): NDArray {
  const value = toOverloaded("squeeze", a);
  const x = valueArray(value);
  const drop = new Uint8Array(x.ndim);
  if (axisValue === undefined || axisValue === null) {
    for (let i = 0; i < x.ndim; i++) drop[i] = x.shape[i] === 1 ? 1 : 0;
  } else {
    for (const index of resolveAxes("squeeze", axisValue, x.shape)) {
      if (x.shape[index] !== 1) {
        throw new InvalidArgumentError(
          "np.squeeze",
          `cannot remove axis ${index} of size ${x.shape[index]} from an array of shape ${formatShape(x.shape)}; only size-1 axes can be squeezed`,
        );
      }
      drop[index] = 1;
    }
  }
  return reshaped(
    "squeeze",
    value,
    x,
    x.shape.filter((_, i) => !drop[i]),
  );
}

// ---------------------------------------------------------------------------------------------------------
// axis permutations
// ---------------------------------------------------------------------------------------------------------

function permuted(
  operation: "transpose" | "moveaxis" | "swapaxes",
  value: AdjFloat | NDArray,
  x: NDArray,
  permutation: number[],
): NDArray {
  const result = transposeKernel(x, permutation);
  if (!annotating()) return result;
  const linear =
    operation === "moveaxis" ? moveaxisLinear : operation === "swapaxes" ? swapaxesLinear : transposeLinear;
  return linear.record(value, result, permutationOf(permutation));
}

/** Keyword arguments of `transpose` (NumPy's `axes=`). */
export interface TransposeOptions extends TapeOption {
  /** Result axis i is input axis axes[i]; reversed axes when undefined or null. */
  axes?: readonly number[] | null;
}

/**
 * Permutes the axes: result axis i is input axis `axes[i]` (the axes reversed when omitted).
 * Linear: the adjoint transposes by the inverse permutation.
 *
 * @example
 * np.transpose(x); // [2, 3] -> [3, 2]
 * np.transpose(x, [1, 0, 2]);
 */
export function transpose(a: ArrayOperand, axes?: readonly number[] | null | TransposeOptions): NDArray {
  const { value, options } = splitOptions<TransposeOptions, readonly number[] | null | undefined>(
    "transpose",
    axes,
    ["axes"],
  );
  return onTape(options?.tape, () => transposeOn(a, options === undefined ? value : options.axes));
}

function transposeOn(a: ArrayOperand, axesArgument: readonly number[] | null | undefined): NDArray {
  const value = toOverloaded("transpose", a);
  const x = valueArray(value);
  const axesValue =
    axesArgument === undefined || axesArgument === null
      ? axesArgument
      : typeof axesArgument === "number"
        ? axesArgument
        : axisList("transpose", "axes", axesArgument);
  let permutation: number[];
  if (typeof axesValue === "number") {
    throw new InvalidArgumentError(
      "np.transpose",
      `axes must be a permutation list such as [1, 0], got the number ${axesValue}`,
    );
  }
  if (axesValue === undefined || axesValue === null) {
    permutation = x.shape.map((_, i) => x.ndim - 1 - i);
  } else {
    if (axesValue.length !== x.ndim) {
      throw new InvalidArgumentError(
        "np.transpose",
        `axes ${JSON.stringify(axesValue)} do not match an array of shape ${formatShape(x.shape)}; give a permutation of all ${x.ndim} axes`,
      );
    }
    permutation = axesValue.map((axis) => resolveAxis("transpose", axis, x.ndim, x.shape));
    if (new Set(permutation).size !== permutation.length) {
      throw new InvalidArgumentError(
        "np.transpose",
        `repeated axis in ${JSON.stringify(axesValue)} for an array of shape ${formatShape(x.shape)}`,
      );
    }
  }
  return permuted("transpose", value, x, permutation);
}

/**
 * Moves axes to new positions, keeping the order of the others (NumPy `moveaxis`).
 *
 * @example
 * np.moveaxis(x, 0, -1); // [2, 3, 4] -> [3, 4, 2]
 * np.moveaxis(x, [0, 1], [-1, -2]);
 */
export function moveaxis(
  a: ArrayOperand,
  source: number | readonly number[],
  destination: number | readonly number[],
  options?: TapeOption,
): NDArray {
  return onTape(tapeOnly("np.moveaxis", options), () => moveaxisOn(a, source, destination));
}

function moveaxisOn(
  a: ArrayOperand,
  source: number | readonly number[],
  destination: number | readonly number[],
): NDArray {
  const value = toOverloaded("moveaxis", a);
  const x = valueArray(value);
  const sourceList = axisList("moveaxis", "source", source);
  const destinationList = axisList("moveaxis", "destination", destination);
  const sources = sourceList.map((axis) => resolveAxis("moveaxis", axis, x.ndim, x.shape));
  const destinations = destinationList.map((axis) => resolveAxis("moveaxis", axis, x.ndim, x.shape));
  if (sources.length !== destinations.length) {
    throw new InvalidArgumentError(
      "np.moveaxis",
      `source ${JSON.stringify(source)} and destination ${JSON.stringify(destination)} must have the same number of axes`,
    );
  }
  if (new Set(sources).size !== sources.length || new Set(destinations).size !== destinations.length) {
    throw new InvalidArgumentError(
      "np.moveaxis",
      `repeated axis in source ${JSON.stringify(source)} or destination ${JSON.stringify(destination)}`,
    );
  }
  const order: number[] = [];
  for (let i = 0; i < x.ndim; i++) if (!sources.includes(i)) order.push(i);
  const pairs = destinations.map((d, k) => [d, sources[k]] as const).sort((p, q) => p[0] - q[0]);
  for (const [d, s] of pairs) order.splice(d, 0, s);
  return permuted("moveaxis", value, x, order);
}

/**
 * Exchanges two axes.
 *
 * @example
 * np.swapaxes(x, 0, 2); // [2, 3, 4] -> [4, 3, 2]
 */
export function swapaxes(a: ArrayOperand, axis1: number, axis2: number, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.swapaxes", options), () => swapaxesOn(a, axis1, axis2));
}

function swapaxesOn(a: ArrayOperand, axis1: number, axis2: number): NDArray {
  const value = toOverloaded("swapaxes", a);
  const x = valueArray(value);
  const i = resolveAxis("swapaxes", axis1, x.ndim, x.shape);
  const j = resolveAxis("swapaxes", axis2, x.ndim, x.shape);
  const permutation = x.shape.map((_, k) => k);
  permutation[i] = j;
  permutation[j] = i;
  return permuted("swapaxes", value, x, permutation);
}

// ---------------------------------------------------------------------------------------------------------
// joining
// ---------------------------------------------------------------------------------------------------------

/** Keyword arguments of `concatenate` and `stack` (NumPy's `axis=`). */
export interface JoinOptions extends TapeOption {
  /** The axis to join along (default 0; `null` flattens the inputs first, for `concatenate`). */
  axis?: number | null;
}

/**
 * Joins arrays along an existing axis; all other sizes must match. Inputs may mix recorded values and
 * constants. `axis` null flattens every input first. Linear: each input's adjoint is its slice of the seed.
 *
 * @example
 * np.concatenate([x, y]); // along axis 0
 * np.concatenate([x, y], -1);
 */
export function concatenate(arrays: readonly ArrayOperand[], axis: number | null | JoinOptions = 0): NDArray {
  const { value, options } = splitOptions<JoinOptions, number | null>("concatenate", axis, ["axis"]);
  return onTape(options?.tape, () =>
    concatenateOn(arrays, options === undefined ? value : (options.axis ?? 0)),
  );
}

function concatenateOn(arrays: readonly ArrayOperand[], axisValue: number | null): NDArray {
  if (!Array.isArray(arrays) || arrays.length === 0) {
    throw new InvalidArgumentError("np.concatenate", "needs a non-empty list of arrays");
  }
  let values = arrays.map((a) => toOverloaded("concatenate", a));
  if (axisValue === null) {
    values = values.map((v) => ravel(v));
    return concatenateOn(values, 0);
  }
  const xs = values.map(valueArray);
  const shapes = xs.map((x) => x.shape);
  const first = xs[0];
  if (xs.some((x) => x.ndim === 0)) {
    throw new InvalidArgumentError(
      "np.concatenate",
      `expected arrays of at least 1 dimension, got shapes ${shapes.map(formatShape).join(", ")}: 0-d arrays (and AdjFloats) cannot be concatenated; use np.stack to build an array from scalars`,
    );
  }
  const index = resolveAxis("concatenate", axisValue, first.ndim, first.shape);
  for (const x of xs) {
    let fits = x.ndim === first.ndim;
    for (let d = 0; fits && d < x.ndim; d++) if (d !== index && x.shape[d] !== first.shape[d]) fits = false;
    if (!fits) {
      throw new ShapeMismatchError(
        "np.concatenate",
        shapes,
        `all inputs need the same number of dimensions and the same sizes except along axis ${axisValue}`,
      );
    }
  }
  const result = concatenateKernel(xs, index);
  record(values, [result], (dependencies, outputs) => new ConcatenateBlock(index, dependencies, outputs));
  return result;
}

/**
 * Joins arrays of equal shape along a new axis at position `axis` of the result (AdjFloats and numbers are 0-d,
 * so `np.stack([a, b, c])` builds a vector from scalars). Linear: input i's adjoint is the seed's slice i.
 *
 * @example
 * np.stack([x, y]); // [2, ...x.shape]
 * np.stack([s, t], { axis: 0 });
 */
export function stack(arrays: readonly ArrayOperand[], axis: number | JoinOptions = 0): NDArray {
  const { value, options } = splitOptions<JoinOptions, number>("stack", axis, ["axis"]);
  return onTape(options?.tape, () => stackOn(arrays, options === undefined ? value : (options.axis ?? 0)));
}

function stackOn(arrays: readonly ArrayOperand[], axisValue: number): NDArray {
  if (!Array.isArray(arrays) || arrays.length === 0) {
    throw new InvalidArgumentError("np.stack", "needs a non-empty list of arrays");
  }
  const values = arrays.map((a) => toOverloaded("stack", a));
  const xs = values.map(valueArray);
  const shapes = xs.map((x) => x.shape);
  const first = xs[0];
  for (const x of xs) {
    if (x.ndim !== first.ndim || x.shape.some((n, d) => n !== first.shape[d])) {
      throw new ShapeMismatchError("np.stack", shapes, "all inputs must have the same shape");
    }
  }
  const resultShape = [...first.shape, 1];
  const index = resolveAxis("stack", axisValue, first.ndim + 1, resultShape);
  const result = stackKernel(xs, index);
  record(values, [result], (dependencies, outputs) => new StackBlock(index, dependencies, outputs));
  return result;
}

/**
 * The array repeated to `shape` (NumPy broadcasting rules). Linear: the adjoint sums over the broadcast axes.
 *
 * @example
 * np.broadcast_to(x, [4, 3]); // x of shape [3] or [1, 3]
 */
export function broadcast_to(a: ArrayOperand, shape: ShapeArgument, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.broadcast_to", options), () => broadcastToOn(a, shape));
}

function broadcastToOn(a: ArrayOperand, shape: ShapeArgument): NDArray {
  const value = toOverloaded("broadcast_to", a);
  const x = valueArray(value);
  const target = shapeList("broadcast_to", shape);
  let fits = x.ndim <= target.length && target.every((n) => Number.isInteger(n) && n >= 0);
  const shift = target.length - x.ndim;
  for (let i = 0; fits && i < x.ndim; i++)
    if (x.shape[i] !== 1 && x.shape[i] !== target[i + shift]) fits = false;
  if (!fits) {
    throw new ShapeMismatchError(
      "np.broadcast_to",
      [x.shape, target],
      "the array cannot be broadcast to that shape: trailing sizes must match or be 1",
    );
  }
  checkArraySize(
    "np.broadcast_to",
    target.reduce((p, n) => p * n, 1),
  );
  const result = broadcastToKernel(x, target);
  return broadcastToLinear.record(value, result, target);
}

// ---------------------------------------------------------------------------------------------------------
// indexing
// ---------------------------------------------------------------------------------------------------------

/** Indices for `take`: one index (drops the axis), a list, nested lists or an NDArray (its shape is kept). */
export type IndexArgument = number | readonly number[] | NestedNumberArray | Int32Array | NDArray;

/** Keyword arguments of `take` (NumPy's `axis=`). */
export interface TakeOptions extends TapeOption {
  /** The axis to index; the flattened array when undefined or null. */
  axis?: number | null;
}

/** A private copy of the indices (so later changes to the caller's list cannot change the tape). */
function ownIndices(indices: IndexArgument): TakeIndices {
  if (typeof indices === "number") return indices;
  if (indices instanceof NDArray) {
    if (indices._blockVariable?.block !== undefined) {
      throw new InvalidArgumentError(
        "np.take",
        "the indices were computed on the tape; a replay could not recompute them (they would stay frozen at " +
          "today's values). Compute them outside the tape (stopAnnotating) or pass a plain list",
      );
    }
    return indices;
  }
  if (indices instanceof Int32Array) return indices.slice();
  if (Array.isArray(indices)) {
    if (indices.some((entry) => Array.isArray(entry))) {
      try {
        return array(indices);
      } catch (error) {
        throw renamed(error, "take", []);
      }
    }
    if (indices.every((entry): entry is number => typeof entry === "number")) return [...indices];
  }
  throw new InvalidArgumentError(
    "np.take",
    `indices must be an integer, a list of integers, an Int32Array or an NDArray, got ${describeType(indices)}`,
  );
}

/**
 * Entries along `axis` at integer `indices` (negative count from the end; repeats allowed); the flattened
 * array when `axis` is omitted. Result shape `a.shape[:axis] + indices.shape + a.shape[axis+1:]`.
 * Linear: the adjoint scatter-adds the seed at the indices.
 *
 * @example
 * np.take(x, [2, 0, 0], 1);
 * np.take(x, 3); // 0-d: entry 3 of the flattened array
 */
export function take(a: ArrayOperand, indices: IndexArgument, axis?: number | null | TakeOptions): NDArray {
  const { value, options } = splitOptions<TakeOptions, number | null | undefined>("take", axis, ["axis"]);
  return onTape(options?.tape, () => takeOn(a, indices, options === undefined ? value : options.axis));
}

function takeOn(a: ArrayOperand, indices: IndexArgument, axisValue: number | null | undefined): NDArray {
  const value = toOverloaded("take", a);
  const x = valueArray(value);
  const resolvedAxis =
    axisValue === undefined || axisValue === null
      ? undefined
      : resolveAxis("take", axisValue, x.ndim, x.shape);
  const owned = ownIndices(indices);
  let result: NDArray;
  try {
    result = takeKernel(x, owned, resolvedAxis);
  } catch (error) {
    throw renamed(error, "take", [x.shape]);
  }
  return takeLinear.record(value, result, { indices: owned, axis: resolvedAxis });
}

/**
 * Basic slicing `a[spec]` with NumPy semantics. `spec` has one entry per leading axis (missing trailing entries
 * take the whole axis): a number selects one index and drops the axis (negative counts from the end); a
 * `{ start?, stop?, step? }` range keeps the axis (start inclusive, stop exclusive, negative values count from
 * the end, a negative step walks backwards, e.g. `{ step: -1 }` reverses). No ellipsis or new axes (use
 * `expand_dims`). Linear: the adjoint writes the seed back into zeros at the sliced positions.
 *
 * @example
 * np.slice(x, [1, { start: 0, stop: -1 }]); // x[1, 0:-1]
 * np.slice(x, [{}, { step: -2 }]); // x[:, ::-2]
 */
export function slice(a: ArrayOperand, spec: SliceSpec, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.slice", options), () => sliceOn(a, spec));
}

/** A checked private copy of one slice entry. */
function ownSliceEntry(entry: unknown, axis: number): SliceEntry {
  const expected = "an integer index or a range { start?, stop?, step? } (use {} for the whole axis)";
  if (typeof entry === "number") {
    if (!Number.isInteger(entry)) {
      throw new InvalidArgumentError("np.slice", `entry ${axis} must be ${expected}, got ${entry}`);
    }
    return entry;
  }
  if (!isOptions(entry)) {
    throw new InvalidArgumentError(
      "np.slice",
      `entry ${axis} must be ${expected}, got ${describeType(entry)}`,
    );
  }
  const range = checkOptions(`np.slice`, entry, ["start", "stop", "step"]);
  const start = sliceBound(range.start, "start", axis);
  const stop = sliceBound(range.stop, "stop", axis);
  const step = sliceBound(range.step, "step", axis);
  if (step === 0) throw new InvalidArgumentError("np.slice", `step of entry ${axis} must not be zero`);
  const owned: SliceRange = { start, stop, step };
  return Object.freeze(owned);
}

/** One bound of a slice range, checked: an integer, or undefined for null / undefined (the default). */
function sliceBound(bound: unknown, key: "start" | "stop" | "step", axis: number): number | undefined {
  if (bound === undefined || bound === null) return undefined;
  if (typeof bound !== "number" || !Number.isInteger(bound)) {
    throw new InvalidArgumentError(
      "np.slice",
      `${key} of entry ${axis} must be an integer, null or undefined, got ${describeType(bound)}${typeof bound === "number" ? ` ${bound}` : ""}`,
    );
  }
  return bound;
}

function sliceOn(a: ArrayOperand, spec: SliceSpec): NDArray {
  const value = toOverloaded("slice", a);
  const x = valueArray(value);
  if (!Array.isArray(spec)) {
    throw new InvalidArgumentError(
      "np.slice",
      "spec must be a list with one entry (number or {start, stop, step}) per axis",
    );
  }
  const owned: SliceEntry[] = spec.map((entry, axis) => ownSliceEntry(entry, axis));
  let result: NDArray;
  try {
    result = sliceArray(x, owned);
  } catch (error) {
    throw renamed(error, "slice", [x.shape]);
  }
  return sliceLinear.record(value, result, Object.freeze(owned));
}

/**
 * `a[e0, e1, ...]`: the same as {@link slice} with the entries given as separate arguments.
 *
 * @example
 * np.index(x, 0); // x[0]
 * np.index(x, {}, { start: 1 }); // x[:, 1:]
 */
export function index(a: ArrayOperand, ...entries: SliceEntry[]): NDArray {
  return slice(a, entries);
}

/** Keyword arguments of `diagonal` (NumPy's `offset=`, `axis1=`, `axis2=`). */
export interface DiagonalOptions extends TapeOption {
  /** Offset of the diagonal above (positive) or below (negative) the main one; default 0. */
  offset?: number;
  /** First axis of the 2-D sub-arrays; default 0. */
  axis1?: number;
  /** Second axis of the 2-D sub-arrays; default 1. */
  axis2?: number;
}

/**
 * The diagonal with the given offset of the 2-D sub-arrays spanned by `axis1` and `axis2`; those axes are
 * removed and the diagonal becomes the last axis. Linear: the adjoint writes the seed on that diagonal.
 *
 * @example
 * np.diagonal(m); // main diagonal
 * np.diagonal(m, 1); // first super-diagonal
 */
export function diagonal(
  a: ArrayOperand,
  offset: number | DiagonalOptions = 0,
  axis1 = 0,
  axis2 = 1,
): NDArray {
  const { value, options } = splitOptions<DiagonalOptions, number>("diagonal", offset, [
    "offset",
    "axis1",
    "axis2",
  ]);
  const offsetValue = options === undefined ? value : (options.offset ?? 0);
  const first = options === undefined ? axis1 : (options.axis1 ?? 0);
  const second = options === undefined ? axis2 : (options.axis2 ?? 1);
  return onTape(options?.tape, () => diagonalOn(a, offsetValue, first, second));
}

function diagonalOn(a: ArrayOperand, offsetValue: number, first: number, second: number): NDArray {
  for (const [name, v] of [
    ["offset", offsetValue],
    ["axis1", first],
    ["axis2", second],
  ] as const) {
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new InvalidArgumentError("np.diagonal", `${name} must be an integer, got ${describeType(v)}`);
    }
  }
  const value = toOverloaded("diagonal", a);
  const x = valueArray(value);
  let result: NDArray;
  try {
    result = diagonalKernel(x, offsetValue, first, second);
  } catch (error) {
    throw renamed(error, "diagonal", [x.shape]);
  }
  return diagonalLinear.record(value, result, { offset: offsetValue, axis1: first, axis2: second });
}

/**
 * Reverses the order of the entries along `axis` (all axes when omitted). Linear and its own adjoint.
 *
 * @example
 * np.flip(x, 0);
 */
export function flip(a: ArrayOperand, axis?: number | readonly number[] | null | AxisOptions): NDArray {
  const { value, options } = splitOptions<AxisOptions, Positional>("flip", axis, ["axis"]);
  return onTape(options?.tape, () => flipOn(a, options === undefined ? value : options.axis));
}

function flipOn(a: ArrayOperand, axisValue: number | readonly number[] | null | undefined): NDArray {
  const value = toOverloaded("flip", a);
  const x = valueArray(value);
  const axes = resolveAxes("flip", axisValue, x.shape);
  const result = flipKernel(x, axes);
  return flipLinear.record(value, result, axes);
}

// ---------------------------------------------------------------------------------------------------------
// selection
// ---------------------------------------------------------------------------------------------------------

/**
 * `condition ? x : y` entry by entry, with broadcasting of all three. The condition (true where non-zero) has
 * no derivative but is recorded: when the tape is replayed the selection follows the condition's new value
 * (build it with `np.greater` and friends, which are recorded too). `x` and `y` are differentiable: each gets
 * the seed where it was selected, summed back to its shape.
 *
 * @example
 * np.where(np.greater(x, 0), x, 0); // relu
 */
export function where(
  condition: ArrayOperand,
  x: ArrayOperand,
  y: ArrayOperand,
  options?: TapeOption,
): NDArray {
  const tape = tapeOnly("np.where", options);
  const test = toOverloaded("where", condition);
  const first = toOverloaded("where", x);
  const second = toOverloaded("where", y);
  const conditionArray = valueArray(test);
  const firstArray = valueArray(first);
  const secondArray = valueArray(second);
  broadcastShapeOf("where", [conditionArray.shape, firstArray.shape, secondArray.shape]);
  const result = whereKernel(conditionArray, firstArray, secondArray);
  if (!annotating()) return result;
  return onTape(tape, () => {
    record(
      [test, first, second],
      [result],
      (dependencies, outputs) => new WhereBlock(result.shape, dependencies, outputs),
    );
    return result;
  });
}

/** What `clip` returns: an NDArray if any operand is an array, a number if all are numbers, else an AdjFloat. */
export type ClipResult<A, L, H> = A extends number
  ? L extends number | null | undefined
    ? H extends number | null | undefined
      ? number
      : ClipArrayResult<A, L, H>
    : ClipArrayResult<A, L, H>
  : ClipArrayResult<A, L, H>;
/** What `clip` returns when an operand is not a plain number: an NDArray if any operand is an array, else an AdjFloat. */
export type ClipArrayResult<A, L, H> = A extends ArrayData
  ? NDArray
  : L extends ArrayData
    ? NDArray
    : H extends ArrayData
      ? NDArray
      : AdjFloat;

/** An operand of `clip` that makes the result an array: an NDArray, a nested list or a typed array. */
/** Array data `np.clip` and friends accept: an NDArray, nested number arrays or a typed array. */
export type ArrayData = NDArray | NestedNumberArray | TypedNumberArray;

/** A bound of `clip`: a value, or `null` / `undefined` for no bound on that side. */
export type Bound = ArrayOperand | null | undefined;

/** A clip operand as an overloaded value: a scalar stays scalar (an AdjFloat), arrays become NDArrays. */
function clipOperand(value: Bound, missing: number): AdjFloat | NDArray {
  if (value === null || value === undefined) return new AdjFloat(missing);
  if (typeof value === "number") return new AdjFloat(value);
  return toOverloaded("clip", value);
}

/**
 * Limits the entries to `[a_min, a_max]`: `min(max(a, a_min), a_max)` with broadcasting; `null`/`undefined`
 * means no bound on that side. The derivative is 1 with respect to `a` inside the bounds and 0 outside, where it
 * goes to the active bound instead (bounds are differentiable too). Elementwise: scalars stay scalars.
 *
 * @example
 * np.clip(x, 0, 1);
 * np.clip(x, null, 2); // only an upper bound
 */
export function clip<A extends ArrayOperand, L extends Bound, H extends Bound>(
  a: A,
  a_min: L,
  a_max: H,
  options?: TapeOption,
): ClipResult<A, L, H>;
export function clip(
  a: ArrayOperand,
  a_min: Bound,
  a_max: Bound,
  options?: TapeOption,
): number | AdjFloat | NDArray {
  return onTape(tapeOnly("np.clip", options), () => clipOn(a, a_min, a_max));
}

function clipOn(a: ArrayOperand, a_min: Bound, a_max: Bound): number | AdjFloat | NDArray {
  if ((a_min === null || a_min === undefined) && (a_max === null || a_max === undefined)) {
    throw new InvalidArgumentError("np.clip", "give at least one of a_min and a_max");
  }
  if (a === null || a === undefined)
    throw new InvalidArgumentError("np.clip", "the array to clip is missing");
  const operands = [
    clipOperand(a, Number.NaN),
    clipOperand(a_min, Number.NEGATIVE_INFINITY),
    clipOperand(a_max, Number.POSITIVE_INFINITY),
  ];
  const arrays = operands.map(valueArray);
  const shape = broadcastShapeOf(
    "clip",
    arrays.map((x) => x.shape),
  );
  const values = broadcastToKernel(arrays[0], shape).data;
  const lows = broadcastToKernel(arrays[1], shape).data;
  const highs = broadcastToKernel(arrays[2], shape).data;
  const out = new Float64Array(shapeSize(shape));
  for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(values[i], lows[i]), highs[i]);
  const allScalar = operands.every((operand) => operand instanceof AdjFloat);
  if (allScalar && typeof a === "number" && !(a_min instanceof AdjFloat) && !(a_max instanceof AdjFloat)) {
    return out[0];
  }
  const result = allScalar ? new AdjFloat(out[0]) : new NDArray(out, shape);
  record(operands, [result], (dependencies, outputs) => new ClipBlock(dependencies, outputs));
  return result;
}

// comparisons and logical functions (recorded values without derivatives)
// ---------------------------------------------------------------------------------------------------------

/** The kernels of the zero-derivative operations (module constants: no closure per recorded block). */
const maskKernels = {
  greater: (xs) => greaterKernel(xs[0], xs[1]),
  greater_equal: (xs) => greaterEqualKernel(xs[0], xs[1]),
  less: (xs) => lessKernel(xs[0], xs[1]),
  less_equal: (xs) => lessEqualKernel(xs[0], xs[1]),
  equal: (xs) => equalKernel(xs[0], xs[1]),
  not_equal: (xs) => notEqualKernel(xs[0], xs[1]),
  logical_and: (xs) => mapBroadcast("np.logical_and", xs, (v) => (truth(v[0]) && truth(v[1]) ? 1 : 0)),
  logical_or: (xs) => mapBroadcast("np.logical_or", xs, (v) => (truth(v[0]) || truth(v[1]) ? 1 : 0)),
  logical_xor: (xs) => mapBroadcast("np.logical_xor", xs, (v) => (truth(v[0]) !== truth(v[1]) ? 1 : 0)),
  logical_not: (xs) => mapBroadcast("np.logical_not", xs, (v) => (truth(v[0]) ? 0 : 1)),
  sign: (xs) => signKernel(xs[0]),
  isfinite: (xs) => mapBroadcast("np.isfinite", xs, (v) => (Number.isFinite(v[0]) ? 1 : 0)),
  isnan: (xs) => mapBroadcast("np.isnan", xs, (v) => (Number.isNaN(v[0]) ? 1 : 0)),
  isinf: (xs) => mapBroadcast("np.isinf", xs, (v) => (v[0] === Infinity || v[0] === -Infinity ? 1 : 0)),
} satisfies Record<string, ZeroDerivativeKernel>;

/** True (non-zero and not NaN), as NumPy's truth value of a float. */
function truth(v: number): boolean {
  return v !== 0 && !Number.isNaN(v);
}

/**
 * Computes `kernel` of the operands and records it as a block whose output has zero derivative, so that a
 * replay recomputes it from the inputs' new values.
 */
function zeroDerivative(
  operation: keyof typeof maskKernels,
  operands: readonly ArrayOperand[],
  options: TapeOption | undefined,
): NDArray {
  const kernel: ZeroDerivativeKernel = maskKernels[operation];
  const tape = tapeOnly(`np.${operation}`, options);
  const values = operands.map((operand) => toOverloaded(operation, operand));
  const arrays = values.map(valueArray);
  broadcastShapeOf(
    operation,
    arrays.map((x) => x.shape),
  );
  const result = kernel(arrays);
  if (!annotating()) return result;
  return onTape(tape, () => {
    record(
      values,
      [result],
      (dependencies, outputs) => new ZeroDerivativeBlock(operation, kernel, dependencies, outputs),
    );
    return result;
  });
}

/**
 * 1 where a > b, else 0 (broadcast). Recorded without derivative: a replay recomputes it, so
 * `np.where(np.greater(q, 0), ...)` follows the control. @example np.greater(x, 0)
 */
export function greater(a: ArrayOperand, b: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("greater", [a, b], options);
}
/** 1 where a >= b, else 0 (broadcast; recorded without derivative). @example np.greater_equal(x, 0) */
export function greater_equal(a: ArrayOperand, b: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("greater_equal", [a, b], options);
}
/** 1 where a < b, else 0 (broadcast; recorded without derivative). @example np.less(x, 1) */
export function less(a: ArrayOperand, b: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("less", [a, b], options);
}
/** 1 where a <= b, else 0 (broadcast; recorded without derivative). @example np.less_equal(x, 1) */
export function less_equal(a: ArrayOperand, b: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("less_equal", [a, b], options);
}
/** 1 where a == b, else 0 (broadcast; recorded without derivative). @example np.equal(x, y) */
export function equal(a: ArrayOperand, b: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("equal", [a, b], options);
}
/** 1 where a != b, else 0 (broadcast; recorded without derivative). @example np.not_equal(x, y) */
export function not_equal(a: ArrayOperand, b: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("not_equal", [a, b], options);
}

/** 1 where both are true (non-zero), else 0 (broadcast; recorded without derivative). @example np.logical_and(a, b) */
export function logical_and(a: ArrayOperand, b: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("logical_and", [a, b], options);
}
/** 1 where either is true (non-zero), else 0 (broadcast; recorded without derivative). @example np.logical_or(a, b) */
export function logical_or(a: ArrayOperand, b: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("logical_or", [a, b], options);
}
/** 1 where exactly one is true (non-zero), else 0 (recorded without derivative). @example np.logical_xor(a, b) */
export function logical_xor(a: ArrayOperand, b: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("logical_xor", [a, b], options);
}
/** 1 where a is false (zero), else 0 (recorded without derivative). @example np.logical_not(np.greater(x, 0)) */
export function logical_not(a: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("logical_not", [a], options);
}
/** -1, 0 or 1 by the sign of each entry (NaN stays NaN; recorded without derivative). @example np.sign(x) */
export function sign(a: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("sign", [a], options);
}
/** 1 where the entry is finite, else 0 (recorded without derivative). @example np.isfinite(x) */
export function isfinite(a: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("isfinite", [a], options);
}
/** 1 where the entry is NaN, else 0 (recorded without derivative). @example np.isnan(x) */
export function isnan(a: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("isnan", [a], options);
}
/** 1 where the entry is +-Infinity, else 0 (recorded without derivative). @example np.isinf(x) */
export function isinf(a: ArrayOperand, options?: TapeOption): NDArray {
  return zeroDerivative("isinf", [a], options);
}
