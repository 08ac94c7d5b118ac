/**
 * @file `np.linalg.solve`: y = A^-1 b for square (batched) dense matrices, with NumPy 2's conventions for b
 * (a 1-D b is one vector, otherwise b is columns `[..., n, k]`; batch axes broadcast). One LU factorization
 * per mode serves the solve and the transposed solve.
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
import { NDArray } from "../values/ndarray.js";
import { sumToShape } from "./kernels/broadcast.js";
import { add, subtract } from "./kernels/elementwise.js";
import { luFactor, luSolve, matmul, solve as solveKernel } from "./kernels/linalg.js";
import { transpose } from "./kernels/shape.js";
import { withOperation } from "./linalg.js";

const operation = "np.linalg.solve";

/** The inputs of a solve: the matrices A and the right-hand sides b. */
type In = readonly [NDArray, NDArray];
/** The solution y. */
type Out = readonly [NDArray];

/** The last two axes swapped. */
function swapLast(x: NDArray): NDArray {
  const permutation = x.shape.map((_, i) => i);
  const n = permutation.length;
  permutation[n - 1] = n - 2;
  permutation[n - 2] = n - 1;
  return transpose(x, permutation);
}

/**
 * y = solve(A, b). With everything in column form (a vector b as one column), Y = A^-1 B:
 * - TLM: Ydot = A^-1 (Bdot - Adot Y).
 * - Adjoint: Bbar = A^-T Ybar (summed to b's shape), Abar = -Bbar Y^T (summed to A's shape).
 * - Hessian: Bhat = A^-T (Yhat - Adot^T Bbar), Ahat = -Bhat Y^T - Bbar Ydot^T.
 *
 * @example
 * new DenseSolveBlock([A.blockVariable, b.blockVariable], [output]);
 */
export class DenseSolveBlock extends Block<In, Out> {
  /** Whether b is one vector (1-D): its result is `[..., n]`. */
  private readonly vector: boolean;

  constructor(dependencies: BlockVariable[], outputs: BlockVariable[]) {
    super(dependencies, outputs);
    const b = dependencies[1].saved;
    this.vector = b instanceof NDArray && b.ndim === 1;
  }

  override get name(): string {
    return "solve";
  }

  /** `x` (a b-like or y-like array) in column form. */
  private column(x: NDArray): NDArray {
    return this.vector ? new NDArray(x.data, [...x.shape, 1]) : x;
  }

  /** A column-form array back in the shape of `like`. */
  private back(x: NDArray, like: NDArray): NDArray {
    return sumToShape(this.vector ? new NDArray(x.data, x.shape.slice(0, -1)) : x, like.shape);
  }

  recompute({ inputs: [A, b] }: RecomputeContext<In>): Out {
    return [withOperation(operation, () => solveKernel(A, b))];
  }

  /** Ydot = A^-1 (Bdot - Adot Y) in column form, or undefined when both tangents are zero. */
  private tangent(
    A: NDArray,
    Y: NDArray,
    adot: NDArray | undefined,
    bdot: NDArray | undefined,
  ): NDArray | undefined {
    let rhs: NDArray | undefined = bdot === undefined ? undefined : this.column(bdot);
    if (adot !== undefined) {
      const product = matmul(adot, Y);
      rhs = rhs === undefined ? subtract(0, product) : subtract(rhs, product);
    }
    if (rhs === undefined) return undefined;
    const columns = rhs;
    return withOperation(operation, () => solveKernel(A, columns));
  }

  // ydot = A^-1 (bdot - Adot y)
  override evaluateTlm({
    inputs: [A],
    outputs: [y],
    tlmInputs: [adot, bdot],
  }: TlmContext<In, Out>): Seeds<Out> {
    const ydot = this.tangent(A, this.column(y), adot, bdot);
    return [ydot === undefined ? undefined : this.vector ? new NDArray(ydot.data, y.shape) : ydot];
  }

  /** Both adjoint parts in column form before reduction: Bbar = A^-T S and Abar = -Bbar Y^T. */
  private pull(A: NDArray, Y: NDArray, seed: NDArray): { bbar: NDArray; abar: NDArray } {
    const bbar = withOperation(operation, () => luSolve(luFactor(A), seed, true));
    const abar = subtract(0, matmul(bbar, swapLast(Y)));
    return { bbar, abar };
  }

  // bbar = A^-T ybar, Abar = -bbar y^T
  override evaluateAdj({
    inputs: [A, b],
    outputs: [y],
    adjInputs: [seed],
    needed,
  }: AdjContext<In, Out>): Seeds<In> {
    if (seed === undefined) return [undefined, undefined];
    const Y = this.column(y);
    const { bbar, abar } = this.pull(A, Y, this.column(seed));
    return [needed[0] ? sumToShape(abar, A.shape) : undefined, needed[1] ? this.back(bbar, b) : undefined];
  }

  // bhat = A^-T (yhat - Adot^T bbar), Ahat = -bhat y^T - bbar ydot^T
  override evaluateHessian({
    inputs: [A, b],
    outputs: [y],
    adjInputs: [seed],
    tlmInputs: [adot, bdot],
    hessianInputs: [yhat],
    needed,
  }: HessianContext<In, Out>): Seeds<In> {
    const Y = this.column(y);
    const factor = withOperation(operation, () => luFactor(A));
    const bbar = seed === undefined ? undefined : luSolve(factor, this.column(seed), true);
    let rhs: NDArray | undefined = yhat === undefined ? undefined : this.column(yhat);
    if (bbar !== undefined && adot !== undefined) {
      const correction = matmul(swapLast(adot), bbar);
      rhs = rhs === undefined ? subtract(0, correction) : subtract(rhs, correction);
    }
    const bhat = rhs === undefined ? undefined : withOperation(operation, () => luSolve(factor, rhs, true));
    let ahat: NDArray | undefined = bhat === undefined ? undefined : subtract(0, matmul(bhat, swapLast(Y)));
    if (bbar !== undefined) {
      const ydot = this.tangent(A, Y, adot, bdot);
      if (ydot !== undefined) {
        const term = subtract(0, matmul(bbar, swapLast(ydot)));
        ahat = ahat === undefined ? term : add(ahat, term);
      }
    }
    return [
      needed[0] && ahat !== undefined ? sumToShape(ahat, A.shape) : undefined,
      needed[1] && bhat !== undefined ? this.back(bhat, b) : undefined,
    ];
  }
}
