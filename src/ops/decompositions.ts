/**
 * @file Decompositions and solves on batches of square matrices as blocks (inv, det, slogdet, cholesky, solve_triangular): recompute, tangent-linear, adjoint and Hessian rules side by side.
 */
import { InvalidArgumentError } from "../errors.js";
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
import { add } from "./kernels/elementwise.js";
import {
  cholesky as choleskyKernel,
  det as detKernel,
  luFactor,
  luSolve,
  matmul as matmulKernel,
  slogdet as slogdetKernel,
  solveTriangular as solveTriangularKernel,
} from "./kernels/linalg.js";
import { matrixTranspose } from "./kernels/shape.js";
import { batchLabel, plus, view, withOperation } from "./linalg-helpers.js";

// ---------------------------------------------------------------------------------------------------------------
// Batched square-matrix helpers (inv, det, slogdet, cholesky)
// ---------------------------------------------------------------------------------------------------------------

/** One batch of matrices (the input or output of inv, det, cholesky; det's output is the batch of determinants). */
type Matrices = readonly [NDArray];
/** slogdet's outputs: the signs and the logs of |det|. */
type SignAndLog = readonly [NDArray, NDArray];
/** A triangular solve's inputs: the matrices and the right-hand sides. */
type MatricesAndRhs = readonly [NDArray, NDArray];

function identity(n: number): NDArray {
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return new NDArray(data, [n, n]);
}

/**
 * The inverse of every matrix in the last two axes, or an InvalidArgumentError naming `operation` when one is
 * singular (`purpose` says why the inverse was needed).
 *
 * @example
 * inverseOrThrow(a, "np.linalg.det", "the derivative of det needs A^-1");
 */
export function inverseOrThrow(a: NDArray, operation: string, purpose: string): NDArray {
  const factor = luFactor(a);
  for (let batch = 0; batch < factor.singular.length; batch++) {
    if (factor.singular[batch]) {
      throw new InvalidArgumentError(
        operation,
        `the matrix of shape [${a.shape.slice(-2).join(", ")}]${batchLabel(factor.batchShape, batch)} is singular: ${purpose}`,
      );
    }
  }
  return luSolve(factor, identity(factor.n));
}

/** Multiplies the b-th matrix of a batch by factors[b]. */
function scaleMatrices(x: NDArray, factors: Float64Array): NDArray {
  const block = x.size / Math.max(factors.length, 1);
  const out = new Float64Array(x.size);
  const data = x.data;
  for (let b = 0; b < factors.length; b++) {
    const factor = factors[b];
    const base = b * block;
    for (let k = 0; k < block; k++) out[base + k] = data[base + k] * factor;
  }
  return new NDArray(out, x.shape);
}

/** tr(X Y) for every pair of n x n matrices of two batches: sum_ij X_ij Y_ji. */
function traceOfProducts(x: NDArray, y: NDArray): Float64Array {
  const n = x.shape[x.ndim - 1];
  const block = n * n;
  const count = block === 0 ? 0 : x.size / block;
  const out = new Float64Array(count);
  const xs = x.data;
  const ys = y.data;
  for (let b = 0; b < count; b++) {
    const base = b * block;
    let total = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) total += xs[base + i * n + j] * ys[base + j * n + i];
    out[b] = total;
  }
  return out;
}

/** (X + X^T) / 2 for every matrix of a batch. */
function symmetrize(x: NDArray): NDArray {
  const n = x.shape[x.ndim - 1];
  const block = n * n;
  const out = new Float64Array(x.size);
  const data = x.data;
  for (let base = 0; base < out.length; base += block) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++)
        out[base + i * n + j] = 0.5 * (data[base + i * n + j] + data[base + j * n + i]);
    }
  }
  return new NDArray(out, x.shape);
}

/** Phi(X): the lower triangle of every matrix with its diagonal halved. Self-adjoint. */
function phi(x: NDArray): NDArray {
  const n = x.shape[x.ndim - 1];
  const block = n * n;
  const out = new Float64Array(x.size);
  const data = x.data;
  for (let base = 0; base < out.length; base += block) {
    for (let i = 0; i < n; i++) {
      const row = base + i * n;
      for (let j = 0; j < i; j++) out[row + j] = data[row + j];
      out[row + i] = 0.5 * data[row + i];
    }
  }
  return new NDArray(out, x.shape);
}

// ---------------------------------------------------------------------------------------------------------------
// inv
// ---------------------------------------------------------------------------------------------------------------

/**
 * Y = A^-1 for every matrix in the last two axes.
 * TLM: Ydot = -Y Adot Y. Adjoint: Abar = -Y^T Ybar Y^T.
 * Hessian: Ahat = -Y^T Yhat Y^T - (Ydot^T Ybar Y^T + Y^T Ybar Ydot^T), with Ydot = -Y Adot Y.
 *
 * @example
 * recordBlock(new InvBlock([a.blockVariable], [output]));
 */
export class InvBlock extends Block<Matrices, Matrices> {
  override get name(): string {
    return "inv";
  }

  recompute({ inputs: [a] }: RecomputeContext<Matrices>): Matrices {
    return [inverseOrThrow(a, "np.linalg.inv", "it has no inverse")];
  }

  override evaluateTlm({ outputs: [y], tlmInputs: [adot] }: TlmContext<Matrices, Matrices>): Seeds<Matrices> {
    if (adot === undefined) return [undefined];
    return [negated(matmulKernel(matmulKernel(y, adot), y))];
  }

  override evaluateAdj({ outputs: [y], adjInputs: [ybar] }: AdjContext<Matrices, Matrices>): Seeds<Matrices> {
    if (ybar === undefined) return [undefined];
    const yT = matrixTranspose(y);
    return [negated(matmulKernel(matmulKernel(yT, ybar), yT))];
  }

  override evaluateHessian({
    outputs: [y],
    adjInputs: [ybar],
    hessianInputs: [yhat],
    tlmInputs: [adot],
  }: HessianContext<Matrices, Matrices>): Seeds<Matrices> {
    const yT = matrixTranspose(y);
    // Ahat = -(Y^T Yhat Y^T) - (Ydot^T Ybar Y^T + Y^T Ybar Ydot^T)
    let total = yhat === undefined ? undefined : matmulKernel(matmulKernel(yT, yhat), yT);
    if (ybar !== undefined && adot !== undefined) {
      const ydotT = matrixTranspose(negated(matmulKernel(matmulKernel(y, adot), y)));
      total = plus(total, matmulKernel(matmulKernel(ydotT, ybar), yT));
      total = plus(total, matmulKernel(matmulKernel(yT, ybar), ydotT));
    }
    return [total === undefined ? undefined : negated(total)];
  }
}

function negated(x: NDArray): NDArray {
  const out = new Float64Array(x.size);
  const data = x.data;
  for (let i = 0; i < out.length; i++) out[i] = -data[i];
  return new NDArray(out, x.shape);
}

// ---------------------------------------------------------------------------------------------------------------
// det and slogdet
// ---------------------------------------------------------------------------------------------------------------

/** Entry-by-entry product of two per-matrix factor arrays. */
function times(x: Float64Array, y: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = x[i] * y[i];
  return out;
}

/** (A^-1 Adot A^-1)^T for every matrix. */
function inverseDerivativeTransposed(inverse: NDArray, adot: NDArray): NDArray {
  return matrixTranspose(matmulKernel(matmulKernel(inverse, adot), inverse));
}

/**
 * d = det(A) for every matrix in the last two axes (output: the batch shape).
 * TLM: ddot = d tr(A^-1 Adot). Adjoint: Abar = dbar d A^-T.
 * Hessian: Ahat = dhat d A^-T + dbar (ddot A^-T - d (A^-1 Adot A^-1)^T).
 * The derivatives need A^-1: at a singular matrix they throw an InvalidArgumentError.
 *
 * @example
 * recordBlock(new DetBlock([a.blockVariable], [output]));
 */
export class DetBlock extends Block<Matrices, Matrices> {
  override get name(): string {
    return "det";
  }

  recompute({ inputs: [a] }: RecomputeContext<Matrices>): Matrices {
    return [detKernel(a)];
  }

  private inverse(a: NDArray): NDArray {
    return inverseOrThrow(a, "np.linalg.det", "the derivative of det is computed with A^-1");
  }

  override evaluateTlm({
    inputs: [a],
    outputs: [d],
    tlmInputs: [adot],
  }: TlmContext<Matrices, Matrices>): Seeds<Matrices> {
    if (adot === undefined) return [undefined];
    const traces = traceOfProducts(this.inverse(a), adot);
    return [new NDArray(times(d.data, traces), d.shape)];
  }

  override evaluateAdj({
    inputs: [a],
    outputs: [d],
    adjInputs: [dbar],
  }: AdjContext<Matrices, Matrices>): Seeds<Matrices> {
    if (dbar === undefined) return [undefined];
    const inverseT = matrixTranspose(this.inverse(a));
    return [scaleMatrices(inverseT, times(dbar.data, d.data))];
  }

  override evaluateHessian({
    inputs: [a],
    outputs: [output],
    adjInputs: [dbar],
    hessianInputs: [dhat],
    tlmInputs: [adot],
  }: HessianContext<Matrices, Matrices>): Seeds<Matrices> {
    if (dhat === undefined && (dbar === undefined || adot === undefined)) return [undefined];
    const d = output.data;
    const inverse = this.inverse(a);
    const inverseT = matrixTranspose(inverse);
    // coefficient of A^-T: dhat d + dbar ddot, with ddot = d tr(A^-1 Adot)
    const coefficient = new Float64Array(d.length);
    if (dhat !== undefined) for (let b = 0; b < d.length; b++) coefficient[b] = dhat.data[b] * d[b];
    if (dbar === undefined || adot === undefined) return [scaleMatrices(inverseT, coefficient)];
    const traces = traceOfProducts(inverse, adot);
    const curvature = new Float64Array(d.length);
    for (let b = 0; b < d.length; b++) {
      coefficient[b] += dbar.data[b] * d[b] * traces[b];
      curvature[b] = -dbar.data[b] * d[b];
    }
    // ... - dbar d (A^-1 Adot A^-1)^T
    return [
      add(
        scaleMatrices(inverseT, coefficient),
        scaleMatrices(inverseDerivativeTransposed(inverse, adot), curvature),
      ),
    ];
  }
}

/**
 * (sign, l) = slogdet(A) with l = log|det A| for every matrix in the last two axes; outputs [sign, logabsdet].
 * The sign is piecewise constant (zero derivative). For l:
 * TLM: ldot = tr(A^-1 Adot). Adjoint: Abar = lbar A^-T. Hessian: Ahat = lhat A^-T - lbar (A^-1 Adot A^-1)^T.
 *
 * @example
 * recordBlock(new SlogdetBlock([a.blockVariable], [signOutput, logOutput]));
 */
export class SlogdetBlock extends Block<Matrices, SignAndLog> {
  override get name(): string {
    return "slogdet";
  }

  recompute({ inputs: [a] }: RecomputeContext<Matrices>): SignAndLog {
    const { sign, logAbsDet } = slogdetKernel(a);
    return [sign, logAbsDet];
  }

  private inverse(a: NDArray): NDArray {
    return inverseOrThrow(a, "np.linalg.slogdet", "the derivative of log|det| is computed with A^-1");
  }

  override evaluateTlm({
    inputs: [a],
    outputs: [, logAbsDet],
    tlmInputs: [adot],
  }: TlmContext<Matrices, SignAndLog>): Seeds<SignAndLog> {
    if (adot === undefined) return [undefined, undefined];
    return [undefined, new NDArray(traceOfProducts(this.inverse(a), adot), logAbsDet.shape)];
  }

  override evaluateAdj({
    inputs: [a],
    adjInputs: [, lbar],
  }: AdjContext<Matrices, SignAndLog>): Seeds<Matrices> {
    if (lbar === undefined) return [undefined];
    return [scaleMatrices(matrixTranspose(this.inverse(a)), lbar.data)];
  }

  override evaluateHessian({
    inputs: [a],
    adjInputs: [, lbar],
    hessianInputs: [, lhat],
    tlmInputs: [adot],
  }: HessianContext<Matrices, SignAndLog>): Seeds<Matrices> {
    if (lhat === undefined && (lbar === undefined || adot === undefined)) return [undefined];
    const inverse = this.inverse(a);
    let total = lhat === undefined ? undefined : scaleMatrices(matrixTranspose(inverse), lhat.data);
    if (lbar !== undefined && adot !== undefined) {
      const factors = new Float64Array(lbar.size);
      for (let b = 0; b < factors.length; b++) factors[b] = -lbar.data[b];
      // - lbar (A^-1 Adot A^-1)^T
      total = plus(total, scaleMatrices(inverseDerivativeTransposed(inverse, adot), factors));
    }
    return [total];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// cholesky
// ---------------------------------------------------------------------------------------------------------------

/** L^-1 for lower-triangular L (batched). */
function lowerInverse(lower: NDArray): NDArray {
  const n = lower.shape[lower.ndim - 1];
  return solveTriangularKernel(lower, identity(n), { lower: true });
}

/** Ldot = L Phi(M sym(Adot) M^T) with M = L^-1. */
function choleskyTangent(lower: NDArray, lowerInv: NDArray, adot: NDArray): NDArray {
  const projected = matmulKernel(matmulKernel(lowerInv, symmetrize(adot)), matrixTranspose(lowerInv));
  return matmulKernel(lower, phi(projected));
}

/** P = M^T Phi(L^T Lbar) M (the adjoint before symmetrization), M = L^-1. */
function choleskyAdjointCore(lower: NDArray, lowerInv: NDArray, lbar: NDArray): NDArray {
  const middle = phi(matmulKernel(matrixTranspose(lower), lbar));
  return matmulKernel(matmulKernel(matrixTranspose(lowerInv), middle), lowerInv);
}

/**
 * L = cholesky(A), lower triangular with L L^T = A, for every matrix in the last two axes. The input is treated
 * as symmetric: the derivatives are those of A -> cholesky((A + A^T) / 2), i.e. with respect to symmetric
 * perturbations (the kernel itself reads only the lower triangle of A). With M = L^-1 and
 * Phi(X) = lower triangle of X with its diagonal halved:
 * TLM: Ldot = L Phi(M sym(Adot) M^T). Adjoint: Abar = sym(M^T Phi(L^T Lbar) M).
 * Hessian: Ahat = sym(M^T Phi(L^T Lhat) M) + sym(Pdot), where P = M^T Q M, Q = Phi(L^T Lbar),
 * Pdot = Mdot^T Q M + M^T Phi(Ldot^T Lbar) M + M^T Q Mdot, Mdot = -M Ldot M (the TLM of each step of the adjoint).
 *
 * @example
 * recordBlock(new CholeskyBlock([a.blockVariable], [output]));
 */
export class CholeskyBlock extends Block<Matrices, Matrices> {
  override get name(): string {
    return "cholesky";
  }

  recompute({ inputs: [a] }: RecomputeContext<Matrices>): Matrices {
    return [withOperation("np.linalg.cholesky", () => choleskyKernel(a))];
  }

  override evaluateTlm({
    outputs: [lower],
    tlmInputs: [adot],
  }: TlmContext<Matrices, Matrices>): Seeds<Matrices> {
    if (adot === undefined) return [undefined];
    return [choleskyTangent(lower, lowerInverse(lower), adot)];
  }

  override evaluateAdj({
    outputs: [lower],
    adjInputs: [lbar],
  }: AdjContext<Matrices, Matrices>): Seeds<Matrices> {
    if (lbar === undefined) return [undefined];
    return [symmetrize(choleskyAdjointCore(lower, lowerInverse(lower), lbar))];
  }

  override evaluateHessian({
    outputs: [lower],
    adjInputs: [lbar],
    hessianInputs: [lhat],
    tlmInputs: [adot],
  }: HessianContext<Matrices, Matrices>): Seeds<Matrices> {
    if (lhat === undefined && (lbar === undefined || adot === undefined)) return [undefined];
    const lowerInv = lowerInverse(lower);
    let total = lhat === undefined ? undefined : choleskyAdjointCore(lower, lowerInv, lhat);
    if (lbar !== undefined && adot !== undefined) {
      const ldot = choleskyTangent(lower, lowerInv, adot);
      const lowerInvT = matrixTranspose(lowerInv);
      // Mdot = -M Ldot M
      const mdot = negated(matmulKernel(matmulKernel(lowerInv, ldot), lowerInv));
      const q = phi(matmulKernel(matrixTranspose(lower), lbar));
      const qdot = phi(matmulKernel(matrixTranspose(ldot), lbar));
      // Pdot = Mdot^T Q M + M^T Qdot M + M^T Q Mdot
      let pdot = matmulKernel(matmulKernel(matrixTranspose(mdot), q), lowerInv);
      pdot = add(pdot, matmulKernel(matmulKernel(lowerInvT, qdot), lowerInv));
      pdot = add(pdot, matmulKernel(matmulKernel(lowerInvT, q), mdot));
      total = plus(total, pdot);
    }
    return [total === undefined ? undefined : symmetrize(total)];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// solve_triangular
// ---------------------------------------------------------------------------------------------------------------

/** Options of a triangular solve, as the block keeps them. */
export interface TriangularOptions {
  /** Use the lower triangle of `a` (otherwise the upper). */
  readonly lower: boolean;
  /** Solve a^T x = b. */
  readonly transpose: boolean;
  /** Take the diagonal of `a` as ones (it is not read). */
  readonly unitDiagonal: boolean;
}

/**
 * x = T^-1 b where T = op(tri(A)) is the triangle of A that is read (transposed when asked; the diagonal
 * excluded for a unit diagonal). Batched with broadcasting as `solve`; a 1-D b is one vector.
 * TLM: xdot = T^-1 (bdot - Tdot x). Adjoint: bbar = T^-T xbar, Abar = tri(op^T(-bbar x^T)).
 * Hessian: bhat = T^-T (xhat - Tdot^T bbar), Ahat = tri(op^T(-(bhat x^T + bbar xdot^T))).
 * (Products with x, bbar, ... are over the right-hand-side columns; batch axes broadcast and are summed back.)
 *
 * @example
 * recordBlock(new SolveTriangularBlock(options, [a.blockVariable, b.blockVariable], [output]));
 */
export class SolveTriangularBlock extends Block<MatricesAndRhs, Matrices> {
  constructor(
    readonly options: TriangularOptions,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return "solve_triangular";
  }

  recompute({ inputs: [a, b] }: RecomputeContext<MatricesAndRhs>): Matrices {
    return [
      withOperation("scipy.linalg.solve_triangular", () =>
        solveTriangularKernel(a, b, {
          lower: this.options.lower,
          transpose: this.options.transpose,
          unitDiagonal: this.options.unitDiagonal,
        }),
      ),
    ];
  }

  /** T^-1 rhs (or T^-T rhs when `adjoint`) for a stack of columns rhs [..., n, k]. */
  private solveColumns(a: NDArray, rhs: NDArray, adjoint: boolean): NDArray {
    return withOperation("scipy.linalg.solve_triangular", () =>
      solveTriangularKernel(a, rhs, {
        lower: this.options.lower,
        transpose: this.options.transpose !== adjoint,
        unitDiagonal: this.options.unitDiagonal,
      }),
    );
  }

  /** The part of `a` that is read (the triangle, without the diagonal for a unit diagonal). */
  private triangle(a: NDArray): NDArray {
    const n = a.shape[a.ndim - 1];
    const block = n * n;
    const out = new Float64Array(a.size);
    const data = a.data;
    const lower = this.options.lower;
    const strict = this.options.unitDiagonal;
    for (let base = 0; base < out.length; base += block) {
      for (let i = 0; i < n; i++) {
        const from = lower ? 0 : strict ? i + 1 : i;
        const to = lower ? (strict ? i : i + 1) : n;
        for (let j = from; j < to; j++) out[base + i * n + j] = data[base + i * n + j];
      }
    }
    return new NDArray(out, a.shape);
  }

  /** The tangent of T: op(tri(Adot)). */
  private tangentOfT(adot: NDArray): NDArray {
    const part = this.triangle(adot);
    return this.options.transpose ? matrixTranspose(part) : part;
  }

  /** Abar from G = dJ/dT (batched like the output): tri(op^T(G)), summed to A's shape. */
  private matrixAdjoint(gradientOfT: NDArray, a: NDArray): NDArray {
    const g = this.options.transpose ? matrixTranspose(gradientOfT) : gradientOfT;
    return this.triangle(shapesEqual(g.shape, a.shape) ? g : sumToShape(g, a.shape));
  }

  /** xdot = T^-1 (bdot - Tdot x), in column form. */
  private tangentColumns(
    a: NDArray,
    columns: Columns,
    x: NDArray,
    adot: NDArray | undefined,
    bdot: NDArray | undefined,
  ): NDArray | undefined {
    let rhs = adot === undefined ? undefined : negated(matmulKernel(this.tangentOfT(adot), columns.of(x)));
    if (bdot !== undefined) rhs = rhs === undefined ? columns.of(bdot) : add(rhs, columns.of(bdot));
    return rhs === undefined ? undefined : this.solveColumns(a, rhs, false);
  }

  override evaluateTlm({
    inputs: [a, b],
    outputs: [x],
    tlmInputs: [adot, bdot],
  }: TlmContext<MatricesAndRhs, Matrices>): Seeds<Matrices> {
    const columns = new Columns(b.ndim === 1);
    const xdot = this.tangentColumns(a, columns, x, adot, bdot);
    return [xdot === undefined ? undefined : columns.back(xdot)];
  }

  override evaluateAdj({
    inputs: [a, b],
    outputs: [output],
    adjInputs: [xbar],
    needed,
  }: AdjContext<MatricesAndRhs, Matrices>): Seeds<MatricesAndRhs> {
    if (xbar === undefined) return [undefined, undefined];
    const columns = new Columns(b.ndim === 1);
    // bbar = T^-T xbar; Abar = tri(op^T(-bbar x^T))
    const bbar = this.solveColumns(a, columns.of(xbar), true);
    const x = columns.of(output);
    return [
      needed[0] ? this.matrixAdjoint(negated(matmulKernel(bbar, matrixTranspose(x))), a) : undefined,
      needed[1] ? columns.reduced(bbar, b) : undefined,
    ];
  }

  override evaluateHessian({
    inputs: [a, b],
    outputs: [output],
    adjInputs: [xbar],
    hessianInputs: [xhat],
    tlmInputs: [adot, bdot],
    needed,
  }: HessianContext<MatricesAndRhs, Matrices>): Seeds<MatricesAndRhs> {
    const columns = new Columns(b.ndim === 1);
    const x = columns.of(output);
    // bhat = T^-T (xhat - Tdot^T bbar)
    const bbar = xbar === undefined ? undefined : this.solveColumns(a, columns.of(xbar), true);
    let rhs = xhat === undefined ? undefined : columns.of(xhat);
    if (bbar !== undefined && adot !== undefined) {
      const term = negated(matmulKernel(matrixTranspose(this.tangentOfT(adot)), bbar));
      rhs = rhs === undefined ? term : add(rhs, term);
    }
    const bhat = rhs === undefined ? undefined : this.solveColumns(a, rhs, true);
    let ahat: NDArray | undefined;
    if (needed[0]) {
      // Ahat = tri(op^T(-(bhat x^T + bbar xdot^T)))
      let gradient = bhat === undefined ? undefined : matmulKernel(bhat, matrixTranspose(x));
      const xdot = bbar === undefined ? undefined : this.tangentColumns(a, columns, output, adot, bdot);
      if (bbar !== undefined && xdot !== undefined) {
        gradient = plus(gradient, matmulKernel(bbar, matrixTranspose(xdot)));
      }
      ahat = gradient === undefined ? undefined : this.matrixAdjoint(negated(gradient), a);
    }
    return [ahat, needed[1] && bhat !== undefined ? columns.reduced(bhat, b) : undefined];
  }
}

/** Converts right-hand sides between their own shape and column form [..., n, k] (a 1-D b is one column). */
class Columns {
  constructor(readonly vector: boolean) {}

  /** `value` (shaped like b or x) as a stack of columns. */
  of(value: NDArray): NDArray {
    return this.vector ? view(value, [...value.shape, 1]) : value;
  }

  /** A column-form result back in the output's form. */
  back(value: NDArray): NDArray {
    return this.vector ? view(value, value.shape.slice(0, -1)) : value;
  }

  /** A column-form adjoint summed over broadcast batch axes to b's shape. */
  reduced(value: NDArray, b: NDArray): NDArray {
    const shaped = this.back(value);
    return shapesEqual(shaped.shape, b.shape) ? shaped : sumToShape(shaped, b.shape);
  }
}
