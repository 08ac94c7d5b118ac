/**
 * @file Shape operations (reshape, transpose, concatenate, take, slicing, where, clip, ...): the linear
 * one-input ones declared through `defineLinear` (A and A^T), the others one Block class per op with its
 * four modes side by side, plus the shared helpers the reduction blocks reuse.
 */
import { InvalidArgumentError, ShapeMismatchError, TsadjointError } from "../errors.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { AdjFloat } from "../values/adj-float.js";
import { type ArrayInput, array, asNDArray, formatShape, NDArray, shapeSize } from "../values/ndarray.js";
import { describeType } from "../values/space.js";
import { broadcastShapesFor, broadcastTo, sumToRaw, sumToShape } from "./kernels/broadcast.js";
import {
  concatenate as concatenateKernel,
  diagonal as diagonalKernel,
  flip as flipKernel,
  inversePermutation,
  type SliceSpec,
  scatterAddTake,
  scatterDiagonal,
  scatterSlice,
  sliceArray,
  stack as stackKernel,
  type TakeIndices,
  take as takeKernel,
  transpose as transposeKernel,
  where as whereKernel,
} from "./kernels/shape.js";
import { defineLinear, type LinearOperation, transientLinear } from "./linear.js";

// ---------------------------------------------------------------------------------------------------------
// Shared helpers (also used by src/ops/reduce.ts)
// ---------------------------------------------------------------------------------------------------------

/** What the array operations accept: plain numbers and nested arrays (constants), AdjFloats and NDArrays. */
export type ArrayOperand = ArrayInput | AdjFloat;

/** The raw value of an AdjFloat or an NDArray as a block variable saves it: a number, or the array itself. */
export type { ArrayRaw } from "../values/ndarray.js";

import type { ArrayRaw } from "../values/ndarray.js";

export { arrayOf } from "./linear.js";

/**
 * @internal `value` given back in the raw type of `template`: a number when the template is a number.
 * @example
 * rawLike(1.5, array(3)); // 3
 */
export function rawLike(template: ArrayRaw, value: NDArray): ArrayRaw {
  return typeof template === "number" ? value.data[0] : value;
}

/**
 * @internal A zero array of the shape of the raw value `raw`.
 * @example
 * zerosOf(array([1, 2])).toArray(); // [0, 0]
 */
export function zerosOf(raw: ArrayRaw): NDArray {
  const shape = raw instanceof NDArray ? raw.shape : [];
  return new NDArray(new Float64Array(shapeSize(shape)), shape);
}

/**
 * @internal Converts a public operand to an overloaded value: AdjFloats and NDArrays are returned as they
 * are; numbers and nested / typed arrays become fresh NDArrays (constants with an independent block variable).
 * @example
 * toOverloaded("sum", [1, 2]); // NDArray of shape [2]
 */
export function toOverloaded(operation: string, value: ArrayOperand): AdjFloat | NDArray {
  if (value instanceof NDArray || value instanceof AdjFloat) return value;
  if (typeof value === "number" || Array.isArray(value) || ArrayBuffer.isView(value)) {
    try {
      return array(value);
    } catch (error) {
      throw renamed(error, operation, []);
    }
  }
  throw new InvalidArgumentError(
    `np.${operation}`,
    `expected a number, an AdjFloat, an NDArray or a nested array of numbers, got ${describeType(value)}`,
  );
}

/**
 * @internal The raw value of an overloaded value as an NDArray (an AdjFloat is 0-d).
 * @example
 * valueArray(new AdjFloat(2)).shape; // []
 */
export function valueArray(value: AdjFloat | NDArray): NDArray {
  return value instanceof NDArray ? value : asNDArray(value.value);
}

/**
 * @internal Re-throws an error raised by a kernel under the public name `np.<operation>`, adding the input
 * shapes; other errors pass through unchanged.
 * @example
 * try { takeKernel(x, [9]); } catch (error) { throw renamed(error, "take", [x.shape]); }
 */
export function renamed(error: unknown, operation: string, shapes: readonly (readonly number[])[]): Error {
  const name = `np.${operation}`;
  if (error instanceof ShapeMismatchError) {
    const marker = "do not fit: ";
    const at = error.message.indexOf(marker);
    return new ShapeMismatchError(
      name,
      error.shapes,
      at >= 0 ? error.message.slice(at + marker.length) : error.message,
    );
  }
  if (error instanceof TsadjointError) {
    const detail = error.message.startsWith(`${error.operation}: `)
      ? error.message.slice(error.operation.length + 2)
      : error.message;
    const where =
      shapes.length === 0
        ? ""
        : ` (input shape${shapes.length > 1 ? "s" : ""} ${shapes.map(formatShape).join(", ")})`;
    return new InvalidArgumentError(name, `${detail}${where}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Normalises an axis argument against `shape` into sorted distinct non-negative axes (`undefined`/`null`
 * means all axes), throwing an InvalidArgumentError naming `np.<operation>` and the shape.
 *
 * @example
 * resolveAxes("sum", [-1, 0], [2, 3, 4]); // [0, 2]
 */
export function resolveAxes(
  operation: string,
  axis: number | readonly number[] | null | undefined,
  shape: readonly number[],
): number[] {
  const ndim = shape.length;
  if (axis === undefined || axis === null) return shape.map((_, i) => i);
  const list = typeof axis === "number" ? [axis] : axis;
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      `np.${operation}`,
      `axis must be an integer, a list of integers or undefined, got ${describeType(axis)}`,
    );
  }
  const seen = new Uint8Array(ndim);
  const result: number[] = [];
  for (const entry of list) {
    const resolved = resolveAxis(operation, entry, ndim, shape);
    if (seen[resolved]) {
      throw new InvalidArgumentError(
        `np.${operation}`,
        `repeated axis ${entry} in ${JSON.stringify(list)} for an array of shape ${formatShape(shape)}; name each axis once`,
      );
    }
    seen[resolved] = 1;
    result.push(resolved);
  }
  return result.sort((x, y) => x - y);
}

/**
 * Normalises one possibly negative axis into `[0, ndim)`, throwing an InvalidArgumentError naming
 * `np.<operation>` and the shape.
 *
 * @example
 * resolveAxis("cumsum", -1, 2, [3, 4]); // 1
 */
export function resolveAxis(operation: string, axis: number, ndim: number, shape: readonly number[]): number {
  if (typeof axis !== "number") {
    throw new InvalidArgumentError(`np.${operation}`, `axis must be an integer, got ${describeType(axis)}`);
  }
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    const valid = ndim === 0 ? "a 0-d array has no axes" : `use an axis in [${-ndim}, ${ndim - 1}]`;
    throw new InvalidArgumentError(
      `np.${operation}`,
      `axis ${axis} is out of bounds for an array of shape ${formatShape(shape)} (dimension ${ndim}); ${valid}`,
    );
  }
  return axis < 0 ? axis + ndim : axis;
}

/** A positional argument that an options object may stand in for: never an options object itself. */
export type PositionalArgument = number | string | boolean | readonly unknown[] | null | undefined;

/**
 * @internal Whether an argument that is either an options object `T` or a positional value is the options
 * object (the test of {@link isOptions}: a positional value is never a plain object).
 * @example
 * if (isOptionsArgument<ReduceOptions, ReduceAxis>(axis)) checkOptions("np.sum", axis, ["axis"]);
 */
export function isOptionsArgument<T extends object, V extends PositionalArgument>(
  argument: T | V,
): argument is T {
  return isOptions(argument);
}

/**
 * @internal Whether `value` is an options object (a plain object, not an array, a typed array or an NDArray).
 * @example
 * isOptions({ axis: 0 }); // true
 * isOptions([0]); // false
 */
export function isOptions(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    !(value instanceof NDArray)
  );
}

/**
 * @internal Sums the array `value` down to the shape of the raw value `target` (a number takes the total):
 * the adjoint of broadcasting an operand. The name the shape and reduction blocks use for the kernel
 * {@link sumToRaw}, the one "sum back to shape" of raw values.
 * @example
 * reduceToRaw(array([[1, 2], [3, 4]]), array([0, 0])).toArray(); // [4, 6]
 * reduceToRaw(array([1, 2]), 0); // 3
 */
export const reduceToRaw: typeof sumToRaw = sumToRaw;

// ---------------------------------------------------------------------------------------------------------
// Linear single-input operations, declared through defineLinear (A and A^T; the four modes follow)
// ---------------------------------------------------------------------------------------------------------

/** A reshape under `name`: y = x viewed with the output shape; A^T: ybar viewed with the input shape. */
function reshapeNamed(name: string): LinearOperation<readonly number[]> {
  // transient: the transpose is a view of ybar (values/pool.ts)
  return transientLinear(
    defineLinear<readonly number[]>({
      name,
      apply: (x, shape) => new NDArray(x.data, shape),
      transpose: (y, _shape, inputShape) => new NDArray(y.data, inputShape),
      outputShape: (_inputShape, shape) => shape,
    }),
  );
}

/** y = reshape(x, shape): the same entries in a new shape (params: the output shape). */
export const reshapeLinear = reshapeNamed("reshape");
/** y = ravel(x): a reshape to 1-D. */
export const ravelLinear = reshapeNamed("ravel");
/** y = expand_dims(x, axis): a reshape inserting size-1 axes. */
export const expandDimsLinear = reshapeNamed("expand_dims");
/** y = squeeze(x, axis): a reshape removing size-1 axes. */
export const squeezeLinear = reshapeNamed("squeeze");

/** The parameters of an axis permutation: the permutation and its inverse (the adjoint's axes). */
export interface Permutation {
  readonly permutation: readonly number[];
  readonly inverse: readonly number[];
}

/**
 * @internal The parameters of the axis permutation `permutation`.
 * @example
 * permutationOf([1, 2, 0]).inverse; // [2, 0, 1]
 */
export function permutationOf(permutation: readonly number[]): Permutation {
  return { permutation, inverse: inversePermutation(permutation) };
}

/** A transpose under `name`: y = x with axes permuted; A^T: ybar with the inverse permutation. */
function permuteNamed(name: string): LinearOperation<Permutation> {
  return defineLinear<Permutation>({
    name,
    apply: (x, { permutation }) => transposeKernel(x, permutation),
    transpose: (y, { inverse }) => transposeKernel(y, inverse),
  });
}

/** y = transpose(x, perm): y[i_0, ...] = x[i_inv(0), ...]. */
export const transposeLinear = permuteNamed("transpose");
/** y = moveaxis(x, source, destination): a transpose. */
export const moveaxisLinear = permuteNamed("moveaxis");
/** y = swapaxes(x, i, j): a transpose. */
export const swapaxesLinear = permuteNamed("swapaxes");

/** y = broadcast_to(x, shape): x repeated along the broadcast axes; A^T sums over them. */
export const broadcastToLinear = defineLinear<readonly number[]>({
  name: "broadcast_to",
  apply: (x, shape) => broadcastTo(x, shape),
  transpose: (y, _shape, inputShape) => sumToShape(y, inputShape),
});

/** The parameters of `take`: the indices and the axis (the flattened input when undefined). */
export interface TakeParams {
  readonly indices: TakeIndices;
  readonly axis: number | undefined;
}

/**
 * y = take(x, indices, axis) = x[..., indices, ...]. A^T: scatter-add ybar into zeros at the indices
 * (duplicates accumulate).
 */
export const takeLinear = defineLinear<TakeParams>({
  name: "take",
  apply: (x, { indices, axis }) => takeKernel(x, indices, axis),
  transpose: (y, { indices, axis }, inputShape) => scatterAddTake(inputShape, indices, axis, y),
});

/** y = x[spec] (basic slicing). A^T: zeros with ybar written at the sliced positions (never repeated). */
export const sliceLinear = defineLinear<SliceSpec>({
  name: "slice",
  apply: (x, spec) => sliceArray(x, spec),
  transpose: (y, spec, inputShape) => scatterSlice(inputShape, spec, y),
});

/** The parameters of `diagonal`. */
export interface DiagonalParams {
  readonly offset: number;
  readonly axis1: number;
  readonly axis2: number;
}

/** y[..., k] = x[..., k, k + offset, ...] (diagonal). A^T: zeros with ybar on that diagonal. */
export const diagonalLinear = defineLinear<DiagonalParams>({
  name: "diagonal",
  apply: (x, { offset, axis1, axis2 }) => diagonalKernel(x, offset, axis1, axis2),
  transpose: (y, { offset, axis1, axis2 }, inputShape) =>
    scatterDiagonal(inputShape, offset, axis1, axis2, y),
});

/** y = flip(x, axes): entries reversed along the axes. A^T = A (a flip is its own inverse and transpose). */
export const flipLinear = defineLinear<readonly number[]>({
  name: "flip",
  apply: (x, axes) => flipKernel(x, axes),
  transpose: (y, axes) => flipKernel(y, axes),
});

// ---------------------------------------------------------------------------------------------------------
// Linear multi-input blocks
// ---------------------------------------------------------------------------------------------------------

/** The inputs of a concatenation: the arrays joined (each at least 1-D). */
type ConcatenateIn = readonly NDArray[];
/** The outputs of a joining block: the joined array. */
type JoinedOut = readonly [NDArray];

/**
 * y = concatenate([x_0, ..., x_{k-1}], axis). TLM: ydot = concatenate(xdot_i) (zeros where a tangent is zero).
 * Adjoint: xbar_i = ybar[offset_i : offset_i + n_i] along axis. Hessian: the same slices of yhat.
 *
 * @example
 * new ConcatenateBlock(0, [a.blockVariable, b.blockVariable], [output]);
 */
export class ConcatenateBlock extends Block<ConcatenateIn, JoinedOut> {
  constructor(
    readonly axis: number,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return "concatenate";
  }

  recompute({ inputs }: RecomputeContext<ConcatenateIn>): JoinedOut {
    return [concatenateKernel(inputs, this.axis)];
  }

  // ydot = concatenate(xdot_0, ..., xdot_{k-1})
  override evaluateTlm({ inputs, tlmInputs }: TlmContext<ConcatenateIn, JoinedOut>): Seeds<JoinedOut> {
    const parts = inputs.map((x, i) => tlmInputs[i] ?? zerosOf(x));
    return [concatenateKernel(parts, this.axis)];
  }

  /** The slice of `seed` along the axis that each needed input occupies (its start is the sum of the sizes before it). */
  private pieces(
    inputs: ConcatenateIn,
    seed: NDArray | undefined,
    needed: readonly boolean[],
  ): Seeds<ConcatenateIn> {
    if (seed === undefined) return inputs.map(() => undefined);
    const spec = new Array<{ start?: number; stop?: number }>(this.axis + 1).fill({});
    let start = 0;
    return inputs.map((x, i) => {
      const size = x.shape[this.axis];
      const stop = start + size;
      spec[this.axis] = { start, stop };
      start = stop;
      return needed[i] ? sliceArray(seed, spec) : undefined;
    });
  }

  // xbar_i = ybar[offset_i : offset_i + n_i] along axis
  override evaluateAdj({
    inputs,
    adjInputs,
    needed,
  }: AdjContext<ConcatenateIn, JoinedOut>): Seeds<ConcatenateIn> {
    return this.pieces(inputs, adjInputs[0], needed);
  }

  // xhat_i = yhat[offset_i : offset_i + n_i] along axis (linear: no second-order term)
  override evaluateHessian({
    inputs,
    hessianInputs,
    needed,
  }: HessianContext<ConcatenateIn, JoinedOut>): Seeds<ConcatenateIn> {
    return this.pieces(inputs, hessianInputs[0], needed);
  }
}

/** The inputs of a stack: arrays of one shape, or numbers (AdjFloats, 0-d). */
type StackIn = readonly ArrayRaw[];

/**
 * y = stack([x_0, ..., x_{k-1}], axis): y[..., i, ...] = x_i along a new axis (AdjFloat inputs are 0-d).
 * TLM: ydot = stack(xdot_i). Adjoint: xbar_i = ybar[..., i, ...]. Hessian: the same with yhat.
 *
 * @example
 * new StackBlock(0, [a.blockVariable, b.blockVariable], [output]);
 */
export class StackBlock extends Block<StackIn, JoinedOut> {
  constructor(
    readonly axis: number,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return "stack";
  }

  recompute({ inputs }: RecomputeContext<StackIn>): JoinedOut {
    return [stackKernel(inputs.map(asNDArray), this.axis)];
  }

  // ydot = stack(xdot_0, ..., xdot_{k-1})
  override evaluateTlm({ inputs, tlmInputs }: TlmContext<StackIn, JoinedOut>): Seeds<JoinedOut> {
    return [
      stackKernel(
        inputs.map((x, i) => {
          const xdot = tlmInputs[i];
          return xdot === undefined ? zerosOf(x) : asNDArray(xdot);
        }),
        this.axis,
      ),
    ];
  }

  private pieces(inputs: StackIn, seed: NDArray | undefined, needed: readonly boolean[]): Seeds<StackIn> {
    if (seed === undefined) return inputs.map(() => undefined);
    const spec: (number | { start?: number })[] = new Array<{ start?: number }>(this.axis).fill({});
    return inputs.map((x, i) => {
      if (!needed[i]) return undefined;
      spec[this.axis] = i;
      return rawLike(x, sliceArray(seed, spec));
    });
  }

  // xbar_i = ybar[..., i, ...]
  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext<StackIn, JoinedOut>): Seeds<StackIn> {
    return this.pieces(inputs, adjInputs[0], needed);
  }

  // xhat_i = yhat[..., i, ...] (linear: no second-order term)
  override evaluateHessian({
    inputs,
    hessianInputs,
    needed,
  }: HessianContext<StackIn, JoinedOut>): Seeds<StackIn> {
    return this.pieces(inputs, hessianInputs[0], needed);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Piecewise selections: where and clip
// ---------------------------------------------------------------------------------------------------------

/** Three broadcast operands (where: condition, x1, x2; clip: a, lo, hi), each a number or an array. */
type SelectionIn = readonly [ArrayRaw, ArrayRaw, ArrayRaw];

/**
 * The adjoint of a broadcast selection for one operand: `seed` (output shape) where `choice == k`, zero
 * elsewhere, summed down to the operand's shape (a number operand takes the total).
 */
function selectedAdjoint(choice: Uint8Array, k: number, seed: NDArray, operand: ArrayRaw): ArrayRaw {
  const source = seed.data;
  const out = new Float64Array(source.length);
  for (let i = 0; i < out.length; i++) if (choice[i] === k) out[i] = source[i];
  return sumToRaw(new NDArray(out, seed.shape), operand);
}

/** The tangent of a broadcast selection: entry i is the tangent of operand `choice[i]` (zero when missing). */
function selectedTangent(
  choice: Uint8Array,
  tangents: readonly (ArrayRaw | undefined)[],
  shape: readonly number[],
): NDArray | undefined {
  const expanded: (Float64Array | undefined)[] = [];
  let any = false;
  for (const tangent of tangents) {
    if (tangent === undefined) expanded.push(undefined);
    else {
      any = true;
      expanded.push(broadcastTo(asNDArray(tangent), shape).data);
    }
  }
  if (!any) return undefined;
  const out = new Float64Array(choice.length);
  for (let i = 0; i < out.length; i++) {
    const source = expanded[choice[i]];
    if (source !== undefined) out[i] = source[i];
  }
  return new NDArray(out, shape);
}

/** The output of `where`: an array of the broadcast shape. */
type WhereOut = readonly [NDArray];

/**
 * y = where(c, x1, x2) with broadcasting. The condition c is the first dependency, without derivative: every
 * mode reads its current value, so a replay selects by the recomputed condition (a comparison recorded on the
 * tape follows the controls). TLM: ydot = where(c, x1dot, x2dot). Adjoint: cbar = 0,
 * x1bar = sum-to-shape(where(c, ybar, 0)), x2bar = sum-to-shape(where(c, 0, ybar)). Hessian: the same with
 * yhat (piecewise linear).
 *
 * @example
 * new WhereBlock(y.shape, [c.blockVariable, x.blockVariable, y.blockVariable], [output]);
 */
export class WhereBlock extends Block<SelectionIn, WhereOut> {
  constructor(
    /** The output shape (the broadcast shape of the three operands). */
    readonly shape: readonly number[],
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return "where";
  }

  /** For each output entry, 0 when it comes from the first operand, 1 from the second. */
  private choice(condition: ArrayRaw): Uint8Array {
    const expanded = broadcastTo(asNDArray(condition), this.shape).data;
    const choice = new Uint8Array(expanded.length);
    for (let i = 0; i < choice.length; i++) choice[i] = expanded[i] !== 0 ? 0 : 1;
    return choice;
  }

  recompute({ inputs: [c, x1, x2] }: RecomputeContext<SelectionIn>): WhereOut {
    return [whereKernel(asNDArray(c), asNDArray(x1), asNDArray(x2))];
  }

  // ydot = where(c, x1dot, x2dot)
  override evaluateTlm({
    inputs: [c],
    tlmInputs: [, x1dot, x2dot],
  }: TlmContext<SelectionIn, WhereOut>): Seeds<WhereOut> {
    return [selectedTangent(this.choice(c), [x1dot, x2dot], this.shape)];
  }

  private pullBack(
    [c, x1, x2]: SelectionIn,
    seed: NDArray | undefined,
    needed: readonly boolean[],
  ): Seeds<SelectionIn> {
    if (seed === undefined) return [undefined, undefined, undefined];
    const choice = this.choice(c);
    return [
      undefined,
      needed[1] ? selectedAdjoint(choice, 0, seed, x1) : undefined,
      needed[2] ? selectedAdjoint(choice, 1, seed, x2) : undefined,
    ];
  }

  // cbar = 0, x1bar = sum-to-shape(where(c, ybar, 0)), x2bar = sum-to-shape(where(c, 0, ybar))
  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext<SelectionIn, WhereOut>): Seeds<SelectionIn> {
    return this.pullBack(inputs, adjInputs[0], needed);
  }

  // the same with yhat (the selection does not depend on x1, x2; c has no derivative)
  override evaluateHessian({
    inputs,
    hessianInputs,
    needed,
  }: HessianContext<SelectionIn, WhereOut>): Seeds<SelectionIn> {
    return this.pullBack(inputs, hessianInputs[0], needed);
  }
}

/**
 * For each entry of the broadcast of `a`, `low`, `high` to `shape`: 0 when clip(a, low, high) takes `a`,
 * 1 when it takes `low` (a < low), 2 when it takes `high` (max(a, low) > high), as min(max(a, low), high).
 */
function clipChoice(a: NDArray, low: NDArray, high: NDArray, shape: readonly number[]): Uint8Array {
  const values = broadcastTo(a, shape).data;
  const lows = broadcastTo(low, shape).data;
  const highs = broadcastTo(high, shape).data;
  const choice = new Uint8Array(values.length);
  for (let i = 0; i < choice.length; i++) {
    let source = 0;
    let value = values[i];
    if (value < lows[i]) {
      source = 1;
      value = lows[i];
    }
    if (value > highs[i]) source = 2;
    choice[i] = source;
  }
  return choice;
}

/** The output of `clip`: a number when every operand is a scalar, else an array. */
type ClipOut = readonly [ArrayRaw];

/**
 * y = clip(a, lo, hi) = min(max(a, lo), hi) with broadcasting; all three may be recorded.
 * TLM: ydot = adot where lo <= a <= hi, lodot where a < lo, hidot where the upper bound applies.
 * Adjoint: each operand gets ybar where it was selected, summed to its shape. Hessian: the same with yhat
 * (piecewise linear: no second-order term away from the switching points).
 *
 * @example
 * new ClipBlock([a.blockVariable, lo.blockVariable, hi.blockVariable], [output]);
 */
export class ClipBlock extends Block<SelectionIn, ClipOut> {
  /** The output shape. */
  readonly shape: readonly number[];
  /** Whether the output's raw value is a number (an AdjFloat). */
  private readonly scalarOutput: boolean;

  constructor(dependencies: BlockVariable[], outputs: BlockVariable[]) {
    super(dependencies, outputs);
    const saved = outputs[0].saved;
    this.shape = saved instanceof NDArray ? saved.shape : [];
    this.scalarOutput = typeof saved === "number";
  }

  override get name(): string {
    return "clip";
  }

  private choice([a, lo, hi]: SelectionIn): Uint8Array {
    return clipChoice(asNDArray(a), asNDArray(lo), asNDArray(hi), this.shape);
  }

  private output(value: NDArray): ArrayRaw {
    return this.scalarOutput ? value.data[0] : value;
  }

  recompute({ inputs: [a, lo, hi] }: RecomputeContext<SelectionIn>): ClipOut {
    const values = broadcastTo(asNDArray(a), this.shape).data;
    const lows = broadcastTo(asNDArray(lo), this.shape).data;
    const highs = broadcastTo(asNDArray(hi), this.shape).data;
    const out = new Float64Array(values.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(values[i], lows[i]), highs[i]);
    return [this.output(new NDArray(out, this.shape))];
  }

  // ydot = the tangent of the selected operand, entry by entry
  override evaluateTlm({ inputs, tlmInputs }: TlmContext<SelectionIn, ClipOut>): Seeds<ClipOut> {
    const tangent = selectedTangent(this.choice(inputs), tlmInputs, this.shape);
    return [tangent === undefined ? undefined : this.output(tangent)];
  }

  private pullBack(
    inputs: SelectionIn,
    seed: ArrayRaw | undefined,
    needed: readonly boolean[],
  ): Seeds<SelectionIn> {
    if (seed === undefined) return [undefined, undefined, undefined];
    const choice = this.choice(inputs);
    const seedArray = asNDArray(seed);
    const [a, lo, hi] = inputs;
    return [
      needed[0] ? selectedAdjoint(choice, 0, seedArray, a) : undefined,
      needed[1] ? selectedAdjoint(choice, 1, seedArray, lo) : undefined,
      needed[2] ? selectedAdjoint(choice, 2, seedArray, hi) : undefined,
    ];
  }

  // operand k gets ybar where it was selected, summed to its shape
  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext<SelectionIn, ClipOut>): Seeds<SelectionIn> {
    return this.pullBack(inputs, adjInputs[0], needed);
  }

  // the same with yhat (piecewise linear)
  override evaluateHessian({
    inputs,
    hessianInputs,
    needed,
  }: HessianContext<SelectionIn, ClipOut>): Seeds<SelectionIn> {
    return this.pullBack(inputs, hessianInputs[0], needed);
  }
}

/**
 * @internal The broadcast shape of several shapes, with an error naming `np.<operation>`.
 * @example
 * broadcastShapeOf("where", [[2, 1], [3]]); // [2, 3]
 */
export function broadcastShapeOf(operation: string, shapes: readonly (readonly number[])[]): number[] {
  try {
    return broadcastShapesFor(`np.${operation}`, shapes);
  } catch (error) {
    if (error instanceof ShapeMismatchError) throw error;
    throw renamed(error, operation, shapes);
  }
}
