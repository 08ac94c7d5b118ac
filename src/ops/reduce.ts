/**
 * @file Reductions (sum, mean, prod, max, min, norm, cumsum): the linear ones (sum, mean, cumsum) declared
 * through `defineLinear`, the others one Block class per op with its four modes side by side. An AdjFloat
 * input or output is handled as a 0-d array.
 */
import { NonFiniteValueError } from "../errors.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { asNDArray, formatShape, NDArray } from "../values/ndarray.js";
import { broadcastTo } from "./kernels/broadcast.js";
import {
  cumsum as cumsumKernel,
  max as maxKernel,
  maxMask,
  mean as meanKernel,
  min as minKernel,
  minMask,
  norm as normKernel,
  prod as prodKernel,
  sum as sumKernel,
} from "./kernels/reduce.js";
import { inversePermutation, transpose as transposeKernel } from "./kernels/shape.js";
import { splitAtAxis } from "./kernels/strided.js";
import { defineLinear, transientLinear } from "./linear.js";
import type { ArrayRaw } from "./shape.js";

/**
 * The input shape with the reduced axes set to 1 (what keepdims gives).
 *
 * @example
 * keptShape([2, 3, 4], [0, 2]); // [1, 3, 1]
 */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  const kept = shape.slice();
  for (const axis of axes) kept[axis] = 1;
  return kept;
}

/** The parameters of `sum` and `mean`: the reduced axes, keepdims, and the input shape with them set to 1. */
export interface ReductionParams {
  readonly axes: readonly number[];
  readonly keepdims: boolean;
  /** The input shape with the reduced axes set to 1. */
  readonly keepShape: readonly number[];
}

/**
 * @internal The parameters of a sum or mean over `axes` of an input of shape `inputShape`.
 * @example
 * reductionParams([0], false, [2, 3]).keepShape; // [1, 3]
 */
export function reductionParams(
  axes: readonly number[],
  keepdims: boolean,
  inputShape: readonly number[],
): ReductionParams {
  return { axes, keepdims, keepShape: keptShape(inputShape, axes) };
}

/**
 * y = sum(x, axes). A^T: ybar repeated along the reduced axes.
 * TLM: ydot = sum(xdot, axes). Adjoint: xbar = broadcast(ybar). Hessian: xhat = broadcast(yhat).
 */
export const sumLinear = transientLinear(
  defineLinear<ReductionParams>({
    name: "sum",
    apply: (x, { axes, keepdims }) => sumKernel(x, axes, keepdims),
    transpose: (y, { keepShape }, inputShape) => broadcastTo(new NDArray(y.data, keepShape), inputShape),
  }),
);

/**
 * y = mean(x, axes) = sum(x, axes) / n with n the number of reduced entries.
 * TLM: ydot = mean(xdot, axes). Adjoint: xbar = broadcast(ybar) / n. Hessian: xhat = broadcast(yhat) / n.
 */
export const meanLinear = transientLinear(
  defineLinear<ReductionParams>({
    name: "mean",
    apply: (x, { axes, keepdims }) => meanKernel(x, axes, keepdims),
    // xbar = ybar / n repeated along the reduced axes
    transpose: (y, { axes, keepShape }, inputShape) => {
      let count = 1;
      for (const axis of axes) count *= inputShape[axis];
      const source = y.data;
      const scaled = new Float64Array(source.length);
      const inverse = 1 / count;
      for (let i = 0; i < scaled.length; i++) scaled[i] = source[i] * inverse;
      return broadcastTo(new NDArray(scaled, keepShape), inputShape);
    },
  }),
);

/**
 * y = cumsum(x, axis) (of the flattened x when axis is undefined). A^T: the reversed cumulative sum,
 * xbar_i = sum_{j >= i} ybar_j along the axis.
 */
export const cumsumLinear = transientLinear(
  defineLinear<number | undefined>({
    name: "cumsum",
    apply: (x, axis) => cumsumKernel(x, axis),
    transpose: (y, axis, inputShape) => {
      const shape = axis === undefined ? [y.size] : y.shape;
      const [outer, length, inner] = splitAtAxis(shape, axis ?? 0);
      const source = y.data;
      const out = new Float64Array(source.length);
      for (let o = 0; o < outer; o++) {
        const base = o * length * inner;
        const last = base + (length - 1) * inner;
        for (let i = 0; i < inner && length > 0; i++) out[last + i] = source[last + i];
        for (let k = length - 2; k >= 0; k--) {
          const row = base + k * inner;
          const next = row + inner;
          for (let i = 0; i < inner; i++) out[row + i] = out[next + i] + source[row + i];
        }
      }
      return new NDArray(out, inputShape);
    },
  }),
);

/** The input of a nonlinear reduction: an array, or a number (an AdjFloat, 0-d). */
export type ReductionIn = readonly [ArrayRaw];
/** Its output: an array, or a number when the result is an AdjFloat. */
export type ReductionOut = readonly [ArrayRaw];

/**
 * Shared layout of the nonlinear reductions: the reduced axes, the kept shape, and the conversions between
 * raw values (numbers for AdjFloats) and arrays.
 *
 * @example
 * class MyReduction extends NonlinearReductionBlock { ... }
 */
export abstract class NonlinearReductionBlock extends Block<ReductionIn, ReductionOut> {
  /** The input shape with the reduced axes set to 1. */
  readonly keepShape: readonly number[];
  /** Whether the dependency's raw value is a number (an AdjFloat). */
  protected readonly scalarInput: boolean;
  /** Whether the output's raw value is a number (an AdjFloat). */
  protected readonly scalarOutput: boolean;

  constructor(
    readonly axes: readonly number[],
    readonly keepdims: boolean,
    readonly inputShape: readonly number[],
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
    this.keepShape = keptShape(inputShape, axes);
    this.scalarInput = typeof dependencies[0].saved === "number";
    this.scalarOutput = typeof outputs[0].saved === "number";
  }

  /** Output-shaped values repeated along the reduced axes (input shape, flat; read only). */
  protected expand(values: ArrayRaw): Float64Array {
    return broadcastTo(new NDArray(asNDArray(values).data, this.keepShape), this.inputShape).data;
  }

  /** Input-shaped flat values summed over the reduced axes, as a raw output value. */
  protected reduced(data: Float64Array): ArrayRaw {
    const total = sumKernel(new NDArray(data, this.inputShape), this.axes, this.keepdims);
    return this.scalarOutput ? total.data[0] : total;
  }

  /** Input-shaped flat values as a raw input value. */
  protected asInput(data: Float64Array): ArrayRaw {
    return this.scalarInput ? data[0] : new NDArray(data, this.inputShape);
  }

  /** An array result as a raw output value. */
  protected asOutput(value: NDArray): ArrayRaw {
    return this.scalarOutput ? value.data[0] : value;
  }
}

/**
 * y = prod(x, axes). With P_i = prod_{j != i} x_j (prefix times suffix products, so zeros are exact) and
 * S_i = sum_{j != i} (prod_{k != i, j} x_k) xdot_j (its derivative along xdot):
 * TLM: ydot = sum_i P_i xdot_i. Adjoint: xbar_i = ybar P_i. Hessian: xhat_i = yhat P_i + ybar S_i.
 *
 * @example
 * new ProdBlock([0], false, [3], [x.blockVariable], [output]);
 */
export class ProdBlock extends NonlinearReductionBlock {
  /** Axis order putting the kept axes first and the reduced axes last. */
  private readonly permutation: number[];
  /** The inverse of `permutation`. */
  private readonly inverse: number[];
  /** The input shape in `permutation` order. */
  private readonly permutedShape: number[];
  /** Number of entries multiplied into each output entry. */
  private readonly rowLength: number;

  constructor(
    axes: readonly number[],
    keepdims: boolean,
    inputShape: readonly number[],
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(axes, keepdims, inputShape, dependencies, outputs);
    const kept: number[] = [];
    for (let i = 0; i < inputShape.length; i++) if (!axes.includes(i)) kept.push(i);
    this.permutation = [...kept, ...axes];
    this.inverse = inversePermutation(this.permutation);
    this.permutedShape = this.permutation.map((axis) => inputShape[axis]);
    let rowLength = 1;
    for (const axis of axes) rowLength *= inputShape[axis];
    this.rowLength = rowLength;
  }

  override get name(): string {
    return "prod";
  }

  /** The entries of an input-shaped raw value, one reduced slice per contiguous row. */
  private rows(raw: ArrayRaw): Float64Array {
    return transposeKernel(asNDArray(raw), this.permutation).data;
  }

  /** Row-ordered entries back in the input's axis order, as a raw input value. */
  private fromRows(data: Float64Array): ArrayRaw {
    return this.asInput(transposeKernel(new NDArray(data, this.permutedShape), this.inverse).data);
  }

  /** P_i = prod_{j != i} x_j for every row, from prefix and suffix products. */
  private others(x: Float64Array): Float64Array {
    const n = this.rowLength;
    const out = new Float64Array(x.length);
    for (let base = 0; base < x.length; base += n) {
      let prefix = 1;
      for (let i = 0; i < n; i++) {
        out[base + i] = prefix;
        prefix *= x[base + i];
      }
      let suffix = 1;
      for (let i = n - 1; i >= 0; i--) {
        out[base + i] *= suffix;
        suffix *= x[base + i];
      }
    }
    return out;
  }

  recompute({ inputs }: RecomputeContext<ReductionIn>): ReductionOut {
    return [this.asOutput(prodKernel(asNDArray(inputs[0]), this.axes, this.keepdims))];
  }

  // ydot = sum_i P_i xdot_i per reduced slice
  override evaluateTlm({ inputs, tlmInputs }: TlmContext<ReductionIn, ReductionOut>): Seeds<ReductionOut> {
    if (tlmInputs[0] === undefined) return [undefined];
    const others = this.others(this.rows(inputs[0]));
    const xdot = this.rows(tlmInputs[0]);
    const n = this.rowLength;
    const out = new Float64Array(n === 0 ? 0 : others.length / n);
    for (let r = 0, base = 0; r < out.length; r++, base += n) {
      let total = 0;
      for (let i = 0; i < n; i++) total += others[base + i] * xdot[base + i];
      out[r] = total;
    }
    return [this.asOutput(new NDArray(out, prodShape(this)))];
  }

  /** Row-ordered output seeds repeated over each row. */
  private seedRows(seed: ArrayRaw): Float64Array {
    const values = asNDArray(seed).data;
    const n = this.rowLength;
    const out = new Float64Array(values.length * n);
    for (let r = 0, base = 0; r < values.length; r++, base += n) out.fill(values[r], base, base + n);
    return out;
  }

  // xbar_i = ybar P_i
  override evaluateAdj({
    inputs,
    adjInputs,
    needed,
  }: AdjContext<ReductionIn, ReductionOut>): Seeds<ReductionIn> {
    if (adjInputs[0] === undefined || !needed[0]) return [undefined];
    const others = this.others(this.rows(inputs[0]));
    const seeds = this.seedRows(adjInputs[0]);
    for (let i = 0; i < others.length; i++) others[i] *= seeds[i];
    return [this.fromRows(others)];
  }

  // xhat_i = yhat P_i + ybar S_i, with S_i from forward-mode prefix and suffix products
  override evaluateHessian({
    inputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext<ReductionIn, ReductionOut>): Seeds<ReductionIn> {
    if (!needed[0]) return [undefined];
    const ybar = adjInputs[0];
    const yhat = hessianInputs[0];
    const xdotRaw = tlmInputs[0];
    const secondOrder = ybar !== undefined && xdotRaw !== undefined;
    if (yhat === undefined && !secondOrder) return [undefined];
    const x = this.rows(inputs[0]);
    const out = new Float64Array(x.length);
    if (yhat !== undefined) {
      const others = this.others(x);
      const seeds = this.seedRows(yhat);
      for (let i = 0; i < out.length; i++) out[i] = others[i] * seeds[i];
    }
    if (secondOrder) {
      const xdot = this.rows(xdotRaw);
      const seeds = this.seedRows(ybar);
      const n = this.rowLength;
      const prefixes = new Float64Array(n);
      const prefixDots = new Float64Array(n);
      for (let base = 0; base < x.length; base += n) {
        let prefix = 1;
        let prefixDot = 0;
        for (let i = 0; i < n; i++) {
          prefixes[i] = prefix;
          prefixDots[i] = prefixDot;
          prefixDot = prefixDot * x[base + i] + prefix * xdot[base + i];
          prefix *= x[base + i];
        }
        let suffix = 1;
        let suffixDot = 0;
        for (let i = n - 1; i >= 0; i--) {
          // S_i = d/dt [prefix_i suffix_i] along xdot
          out[base + i] += seeds[base + i] * (prefixDots[i] * suffix + prefixes[i] * suffixDot);
          suffixDot = suffixDot * x[base + i] + suffix * xdot[base + i];
          suffix *= x[base + i];
        }
      }
    }
    return [this.fromRows(out)];
  }
}

/** The output shape of a reduction block. */
function prodShape(block: NonlinearReductionBlock): number[] {
  if (block.keepdims) return block.keepShape.slice();
  return block.inputShape.filter((_, i) => !block.axes.includes(i));
}

/**
 * y = max(x, axes) or min(x, axes). With M the tie-splitting selector (1/k at each of the k extremal entries of
 * a slice, 0 elsewhere; `maxMask` / `minMask`):
 * TLM: ydot = sum(M xdot, axes). Adjoint: xbar = M broadcast(ybar). Hessian: xhat = M broadcast(yhat)
 * (the selection is locally constant: no second-order term).
 *
 * @example
 * new ExtremumBlock(true, [0], false, [3], [x.blockVariable], [output]);
 */
export class ExtremumBlock extends NonlinearReductionBlock {
  constructor(
    /** Whether this is `max` (else `min`). */
    readonly isMax: boolean,
    axes: readonly number[],
    keepdims: boolean,
    inputShape: readonly number[],
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(axes, keepdims, inputShape, dependencies, outputs);
  }

  override get name(): string {
    return this.isMax ? "max" : "min";
  }

  private mask(x: ArrayRaw): Float64Array {
    const array = asNDArray(x);
    return (this.isMax ? maxMask(array, this.axes) : minMask(array, this.axes)).data;
  }

  recompute({ inputs }: RecomputeContext<ReductionIn>): ReductionOut {
    const x = asNDArray(inputs[0]);
    return [this.asOutput((this.isMax ? maxKernel : minKernel)(x, this.axes, this.keepdims))];
  }

  // ydot = sum(M xdot, axes)
  override evaluateTlm({ inputs, tlmInputs }: TlmContext<ReductionIn, ReductionOut>): Seeds<ReductionOut> {
    if (tlmInputs[0] === undefined) return [undefined];
    const mask = this.mask(inputs[0]);
    const xdot = asNDArray(tlmInputs[0]).data;
    const out = new Float64Array(mask.length);
    for (let i = 0; i < out.length; i++) out[i] = mask[i] * xdot[i];
    return [this.reduced(out)];
  }

  private pullBack(x: ArrayRaw, seed: ArrayRaw): ArrayRaw {
    const mask = this.mask(x);
    const seeds = this.expand(seed);
    const out = new Float64Array(mask.length);
    for (let i = 0; i < out.length; i++) out[i] = mask[i] * seeds[i];
    return this.asInput(out);
  }

  // xbar = M broadcast(ybar)
  override evaluateAdj({
    inputs,
    adjInputs,
    needed,
  }: AdjContext<ReductionIn, ReductionOut>): Seeds<ReductionIn> {
    if (adjInputs[0] === undefined || !needed[0]) return [undefined];
    return [this.pullBack(inputs[0], adjInputs[0])];
  }

  // xhat = M broadcast(yhat)
  override evaluateHessian({
    inputs,
    hessianInputs,
    needed,
  }: HessianContext<ReductionIn, ReductionOut>): Seeds<ReductionIn> {
    if (hessianInputs[0] === undefined || !needed[0]) return [undefined];
    return [this.pullBack(inputs[0], hessianInputs[0])];
  }
}

/**
 * y = norm(x, axes) = sqrt(sum(x^2, axes)) (vector 2-norm, Frobenius norm over two axes). Per slice:
 * TLM: ydot = <x, xdot> / y. Adjoint: xbar = x ybar / y.
 * Hessian: xhat = x yhat / y + ybar (xdot - x ydot / y) / y.
 * At y = 0 the derivative does not exist: asking for one there (with a non-zero seed on that slice) throws
 * NonFiniteValueError.
 *
 * @example
 * new NormBlock([0], false, [3], [x.blockVariable], [output]);
 */
export class NormBlock extends NonlinearReductionBlock {
  override get name(): string {
    return "norm";
  }

  recompute({ inputs }: RecomputeContext<ReductionIn>): ReductionOut {
    return [this.asOutput(normKernel(asNDArray(inputs[0]), this.axes, this.keepdims))];
  }

  /** Throws when a norm is exactly zero where `seed` (output- or input-shaped data, per `perInput`) is not. */
  private checkNonZero(norms: Float64Array, seed: Float64Array, mode: string): void {
    for (let i = 0; i < norms.length; i++) {
      if (norms[i] === 0 && seed[i] !== 0) {
        throw new NonFiniteValueError(
          "np.norm",
          `the ${mode} of the 2-norm is undefined at the zero vector (input shape ${formatShape(this.inputShape)}, ` +
            `reduced axes ${formatShape(this.axes)}); keep the argument away from zero, e.g. sqrt(sum(x**2) + eps)`,
        );
      }
    }
  }

  // ydot = <x, xdot> / y per slice
  override evaluateTlm({
    inputs,
    outputs,
    tlmInputs,
  }: TlmContext<ReductionIn, ReductionOut>): Seeds<ReductionOut> {
    if (tlmInputs[0] === undefined) return [undefined];
    const x = asNDArray(inputs[0]).data;
    const xdot = asNDArray(tlmInputs[0]).data;
    const norms = this.expand(outputs[0]);
    const squares = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) squares[i] = xdot[i] * xdot[i];
    this.checkNonZero(norms, squares, "tangent-linear derivative");
    const out = new Float64Array(x.length);
    for (let i = 0; i < out.length; i++) if (xdot[i] !== 0) out[i] = (x[i] * xdot[i]) / norms[i];
    return [this.reduced(out)];
  }

  // xbar = x ybar / y
  override evaluateAdj({
    inputs,
    outputs,
    adjInputs,
    needed,
  }: AdjContext<ReductionIn, ReductionOut>): Seeds<ReductionIn> {
    if (adjInputs[0] === undefined || !needed[0]) return [undefined];
    const x = asNDArray(inputs[0]).data;
    const norms = this.expand(outputs[0]);
    const seeds = this.expand(adjInputs[0]);
    this.checkNonZero(norms, seeds, "adjoint derivative");
    const out = new Float64Array(x.length);
    for (let i = 0; i < out.length; i++) if (seeds[i] !== 0) out[i] = (x[i] * seeds[i]) / norms[i];
    return [this.asInput(out)];
  }

  // xhat = x yhat / y + ybar (xdot - x ydot / y) / y, ydot = <x, xdot> / y
  override evaluateHessian({
    inputs,
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext<ReductionIn, ReductionOut>): Seeds<ReductionIn> {
    if (!needed[0]) return [undefined];
    const ybar = adjInputs[0];
    const yhat = hessianInputs[0];
    const secondOrder = ybar !== undefined && tlmInputs[0] !== undefined;
    if (yhat === undefined && !secondOrder) return [undefined];
    const x = asNDArray(inputs[0]).data;
    const norms = this.expand(outputs[0]);
    const out = new Float64Array(x.length);
    if (yhat !== undefined) {
      const seeds = this.expand(yhat);
      this.checkNonZero(norms, seeds, "second-order adjoint");
      for (let i = 0; i < out.length; i++) if (seeds[i] !== 0) out[i] = (x[i] * seeds[i]) / norms[i];
    }
    if (secondOrder) {
      const xdot = asNDArray(tlmInputs[0]).data;
      const seeds = this.expand(ybar);
      this.checkNonZero(norms, seeds, "second-order adjoint");
      const products = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) products[i] = x[i] * xdot[i];
      // ydot / y per slice, repeated over the slice
      const reducedProducts = sumKernel(new NDArray(products, this.inputShape), this.axes, true);
      const rates = broadcastTo(reducedProducts, this.inputShape).data;
      for (let i = 0; i < out.length; i++) {
        if (seeds[i] === 0) continue;
        const norm = norms[i];
        out[i] += (seeds[i] * (xdot[i] - (x[i] * rates[i]) / (norm * norm))) / norm;
      }
    }
    return [this.asInput(out)];
  }
}
