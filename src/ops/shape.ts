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
  type TlmContext,
} from "../tape/block.js";
import { BlockVariable } from "../tape/block-variable.js";
import { recordBlock } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import { type ArrayInput, array, formatShape, NDArray, shapeSize } from "../values/ndarray.js";
import { describeType } from "../values/space.js";
import { broadcastShapesFor, broadcastTo, sumToShape } from "./kernels/broadcast.js";
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
import { arrayOf, defineLinear, type LinearOperation } from "./linear.js";

// ---------------------------------------------------------------------------------------------------------
// Shared helpers (also used by src/ops/reduce.ts)
// ---------------------------------------------------------------------------------------------------------

/** What the array operations accept: plain numbers and nested arrays (constants), AdjFloats and NDArrays. */
export type ArrayOperand = ArrayInput | AdjFloat;

export { arrayOf } from "./linear.js";

/**
 * @internal `value` given back in the raw type of `template`: a number when the template is a number.
 * @example
 * rawLike(1.5, array(3)); // 3
 */
export function rawLike(template: unknown, value: NDArray): number | NDArray {
  return typeof template === "number" ? value.data[0] : value;
}

/**
 * @internal A zero array of the shape of the raw value `raw`.
 * @example
 * zerosOf(array([1, 2])).toArray(); // [0, 0]
 */
export function zerosOf(raw: unknown): NDArray {
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
  return value instanceof NDArray ? value : arrayOf(value.value);
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
 * @internal Records `block` built on `output` through `recordBlock` and links `result` to the tape through
 * `output` when it was recorded (while annotating). Returns `result`.
 * @example
 * const output = outputFor(y);
 * recordResult(y, output, new ReshapeBlock(x.shape, y.shape, [x.blockVariable], [output]));
 */
export function recordResult<T extends AdjFloat | NDArray>(
  result: T,
  output: BlockVariable,
  block: Block,
): T {
  if (recordBlock(block)) result._blockVariable = output;
  return result;
}

/**
 * @internal A new output variable for `result` (its raw value).
 * @example
 * const output = outputFor(y);
 */
export function outputFor(result: AdjFloat | NDArray): BlockVariable {
  return new BlockVariable(result.raw());
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
 * the one raw-level "sum back to shape" (the adjoint of broadcasting an operand), over the kernel
 * `sumToShape`.
 * @example
 * reduceToRaw(array([[1, 2], [3, 4]]), array([0, 0])).toArray(); // [4, 6]
 * reduceToRaw(array([1, 2]), 0); // 3
 */
export function reduceToRaw(value: NDArray, target: unknown): number | NDArray {
  if (typeof target === "number") {
    const data = value.data;
    let total = 0;
    for (let i = 0; i < data.length; i++) total += data[i];
    return total;
  }
  const shape = (target as NDArray).shape;
  return sumToShape(value, shape);
}

// ---------------------------------------------------------------------------------------------------------
// Linear single-input operations, declared through defineLinear (A and A^T; the four modes follow)
// ---------------------------------------------------------------------------------------------------------

/** A reshape under `name`: y = x viewed with the output shape; A^T: ybar viewed with the input shape. */
function reshapeNamed(name: string): LinearOperation<readonly number[]> {
  return defineLinear<readonly number[]>({
    name,
    apply: (x, shape) => new NDArray(x.data, shape),
    transpose: (y, _shape, inputShape) => new NDArray(y.data, inputShape),
    outputShape: (_inputShape, shape) => shape,
  });
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

/**
 * y = concatenate([x_0, ..., x_{k-1}], axis). TLM: ydot = concatenate(xdot_i) (zeros where a tangent is zero).
 * Adjoint: xbar_i = ybar[offset_i : offset_i + n_i] along axis. Hessian: the same slices of yhat.
 *
 * @example
 * new ConcatenateBlock(0, [a.blockVariable, b.blockVariable], [output]);
 */
export class ConcatenateBlock extends Block {
  /** Start of each input along the axis. */
  readonly offsets: readonly number[];

  constructor(
    readonly axis: number,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
    const offsets: number[] = [];
    let start = 0;
    for (const dependency of dependencies) {
      offsets.push(start);
      start += (dependency.saved as NDArray).shape[axis];
    }
    this.offsets = offsets;
  }

  override get name(): string {
    return "concatenate";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [concatenateKernel(inputs as readonly NDArray[], this.axis)];
  }

  // ydot = concatenate(xdot_0, ..., xdot_{k-1})
  override evaluateTlm({ inputs, tlmInputs }: TlmContext): readonly unknown[] {
    const parts = inputs.map((x, i) => (tlmInputs[i] as NDArray | undefined) ?? zerosOf(x));
    return [concatenateKernel(parts, this.axis)];
  }

  private pieces(inputs: readonly unknown[], seed: unknown, needed: readonly boolean[]): unknown[] {
    if (seed === undefined) return inputs.map(() => undefined);
    const spec = new Array<{ start?: number; stop?: number }>(this.axis + 1).fill({});
    return inputs.map((x, i) => {
      if (!needed[i]) return undefined;
      const start = this.offsets[i];
      spec[this.axis] = { start, stop: start + (x as NDArray).shape[this.axis] };
      return sliceArray(seed as NDArray, spec);
    });
  }

  // xbar_i = ybar[offset_i : offset_i + n_i] along axis
  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    return this.pieces(inputs, adjInputs[0], needed);
  }

  // xhat_i = yhat[offset_i : offset_i + n_i] along axis (linear: no second-order term)
  override evaluateHessian({ inputs, hessianInputs, needed }: HessianContext): readonly unknown[] {
    return this.pieces(inputs, hessianInputs[0], needed);
  }
}

/**
 * y = stack([x_0, ..., x_{k-1}], axis): y[..., i, ...] = x_i along a new axis (AdjFloat inputs are 0-d).
 * TLM: ydot = stack(xdot_i). Adjoint: xbar_i = ybar[..., i, ...]. Hessian: the same with yhat.
 *
 * @example
 * new StackBlock(0, [a.blockVariable, b.blockVariable], [output]);
 */
export class StackBlock extends Block {
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

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [stackKernel(inputs.map(arrayOf), this.axis)];
  }

  // ydot = stack(xdot_0, ..., xdot_{k-1})
  override evaluateTlm({ inputs, tlmInputs }: TlmContext): readonly unknown[] {
    return [
      stackKernel(
        inputs.map((x, i) => (tlmInputs[i] === undefined ? zerosOf(x) : arrayOf(tlmInputs[i]))),
        this.axis,
      ),
    ];
  }

  private pieces(inputs: readonly unknown[], seed: unknown, needed: readonly boolean[]): unknown[] {
    if (seed === undefined) return inputs.map(() => undefined);
    const spec: (number | { start?: number })[] = new Array<{ start?: number }>(this.axis).fill({});
    return inputs.map((x, i) => {
      if (!needed[i]) return undefined;
      spec[this.axis] = i;
      return rawLike(x, sliceArray(seed as NDArray, spec));
    });
  }

  // xbar_i = ybar[..., i, ...]
  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    return this.pieces(inputs, adjInputs[0], needed);
  }

  // xhat_i = yhat[..., i, ...] (linear: no second-order term)
  override evaluateHessian({ inputs, hessianInputs, needed }: HessianContext): readonly unknown[] {
    return this.pieces(inputs, hessianInputs[0], needed);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Piecewise selections: where and clip
// ---------------------------------------------------------------------------------------------------------

/**
 * The adjoint of a broadcast selection for one operand: `seed` (output shape) where `choice == k`, zero
 * elsewhere, summed down to the operand's shape (a number operand takes the total).
 */
function selectedAdjoint(choice: Uint8Array, k: number, seed: NDArray, operand: unknown): number | NDArray {
  const source = seed.data;
  const out = new Float64Array(source.length);
  for (let i = 0; i < out.length; i++) if (choice[i] === k) out[i] = source[i];
  return reduceToRaw(new NDArray(out, seed.shape), operand);
}

/** The tangent of a broadcast selection: entry i is the tangent of operand `choice[i]` (zero when missing). */
function selectedTangent(
  choice: Uint8Array,
  tangents: readonly unknown[],
  shape: readonly number[],
): NDArray | undefined {
  const expanded: (Float64Array | undefined)[] = [];
  let any = false;
  for (const tangent of tangents) {
    if (tangent === undefined) expanded.push(undefined);
    else {
      any = true;
      expanded.push(broadcastTo(arrayOf(tangent), shape).data);
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

/**
 * y = where(c, x1, x2) with broadcasting. The condition c is the first dependency, without derivative: every
 * mode reads its current value, so a replay selects by the recomputed condition (a comparison recorded on the
 * tape follows the controls). TLM: ydot = where(c, x1dot, x2dot). Adjoint: cbar = 0,
 * x1bar = sum-to-shape(where(c, ybar, 0)), x2bar = sum-to-shape(where(c, 0, ybar)). Hessian: the same with
 * yhat (piecewise linear).
 *
 * @example
 * new WhereBlock([c.blockVariable, x.blockVariable, y.blockVariable], [output]);
 */
export class WhereBlock extends Block {
  /** The output shape. */
  readonly shape: readonly number[];

  constructor(dependencies: BlockVariable[], outputs: BlockVariable[]) {
    super(dependencies, outputs);
    this.shape = (outputs[0].saved as NDArray).shape;
  }

  override get name(): string {
    return "where";
  }

  /** For each output entry, 0 when it comes from the first operand, 1 from the second. */
  private choice(condition: unknown): Uint8Array {
    const expanded = broadcastTo(arrayOf(condition), this.shape).data;
    const choice = new Uint8Array(expanded.length);
    for (let i = 0; i < choice.length; i++) choice[i] = expanded[i] !== 0 ? 0 : 1;
    return choice;
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [whereKernel(arrayOf(inputs[0]), arrayOf(inputs[1]), arrayOf(inputs[2]))];
  }

  // ydot = where(c, x1dot, x2dot)
  override evaluateTlm({ inputs, tlmInputs }: TlmContext): readonly unknown[] {
    return [selectedTangent(this.choice(inputs[0]), [tlmInputs[1], tlmInputs[2]], this.shape)];
  }

  private pullBack(inputs: readonly unknown[], seed: unknown, needed: readonly boolean[]): unknown[] {
    if (seed === undefined) return [undefined, undefined, undefined];
    const choice = this.choice(inputs[0]);
    return [
      undefined,
      needed[1] ? selectedAdjoint(choice, 0, seed as NDArray, inputs[1]) : undefined,
      needed[2] ? selectedAdjoint(choice, 1, seed as NDArray, inputs[2]) : undefined,
    ];
  }

  // cbar = 0, x1bar = sum-to-shape(where(c, ybar, 0)), x2bar = sum-to-shape(where(c, 0, ybar))
  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    return this.pullBack(inputs, adjInputs[0], needed);
  }

  // the same with yhat (the selection does not depend on x1, x2; c has no derivative)
  override evaluateHessian({ inputs, hessianInputs, needed }: HessianContext): readonly unknown[] {
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

/**
 * y = clip(a, lo, hi) = min(max(a, lo), hi) with broadcasting; all three may be recorded.
 * TLM: ydot = adot where lo <= a <= hi, lodot where a < lo, hidot where the upper bound applies.
 * Adjoint: each operand gets ybar where it was selected, summed to its shape. Hessian: the same with yhat
 * (piecewise linear: no second-order term away from the switching points).
 *
 * @example
 * new ClipBlock([a.blockVariable, lo.blockVariable, hi.blockVariable], [output]);
 */
export class ClipBlock extends Block {
  /** The output shape. */
  readonly shape: readonly number[];

  constructor(dependencies: BlockVariable[], outputs: BlockVariable[]) {
    super(dependencies, outputs);
    const saved = outputs[0].saved;
    this.shape = saved instanceof NDArray ? saved.shape : [];
  }

  override get name(): string {
    return "clip";
  }

  private choice(inputs: readonly unknown[]): Uint8Array {
    return clipChoice(arrayOf(inputs[0]), arrayOf(inputs[1]), arrayOf(inputs[2]), this.shape);
  }

  private output(value: NDArray): unknown {
    return typeof this.outputs[0].saved === "number" ? value.data[0] : value;
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    const values = broadcastTo(arrayOf(inputs[0]), this.shape).data;
    const lows = broadcastTo(arrayOf(inputs[1]), this.shape).data;
    const highs = broadcastTo(arrayOf(inputs[2]), this.shape).data;
    const out = new Float64Array(values.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(values[i], lows[i]), highs[i]);
    return [this.output(new NDArray(out, this.shape))];
  }

  // ydot = the tangent of the selected operand, entry by entry
  override evaluateTlm({ inputs, tlmInputs }: TlmContext): readonly unknown[] {
    const tangent = selectedTangent(this.choice(inputs), tlmInputs, this.shape);
    return [tangent === undefined ? undefined : this.output(tangent)];
  }

  private pullBack(inputs: readonly unknown[], seed: unknown, needed: readonly boolean[]): unknown[] {
    if (seed === undefined) return [undefined, undefined, undefined];
    const choice = this.choice(inputs);
    const seedArray = arrayOf(seed);
    return inputs.map((x, k) => (needed[k] ? selectedAdjoint(choice, k, seedArray, x) : undefined));
  }

  // operand k gets ybar where it was selected, summed to its shape
  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    return this.pullBack(inputs, adjInputs[0], needed);
  }

  // the same with yhat (piecewise linear)
  override evaluateHessian({ inputs, hessianInputs, needed }: HessianContext): readonly unknown[] {
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
