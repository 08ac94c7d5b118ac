import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
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
export class MatmulBlock extends Block {
  override get name(): string {
    return "matmul";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [matmulKernel(inputs[0] as NDArray, inputs[1] as NDArray)];
  }

  override evaluateTlm({ inputs, tlmInputs }: TlmContext): readonly unknown[] {
    const a = inputs[0] as NDArray;
    const b = inputs[1] as NDArray;
    const adot = tlmInputs[0] as NDArray | undefined;
    const bdot = tlmInputs[1] as NDArray | undefined;
    return [
      plus(
        adot === undefined ? undefined : matmulKernel(adot, b),
        bdot === undefined ? undefined : matmulKernel(a, bdot),
      ),
    ];
  }

  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    const zbar = adjInputs[0] as NDArray | undefined;
    if (zbar === undefined) return [undefined, undefined];
    const a = inputs[0] as NDArray;
    const b = inputs[1] as NDArray;
    return [
      needed[0] ? matmulAdjointLeft(zbar, a, b) : undefined,
      needed[1] ? matmulAdjointRight(zbar, a, b) : undefined,
    ];
  }

  override evaluateHessian({
    inputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext): readonly unknown[] {
    const a = inputs[0] as NDArray;
    const b = inputs[1] as NDArray;
    const zbar = adjInputs[0] as NDArray | undefined;
    const zhat = hessianInputs[0] as NDArray | undefined;
    const adot = tlmInputs[0] as NDArray | undefined;
    const bdot = tlmInputs[1] as NDArray | undefined;
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
export class TraceBlock extends Block {
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

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [traceKernel(inputs[0] as NDArray, this.offset, this.axis1, this.axis2)];
  }

  override evaluateTlm({ tlmInputs }: TlmContext): readonly unknown[] {
    const adot = tlmInputs[0] as NDArray | undefined;
    return [adot === undefined ? undefined : traceKernel(adot, this.offset, this.axis1, this.axis2)];
  }

  override evaluateAdj({ inputs, adjInputs }: AdjContext): readonly unknown[] {
    const zbar = adjInputs[0] as NDArray | undefined;
    return [zbar === undefined ? undefined : this.adjoint(zbar, inputs[0] as NDArray)];
  }

  override evaluateHessian({ inputs, hessianInputs }: HessianContext): readonly unknown[] {
    // linear: ahat = J^T zhat
    const zhat = hessianInputs[0] as NDArray | undefined;
    return [zhat === undefined ? undefined : this.adjoint(zhat, inputs[0] as NDArray)];
  }

  /** abar[..., i, i + offset, ...] = zbar[...] */
  private adjoint(seed: NDArray, a: NDArray): NDArray {
    const values = new NDArray(seed.data, [...seed.shape, 1]);
    return scatterDiagonal(a.shape, this.offset, this.axis1, this.axis2, values);
  }
}
