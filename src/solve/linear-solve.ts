/**
 * @file Linear solve blocks x = A^-1 b for dense NDArray matrices (LU) and sparse matrices (Cholesky, LU or a
 * Krylov method), differentiable in A and b; one factorization serves the forward solve and every derivative.
 */
import "../values/ndarray-space.js";
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import { checkTape } from "../reduced/arguments.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { record } from "../tape/record.js";
import type { Tape, TapeOption } from "../tape/tape.js";
import { type ArrayInput, NDArray } from "../values/ndarray.js";
import {
  checkLinearSolverOptions,
  DenseSystemCache,
  type LinearSolverOptions,
  type PreparedSystem,
  SparseSystemCache,
} from "./linear-system.js";
import { CsrMatrix } from "./sparse/csr.js";
import { type OneArray, onPattern, SparseMatrix } from "./sparse-matrix.js";
import { asArray, asSparseMatrix } from "./sparse-ops.js";
import { sameKey } from "./util.js";

/** Options of `solve`. */
export type SolveOptions = LinearSolverOptions & TapeOption;

/**
 * @internal X = A^-1 B (or A^-T B) column by column for a row-major [n, k] B
 *
 * @example
 * solveColumns(system, B.data, k, false); // X = A^-1 B
 */
export function solveColumns(
  system: PreparedSystem,
  B: Float64Array,
  k: number,
  transposed: boolean,
): Float64Array {
  if (k === 1) return transposed ? system.solveTranspose(B) : system.solve(B);
  const n = system.n;
  const out = new Float64Array(n * k);
  const column = new Float64Array(n);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) column[i] = B[i * k + c];
    const x = transposed ? system.solveTranspose(column) : system.solve(column);
    for (let i = 0; i < n; i++) out[i * k + c] = x[i];
  }
  return out;
}

/** Which matrix type a solve block works with, and the matrix algebra its rules need. */
interface MatrixAlgebra<M> {
  /** The prepared system of A (cached). */
  prepare(A: M): PreparedSystem;
  /** A X for a row-major [n, k] X. */
  multiply(A: M, X: Float64Array, k: number): Float64Array;
  /** A^T X for a row-major [n, k] X. */
  multiplyTranspose(A: M, X: Float64Array, k: number): Float64Array;
  /** scale * sum_c U[:, c] V[:, c]^T, restricted to A's pattern for sparse A. */
  outer(A: M, U: Float64Array, V: Float64Array, k: number, scale: number, into?: M): M;
  /** Numerical factorizations performed. */
  readonly factorizations: number;
}

class DenseAlgebra implements MatrixAlgebra<NDArray> {
  readonly cache: DenseSystemCache;
  constructor(operation: string) {
    this.cache = new DenseSystemCache(operation, "the matrix A");
  }
  get factorizations(): number {
    return this.cache.factorizations;
  }
  prepare(A: NDArray): PreparedSystem {
    return this.cache.prepare(A);
  }
  multiply(A: NDArray, X: Float64Array, k: number): Float64Array {
    const n = A.shape[0];
    const a = A.data;
    const out = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const aij = a[i * n + j];
        if (aij === 0) continue;
        for (let c = 0; c < k; c++) out[i * k + c] += aij * X[j * k + c];
      }
    }
    return out;
  }
  multiplyTranspose(A: NDArray, X: Float64Array, k: number): Float64Array {
    const n = A.shape[0];
    const a = A.data;
    const out = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const aij = a[i * n + j];
        if (aij === 0) continue;
        for (let c = 0; c < k; c++) out[j * k + c] += aij * X[i * k + c];
      }
    }
    return out;
  }
  outer(A: NDArray, U: Float64Array, V: Float64Array, k: number, scale: number, into?: NDArray): NDArray {
    const n = A.shape[0];
    const out = into?.data ?? new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let total = 0;
        for (let c = 0; c < k; c++) total += U[i * k + c] * V[j * k + c];
        out[i * n + j] += scale * total;
      }
    }
    return into ?? new NDArray(out, A.shape);
  }
}

class SparseAlgebra implements MatrixAlgebra<SparseMatrix> {
  readonly cache: SparseSystemCache;
  constructor(options: LinearSolverOptions, operation: string) {
    this.cache = new SparseSystemCache(options, operation, "the matrix A");
  }
  get factorizations(): number {
    return this.cache.factorizations;
  }
  prepare(A: SparseMatrix): PreparedSystem {
    return this.cache.prepare(A.csr);
  }
  multiply(A: SparseMatrix, X: Float64Array, k: number): Float64Array {
    if (k === 1) return A.csr.matvec(X);
    const { rows, rowPtr, colIndex, values } = A.csr;
    const out = new Float64Array(rows * k);
    for (let i = 0; i < rows; i++) {
      for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
        const v = values[p];
        const j = colIndex[p];
        for (let c = 0; c < k; c++) out[i * k + c] += v * X[j * k + c];
      }
    }
    return out;
  }
  multiplyTranspose(A: SparseMatrix, X: Float64Array, k: number): Float64Array {
    if (k === 1) return A.csr.matvecTranspose(X);
    const { rows, cols, rowPtr, colIndex, values } = A.csr;
    const out = new Float64Array(cols * k);
    for (let i = 0; i < rows; i++) {
      for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
        const v = values[p];
        const j = colIndex[p];
        for (let c = 0; c < k; c++) out[j * k + c] += v * X[i * k + c];
      }
    }
    return out;
  }
  outer(
    A: SparseMatrix,
    U: Float64Array,
    V: Float64Array,
    k: number,
    scale: number,
    into?: SparseMatrix,
  ): SparseMatrix {
    const { rows, rowPtr, colIndex } = A.csr;
    const out = into?.values ?? new Float64Array(A.nnz);
    for (let i = 0; i < rows; i++) {
      for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
        const j = colIndex[p];
        let total = 0;
        for (let c = 0; c < k; c++) total += U[i * k + c] * V[j * k + c];
        out[p] += scale * total;
      }
    }
    return into ?? onPattern(A, out);
  }
}

/** The matrix operand of `solve`: dense [n, n] NDArray, SparseMatrix, or constant CsrMatrix. */
export type SolveMatrix = NDArray | SparseMatrix | CsrMatrix;

/** Inputs of a linear solve: the matrix (dense or sparse) and the right-hand side. */
export type SolveInputs<M extends NDArray | SparseMatrix = NDArray | SparseMatrix> = readonly [M, NDArray];

/**
 * X = A^-1 B for a square A (dense NDArray or SparseMatrix) and B of shape [n] or [n, k].
 * TLM: Xdot = A^-1 (Bdot - Adot X).
 * Adjoint: Lambda = A^-T Xbar; Bbar = Lambda; Abar = -Lambda X^T (on A's pattern when sparse).
 * Hessian: Lambdahat = A^-T (Xhat - Adot^T Lambda); Bhat = Lambdahat; Ahat = -(Lambdahat X^T + Lambda Xdot^T),
 * with Xdot the tangent of X and Lambda the first-order adjoint.
 * The factorization of A is kept on the block and reused by every mode while A's values do not change.
 *
 * @example
 * const x = solve(A, b); // records one LinearSolveBlock
 * (tape.blocks.at(-1) as LinearSolveBlock).factorizations; // 1
 */
export class LinearSolveBlock<M extends NDArray | SparseMatrix = NDArray | SparseMatrix> extends Block<
  SolveInputs<M>,
  OneArray
> {
  private lastTangent: { key: unknown[]; Xdot: Float64Array | undefined } | undefined = undefined;
  private lastAdjoint: { key: unknown[]; Lambda: Float64Array } | undefined = undefined;

  /** @internal built by `solve` */
  constructor(
    /** The matrix algebra and the cached factorization. */
    private readonly algebra: MatrixAlgebra<M>,
    /** Columns of B (1 for a vector right-hand side). */
    readonly columns: number,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return "solve";
  }

  /** Numerical factorizations of A this block has performed (forward and derivative solves share them). */
  get factorizations(): number {
    return this.algebra.factorizations;
  }

  recompute({ inputs: [A, B] }: RecomputeContext<SolveInputs<M>>): OneArray {
    return [new NDArray(solveColumns(this.algebra.prepare(A), B.data, this.columns, false), B.shape)];
  }

  /** Xdot = A^-1 (Bdot - Adot X), remembered for the Hessian of the same sweep. */
  private tangent(
    A: M,
    X: NDArray,
    Adot: M | undefined,
    Bdot: NDArray | undefined,
  ): Float64Array | undefined {
    const key = [A, X, Adot, Bdot];
    if (this.lastTangent !== undefined && sameKey(this.lastTangent.key, key)) return this.lastTangent.Xdot;
    let Xdot: Float64Array | undefined;
    if (Adot !== undefined || Bdot !== undefined) {
      const k = this.columns;
      const rhs = Bdot === undefined ? new Float64Array(X.size) : Bdot.data.slice();
      if (Adot !== undefined) {
        const AdotX = this.algebra.multiply(Adot, X.data, k);
        for (let i = 0; i < rhs.length; i++) rhs[i] -= AdotX[i];
      }
      Xdot = solveColumns(this.algebra.prepare(A), rhs, k, false);
    }
    this.lastTangent = { key, Xdot };
    return Xdot;
  }

  /** Lambda = A^-T Xbar, remembered for the Hessian of the same sweep. */
  private adjoint(A: M, X: NDArray, Xbar: NDArray): Float64Array {
    const key = [A, X, Xbar];
    if (this.lastAdjoint !== undefined && sameKey(this.lastAdjoint.key, key)) return this.lastAdjoint.Lambda;
    const Lambda = solveColumns(this.algebra.prepare(A), Xbar.data, this.columns, true);
    this.lastAdjoint = { key, Lambda };
    return Lambda;
  }

  override evaluateTlm({
    inputs: [A],
    outputs: [X],
    tlmInputs: [Adot, Bdot],
  }: TlmContext<SolveInputs<M>, OneArray>): Seeds<OneArray> {
    const Xdot = this.tangent(A, X, Adot, Bdot);
    return [Xdot === undefined ? undefined : new NDArray(Xdot, X.shape)];
  }

  override evaluateAdj({
    inputs: [A],
    outputs: [X],
    adjInputs: [Xbar],
    needed,
  }: AdjContext<SolveInputs<M>, OneArray>): Seeds<SolveInputs<M>> {
    if (Xbar === undefined) return [undefined, undefined];
    const Lambda = this.adjoint(A, X, Xbar);
    return [
      needed[0] ? this.algebra.outer(A, Lambda, X.data, this.columns, -1) : undefined,
      needed[1] ? new NDArray(Lambda, X.shape) : undefined,
    ];
  }

  override evaluateHessian({
    inputs: [A],
    outputs: [X],
    adjInputs: [Xbar],
    hessianInputs: [Xhat],
    tlmInputs: [Adot, Bdot],
    needed,
  }: HessianContext<SolveInputs<M>, OneArray>): Seeds<SolveInputs<M>> {
    const k = this.columns;
    const Lambda = Xbar === undefined ? undefined : this.adjoint(A, X, Xbar);
    // Lambdahat = A^-T (Xhat - Adot^T Lambda)
    let rhs: Float64Array | undefined = Xhat?.data.slice();
    if (Lambda !== undefined && Adot !== undefined) {
      const AdotTLambda = this.algebra.multiplyTranspose(Adot, Lambda, k);
      if (rhs === undefined) rhs = new Float64Array(X.size);
      for (let i = 0; i < rhs.length; i++) rhs[i] -= AdotTLambda[i];
    }
    const Lambdahat = rhs === undefined ? undefined : solveColumns(this.algebra.prepare(A), rhs, k, true);
    let Ahat: M | undefined;
    if (needed[0]) {
      // Ahat = -(Lambdahat X^T + Lambda Xdot^T)
      if (Lambdahat !== undefined) Ahat = this.algebra.outer(A, Lambdahat, X.data, k, -1);
      if (Lambda !== undefined) {
        const Xdot = this.tangent(A, X, Adot, Bdot);
        if (Xdot !== undefined) Ahat = this.algebra.outer(A, Lambda, Xdot, k, -1, Ahat);
      }
    }
    return [Ahat, needed[1] && Lambdahat !== undefined ? new NDArray(Lambdahat, X.shape) : undefined];
  }
}

/**
 * Solves A x = b, recorded with respect to both A and b. A is a square dense 2-D NDArray (LU with partial
 * pivoting) or a sparse matrix (SparseMatrix, or a constant CsrMatrix; sparse Cholesky when symmetric positive
 * definite, LU otherwise, or a Krylov method with `{ method: "cg" | "gmres" }`). b has shape [n] (one right-hand
 * side) or [n, k]. The block keeps A's factorization, so the derivative solves (A^-1 for the tangent, A^-T for the
 * adjoint and the Hessian) cost one triangular solve each. x = A^-1 b, dx = A^-1 (db - dA x).
 * A singular matrix throws SingularSystemError; a Krylov solve that misses its tolerance KrylovConvergenceError.
 *
 * @example
 * const x = solve(array([[4, 1], [1, 3]]), b);       // dense
 * const y = solve(sparseMatrix(n, n, rows, cols, values), b); // sparse, differentiable in values and b
 */
export function solve(matrix: SolveMatrix, b: NDArray | ArrayInput, options: SolveOptions = {}): NDArray {
  const operation = "solve";
  checkLinearSolverOptions(operation, options, ["tape"]);
  const tape = checkTape(options.tape, operation);
  const B = asArray(b, operation);
  const isSparse = matrix instanceof SparseMatrix || matrix instanceof CsrMatrix;
  if (!isSparse && !(matrix instanceof NDArray)) {
    throw new InvalidArgumentError(
      operation,
      "A must be a square NDArray, a SparseMatrix or a CsrMatrix; convert plain arrays with np.array(...)",
    );
  }
  const A = matrix instanceof NDArray ? matrix : asSparseMatrix(matrix, operation);
  const shape: readonly number[] = A.shape;
  if (shape.length !== 2 || shape[0] !== shape[1]) {
    throw new ShapeMismatchError(
      operation,
      [shape],
      "A must be square (n x n); batched solves are not supported",
    );
  }
  const n = shape[0];
  if (!((B.ndim === 1 && B.shape[0] === n) || (B.ndim === 2 && B.shape[0] === n))) {
    throw new ShapeMismatchError(operation, [shape, B.shape], `b must have shape [${n}] or [${n}, k]`);
  }
  if (!isSparse && options.method !== undefined && options.method !== "auto" && options.method !== "lu") {
    throw new InvalidArgumentError(
      operation,
      `method '${options.method}' needs a sparse matrix; dense A uses LU`,
    );
  }
  const columns = B.ndim === 1 ? 1 : B.shape[1];
  return A instanceof SparseMatrix
    ? recordSolve(A, B, columns, new SparseAlgebra(options, operation), tape)
    : recordSolve(A, B, columns, new DenseAlgebra(operation), tape);
}

/** X = A^-1 B by `algebra`, recorded as one LinearSolveBlock keeping the algebra (and its factorization). */
function recordSolve<M extends NDArray | SparseMatrix>(
  A: M,
  B: NDArray,
  columns: number,
  algebra: MatrixAlgebra<M>,
  tape: Tape | undefined,
): NDArray {
  const [X] = record(
    [A, B],
    [new NDArray(solveColumns(algebra.prepare(A), B.data, columns, false), B.shape)],
    (dependencies, outputs) => new LinearSolveBlock(algebra, columns, dependencies, outputs),
    tape,
  );
  return X;
}
