/**
 * @file Products as blocks: `matmul` (NumPy semantics: 1-D promotion, broadcast batch axes) and `trace`, with
 * their tangent-linear, adjoint and Hessian rules.
 */
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { NDArray, shapesEqual } from "../values/ndarray.js";
import { sumToShape } from "./kernels/broadcast.js";
import { matmul as matmulKernel, trace as traceKernel } from "./kernels/linalg.js";
import { matrixTranspose, scatterDiagonal } from "./kernels/shape.js";
import { plus, view } from "./linalg-helpers.js";

// ---------------------------------------------------------------------------------------------------------------
// matmul
// ---------------------------------------------------------------------------------------------------------------

/** One array (trace's input, the output of matmul and trace). */
type One = readonly [NDArray];
/** The two operands of a product. */
type Pair = readonly [NDArray, NDArray];

/** `a` as a stack of matrices: a 1-D left operand is a row [1, k], a 1-D right operand a column [k, 1]. */
function promoted(a: NDArray, left: boolean): NDArray {
  if (a.ndim !== 1) return a;
  return new NDArray(a.data, left ? [1, a.shape[0]] : [a.shape[0], 1]);
}

/** A seed of matmul's output shape viewed as `[...batch, m, n]` (the axes 1-D promotion removed put back). */
function promotedSeed(seed: NDArray, aNdim: number, bNdim: number): NDArray {
  const trailing = (aNdim > 1 ? 1 : 0) + (bNdim > 1 ? 1 : 0);
  const batch = seed.shape.slice(0, seed.ndim - trailing);
  const m = aNdim > 1 ? seed.shape[batch.length] : 1;
  const n = bNdim > 1 ? seed.shape[seed.ndim - 1] : 1;
  return view(seed, [...batch, m, n]);
}

/** abar = sum-to-shape(zbar b^T) (batch axes that `a` was broadcast along are summed). */
function matmulAdjointLeft(seed: NDArray, a: NDArray, b: NDArray): NDArray {
  const a2 = promoted(a, true);
  const product = matmulKernel(promotedSeed(seed, a.ndim, b.ndim), matrixTranspose(promoted(b, false)));
  const reduced = shapesEqual(product.shape, a2.shape) ? product : sumToShape(product, a2.shape);
  return view(reduced, a.shape);
}

/** bbar = sum-to-shape(a^T zbar). */
function matmulAdjointRight(seed: NDArray, a: NDArray, b: NDArray): NDArray {
  const b2 = promoted(b, false);
  const product = matmulKernel(matrixTranspose(promoted(a, true)), promotedSeed(seed, a.ndim, b.ndim));
  const reduced = shapesEqual(product.shape, b2.shape) ? product : sumToShape(product, b2.shape);
  return view(reduced, b.shape);
}

/**
 * z = a @ b with NumPy `matmul` semantics (1-D promotion, broadcast batch axes). Bilinear:
 * TLM: zdot = adot b + a bdot. Adjoint: abar = sum-to-shape(zbar b^T), bbar = sum-to-shape(a^T zbar).
 * Hessian: ahat = zhat b^T + zbar bdot^T, bhat = a^T zhat + adot^T zbar (each summed to the operand's shape).
 *
 * @example
 * recordBlock(new MatmulBlock([a.blockVariable, b.blockVariable], [output]));
 */
export class MatmulBlock extends Block<Pair, One> {
  override get name(): string {
    return "matmul";
  }

  recompute({ inputs: [a, b] }: RecomputeContext<Pair>): One {
    return [matmulKernel(a, b)];
  }

  override evaluateTlm({ inputs: [a, b], tlmInputs: [adot, bdot] }: TlmContext<Pair, One>): Seeds<One> {
    return [
      plus(
        adot === undefined ? undefined : matmulKernel(adot, b),
        bdot === undefined ? undefined : matmulKernel(a, bdot),
      ),
    ];
  }

  override evaluateAdj({ inputs: [a, b], adjInputs: [zbar], needed }: AdjContext<Pair, One>): Seeds<Pair> {
    if (zbar === undefined) return [undefined, undefined];
    return [
      needed[0] ? matmulAdjointLeft(zbar, a, b) : undefined,
      needed[1] ? matmulAdjointRight(zbar, a, b) : undefined,
    ];
  }

  override evaluateHessian({
    inputs: [a, b],
    adjInputs: [zbar],
    hessianInputs: [zhat],
    tlmInputs: [adot, bdot],
    needed,
  }: HessianContext<Pair, One>): Seeds<Pair> {
    // ahat = zhat b^T + zbar bdot^T; bhat = a^T zhat + adot^T zbar
    const ahat = needed[0]
      ? plus(
          zhat === undefined ? undefined : matmulAdjointLeft(zhat, a, b),
          zbar === undefined || bdot === undefined ? undefined : matmulAdjointLeft(zbar, a, bdot),
        )
      : undefined;
    const bhat = needed[1]
      ? plus(
          zhat === undefined ? undefined : matmulAdjointRight(zhat, a, b),
          zbar === undefined || adot === undefined ? undefined : matmulAdjointRight(zbar, adot, b),
        )
      : undefined;
    return [ahat, bhat];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// trace
// ---------------------------------------------------------------------------------------------------------------

/**
 * z = trace(a, offset, axis1, axis2): the sum along a diagonal. Linear:
 * TLM: zdot = trace(adot). Adjoint: abar = zbar placed on the diagonal. Hessian: ahat = zhat on the diagonal.
 *
 * @example
 * recordBlock(new TraceBlock(0, 0, 1, [a.blockVariable], [output]));
 */
export class TraceBlock extends Block<One, One> {
  constructor(
    readonly offset: number,
    /** First axis of the 2-D sub-arrays (normalized, non-negative). */
    readonly axis1: number,
    /** Second axis of the 2-D sub-arrays (normalized, non-negative). */
    readonly axis2: number,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return "trace";
  }

  recompute({ inputs: [a] }: RecomputeContext<One>): One {
    return [traceKernel(a, this.offset, this.axis1, this.axis2)];
  }

  override evaluateTlm({ tlmInputs: [adot] }: TlmContext<One, One>): Seeds<One> {
    return [adot === undefined ? undefined : traceKernel(adot, this.offset, this.axis1, this.axis2)];
  }

  override evaluateAdj({ inputs: [a], adjInputs: [zbar] }: AdjContext<One, One>): Seeds<One> {
    return [zbar === undefined ? undefined : this.adjoint(zbar, a)];
  }

  override evaluateHessian({ inputs: [a], hessianInputs: [zhat] }: HessianContext<One, One>): Seeds<One> {
    // linear: ahat = J^T zhat
    return [zhat === undefined ? undefined : this.adjoint(zhat, a)];
  }

  /** abar[..., i, i + offset, ...] = zbar[...] */
  private adjoint(seed: NDArray, a: NDArray): NDArray {
    const values = new NDArray(seed.data, [...seed.shape, 1]);
    return scatterDiagonal(a.shape, this.offset, this.axis1, this.axis2, values);
  }
}
