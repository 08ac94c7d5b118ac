/**
 * @file Reductions of `tsadjoint/numpy`: sum, mean, prod, max, min, norm, cumsum, with NumPy's `axis`
 * (a number, a list, negative allowed, `undefined`/`null` for all axes) and `keepdims`, positionally or as an
 * options object. Result types: a reduction of an NDArray (or nested array) is an NDArray (0-d for a full
 * reduction); a reduction of an AdjFloat is an AdjFloat (it is 0-d, so only `axis` undefined, `null` or `[]`
 * are valid); a reduction of a plain number is a plain number (nothing recorded). `cumsum` always gives an
 * NDArray (1-D for `axis` undefined, like NumPy).
 */
import { InvalidArgumentError } from "../errors.js";
import {
  cumsum as cumsumKernel,
  max as maxKernel,
  mean as meanKernel,
  min as minKernel,
  norm as normKernel,
  prod as prodKernel,
  sum as sumKernel,
} from "../ops/kernels/reduce.js";
import {
  cumsumLinear,
  ExtremumBlock,
  meanLinear,
  NormBlock,
  ProdBlock,
  reductionParams,
  sumLinear,
} from "../ops/reduce.js";
import {
  type ArrayOperand,
  isOptionsArgument,
  renamed,
  resolveAxes,
  resolveAxis,
  toOverloaded,
  valueArray,
} from "../ops/shape.js";
import { checkedTape, onTape } from "../ops/tape-option.js";
import { checkOptions } from "../options.js";
import { annotating } from "../tape/annotation.js";
import type { Block } from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { record } from "../tape/record.js";
import type { Tape, TapeOption } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import type { Axis, NDArray } from "../values/ndarray.js";
import { describeType } from "../values/space.js";

export type { ArrayOperand } from "../ops/shape.js";

/** An axis argument of a reduction: one axis, a list, or `undefined` / `null` for all axes. */
export type ReduceAxis = Axis | null;

/** Keyword arguments of a reduction (NumPy's `axis=`, `keepdims=`). */
export interface ReduceOptions extends TapeOption {
  /** Axis or axes to reduce (negative counts from the end); all axes when undefined or null. */
  axis?: ReduceAxis;
  /** Keep the reduced axes as size-1 axes (default false). */
  keepdims?: boolean;
}

/** Keyword arguments of `norm` (NumPy's `ord=`, `axis=`, `keepdims=`). */
export interface NormOptions extends ReduceOptions {
  /** `undefined`/`null` (2-norm of vectors, Frobenius over two axes), `2` (one axis) or `"fro"` (two axes). */
  ord?: NormOrder;
}

/** The norm orders `norm` supports. */
export type NormOrder = 2 | "fro" | null | undefined;

/** What a reduction returns: a number for a number, an AdjFloat for an AdjFloat, an NDArray otherwise. */
export type ReductionResult<A> = A extends number ? number : A extends AdjFloat ? AdjFloat : NDArray;

type ReductionKind = "sum" | "mean" | "prod" | "max" | "min" | "norm";

function reductionValues(kind: ReductionKind, x: NDArray, axes: number[], keepdims: boolean): NDArray {
  switch (kind) {
    case "sum":
      return sumKernel(x, axes, keepdims);
    case "mean":
      return meanKernel(x, axes, keepdims);
    case "prod":
      return prodKernel(x, axes, keepdims);
    case "max":
      return maxKernel(x, axes, keepdims);
    case "min":
      return minKernel(x, axes, keepdims);
    case "norm":
      return normKernel(x, axes, keepdims);
  }
}

function reductionBlock(
  kind: Exclude<ReductionKind, "sum" | "mean">,
  axes: number[],
  keepdims: boolean,
  shape: readonly number[],
  dependencies: BlockVariable[],
  outputs: BlockVariable[],
): Block {
  switch (kind) {
    case "prod":
      return new ProdBlock(axes, keepdims, shape, dependencies, outputs);
    case "max":
      return new ExtremumBlock(true, axes, keepdims, shape, dependencies, outputs);
    case "min":
      return new ExtremumBlock(false, axes, keepdims, shape, dependencies, outputs);
    case "norm":
      return new NormBlock(axes, keepdims, shape, dependencies, outputs);
  }
}

function checkKeepdims(operation: string, keepdims: unknown): boolean {
  if (keepdims === undefined) return false;
  if (typeof keepdims !== "boolean") {
    throw new InvalidArgumentError(
      `np.${operation}`,
      `keepdims must be true or false, got ${describeType(keepdims)}`,
    );
  }
  return keepdims;
}

function readReduceArguments(
  operation: string,
  axisOrOptions: ReduceAxis | ReduceOptions,
  keepdims: boolean | undefined,
): { axis: ReduceAxis; keepdims: boolean; tape: Tape | undefined } {
  if (isOptionsArgument<ReduceOptions, ReduceAxis>(axisOrOptions)) {
    if (keepdims !== undefined) {
      throw new InvalidArgumentError(
        `np.${operation}`,
        "keepdims given both in the options object and as a positional argument; give it once",
      );
    }
    const options = checkOptions(`np.${operation}`, axisOrOptions, ["axis", "keepdims", "tape"]);
    return {
      axis: options.axis,
      keepdims: checkKeepdims(operation, options.keepdims),
      tape: checkedTape(`np.${operation}`, options.tape),
    };
  }
  return { axis: axisOrOptions, keepdims: checkKeepdims(operation, keepdims), tape: undefined };
}

/** Validates, computes and records one reduction over the already resolved axes. */
function reduceOver(
  kind: ReductionKind,
  a: ArrayOperand,
  axis: ReduceAxis,
  keepdims: boolean,
): number | AdjFloat | NDArray {
  const value = toOverloaded(kind, a);
  const x = valueArray(value);
  const axes = resolveAxes(kind, axis, x.shape);
  let values: NDArray;
  try {
    values = reductionValues(kind, x, axes, keepdims);
  } catch (error) {
    throw renamed(error, kind, [x.shape]);
  }
  if (typeof a === "number") return values.data[0];
  const result = value instanceof AdjFloat ? new AdjFloat(values.data[0]) : values;
  if (!annotating()) return result;
  if (kind === "sum" || kind === "mean") {
    const linear = kind === "sum" ? sumLinear : meanLinear;
    return linear.record(value, result, reductionParams(axes, keepdims, x.shape));
  }
  record([value], [result], (dependencies, outputs) =>
    reductionBlock(kind, axes, keepdims, x.shape, dependencies, outputs),
  );
  return result;
}

function reduction(
  kind: ReductionKind,
  a: ArrayOperand,
  axisOrOptions: ReduceAxis | ReduceOptions,
  keepdimsArgument: boolean | undefined,
): number | AdjFloat | NDArray {
  const { axis, keepdims, tape } = readReduceArguments(kind, axisOrOptions, keepdimsArgument);
  return onTape(tape, () => reduceOver(kind, a, axis, keepdims));
}

/**
 * Sum of the entries over `axis` (all axes when omitted). Linear: TLM sums the tangent, the adjoint
 * broadcasts the seed back.
 *
 * @example
 * np.sum(x); // 0-d NDArray (AdjFloat for an AdjFloat x)
 * np.sum(x, 1, true); // same as np.sum(x, { axis: 1, keepdims: true })
 * np.sum(x, [0, -1]);
 */
export function sum<A extends ArrayOperand>(
  a: A,
  axis?: ReduceAxis | ReduceOptions,
  keepdims?: boolean,
): ReductionResult<A>;
export function sum(
  a: ArrayOperand,
  axis?: ReduceAxis | ReduceOptions,
  keepdims?: boolean,
): number | AdjFloat | NDArray {
  return reduction("sum", a, axis, keepdims);
}

/**
 * Arithmetic mean over `axis` (all axes when omitted). d mean / d x_i = 1/n on each reduced slice of n entries.
 *
 * @example
 * np.mean(x, 0);
 * np.mean(x, { axis: -1, keepdims: true });
 */
export function mean<A extends ArrayOperand>(
  a: A,
  axis?: ReduceAxis | ReduceOptions,
  keepdims?: boolean,
): ReductionResult<A>;
export function mean(
  a: ArrayOperand,
  axis?: ReduceAxis | ReduceOptions,
  keepdims?: boolean,
): number | AdjFloat | NDArray {
  return reduction("mean", a, axis, keepdims);
}

/**
 * Product over `axis` (all axes when omitted). d prod / d x_i = prod_{j != i} x_j, computed from prefix and
 * suffix products, so derivatives are exact when entries are zero.
 *
 * @example
 * np.prod(x, 1);
 */
export function prod<A extends ArrayOperand>(
  a: A,
  axis?: ReduceAxis | ReduceOptions,
  keepdims?: boolean,
): ReductionResult<A>;
export function prod(
  a: ArrayOperand,
  axis?: ReduceAxis | ReduceOptions,
  keepdims?: boolean,
): number | AdjFloat | NDArray {
  return reduction("prod", a, axis, keepdims);
}

/**
 * Maximum over `axis` (all axes when omitted). The derivative goes to the maximal entry; at ties it is split
 * evenly among the tied entries (as autograd).
 *
 * @example
 * np.max(x, -1);
 */
export function max<A extends ArrayOperand>(
  a: A,
  axis?: ReduceAxis | ReduceOptions,
  keepdims?: boolean,
): ReductionResult<A>;
export function max(
  a: ArrayOperand,
  axis?: ReduceAxis | ReduceOptions,
  keepdims?: boolean,
): number | AdjFloat | NDArray {
  return reduction("max", a, axis, keepdims);
}

/**
 * Minimum over `axis` (all axes when omitted). The derivative goes to the minimal entry; at ties it is split
 * evenly among the tied entries (as autograd).
 *
 * @example
 * np.min(x, { axis: 0, keepdims: true });
 */
export function min<A extends ArrayOperand>(
  a: A,
  axis?: ReduceAxis | ReduceOptions,
  keepdims?: boolean,
): ReductionResult<A>;
export function min(
  a: ArrayOperand,
  axis?: ReduceAxis | ReduceOptions,
  keepdims?: boolean,
): number | AdjFloat | NDArray {
  return reduction("min", a, axis, keepdims);
}

/** NumPy's alias of {@link max}. @example np.amax(x, 0) */
export const amax = max;
/** NumPy's alias of {@link min}. @example np.amin(x, 0) */
export const amin = min;

/**
 * The 2-norm `sqrt(sum(x**2, axis))` (NumPy's `np.linalg.norm` with `ord` undefined, `2` on one axis, or
 * `"fro"` on two axes). With `axis` undefined the whole array is one vector (Frobenius for a matrix). Matrix
 * norms other than Frobenius (e.g. the spectral norm, `ord=2` on a matrix) are not supported and throw.
 * d norm / d x = x / norm; at the zero vector the derivative does not exist and asking for it throws
 * NonFiniteValueError (never a silent NaN).
 *
 * @example
 * np.norm(x); // Frobenius / vector 2-norm, 0-d
 * np.norm(x, undefined, 1); // row norms; same as np.norm(x, { axis: 1 })
 */
export function norm<A extends ArrayOperand>(
  a: A,
  ord?: NormOrder | NormOptions,
  axis?: ReduceAxis,
  keepdims?: boolean,
): ReductionResult<A>;
export function norm(
  a: ArrayOperand,
  ord?: NormOrder | NormOptions,
  axis?: ReduceAxis,
  keepdims?: boolean,
): number | AdjFloat | NDArray {
  let order: NormOrder;
  let axisValue: ReduceAxis;
  let keep: boolean;
  let tape: Tape | undefined;
  if (isOptionsArgument<NormOptions, NormOrder>(ord)) {
    const options = checkOptions("np.norm", ord, ["ord", "axis", "keepdims", "tape"]);
    order = options.ord;
    axisValue = options.axis;
    keep = checkKeepdims("norm", options.keepdims);
    tape = checkedTape("np.norm", options.tape);
  } else {
    order = ord;
    axisValue = axis;
    keep = checkKeepdims("norm", keepdims);
  }
  if (order !== undefined && order !== null) {
    const ndim = valueArray(toOverloaded("norm", a)).ndim;
    const axisCount =
      axisValue === undefined || axisValue === null
        ? ndim
        : typeof axisValue === "number"
          ? 1
          : axisValue.length;
    if (order === 2 && axisCount !== 1) {
      throw new InvalidArgumentError(
        "np.norm",
        `ord=2 over ${axisCount} axes is the spectral (matrix) norm, which is not supported; use ord undefined or "fro" for the Frobenius norm`,
      );
    }
    if (order === "fro" && axisCount !== 2) {
      throw new InvalidArgumentError(
        "np.norm",
        `ord="fro" needs exactly two axes (a matrix), got ${axisCount}; use ord undefined for vectors`,
      );
    }
    if (order !== 2 && order !== "fro") {
      throw new InvalidArgumentError(
        "np.norm",
        `ord=${typeof order === "string" ? `"${order}"` : typeof order === "number" ? order : describeType(order)} is not supported; use undefined (2-norm / Frobenius), 2 (vectors) or "fro" (matrices)`,
      );
    }
  }
  return onTape(tape, () => reduceOver("norm", a, axisValue, keep));
}

/** Keyword arguments of `cumsum` (NumPy's `axis=`). */
export interface CumsumOptions extends TapeOption {
  /** The axis to accumulate along; the flattened array when undefined or null. */
  axis?: number | null;
}

/**
 * Cumulative sum along `axis` (of the flattened array, giving 1-D, when omitted). Always an NDArray (an AdjFloat
 * gives shape [1]). Linear: the adjoint is the reversed cumulative sum.
 *
 * @example
 * np.cumsum(x, 0);
 * np.cumsum(x, { axis: -1 });
 */
export function cumsum(a: ArrayOperand, axis?: number | null | CumsumOptions): NDArray {
  if (isOptionsArgument<CumsumOptions, number | null | undefined>(axis)) {
    const options = checkOptions("np.cumsum", axis, ["axis", "tape"]);
    return onTape(checkedTape("np.cumsum", options.tape), () => cumsumOn(a, options.axis));
  }
  return cumsumOn(a, axis);
}

function cumsumOn(a: ArrayOperand, axisValue: number | null | undefined): NDArray {
  const value = toOverloaded("cumsum", a);
  const x = valueArray(value);
  const resolved =
    axisValue === undefined || axisValue === null
      ? undefined
      : resolveAxis("cumsum", axisValue, x.ndim, x.shape);
  const result = cumsumKernel(x, resolved);
  return cumsumLinear.record(value, result, resolved);
}
