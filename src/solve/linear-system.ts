/**
 * @file Prepared linear systems with reuse: one object per solve block keeps the factorization (dense LU,
 * sparse Cholesky/LU) or the Krylov preconditioner of the last matrix, and refactors only when the values change.
 */
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import { type LUFactorization, luFactor, luSolve } from "../ops/kernels/linalg.js";
import { checkNumber, checkOptions } from "../options.js";
import { NDArray } from "../values/ndarray.js";
import { KrylovConvergenceError, SingularSystemError } from "./errors.js";
import { NotPositiveDefiniteError } from "./sparse/cholesky.js";
import type { CsrMatrix } from "./sparse/csr.js";
import { factorize, type SparseFactorization } from "./sparse/factorize.js";
import {
  conjugateGradient,
  gmres,
  type IterativeResult,
  incompleteCholesky,
  incompleteLu,
  jacobiPreconditioner,
  type Preconditioner,
} from "./sparse/iterative.js";
import { SingularMatrixError } from "./sparse/lu.js";
import type { FillReducingOrdering } from "./sparse/ordering.js";

/**
 * How a sparse system is solved: "auto" (sparse Cholesky for symmetric positive definite matrices, LU
 * otherwise), "cholesky", "lu", or the Krylov methods "cg" (symmetric positive definite only) and "gmres".
 */
export type LinearSolveMethod = "auto" | "cholesky" | "lu" | "cg" | "gmres";

/** The keys of LinearSolverOptions. */
export const LINEAR_SOLVER_KEYS = [
  "method",
  "relativeTolerance",
  "absoluteTolerance",
  "maxIterations",
  "preconditioner",
  "restart",
  "ordering",
] as const;

/**
 * @internal Checks linear solver options: unknown keys (with `extraKeys` allowed too), the method and
 * preconditioner names and the numbers.
 */
export function checkLinearSolverOptions<T extends LinearSolverOptions>(
  operation: string,
  options: T | undefined,
  extraKeys: readonly (keyof T & string)[] = [],
): T {
  const checked = checkOptions<T>(operation, options, [...LINEAR_SOLVER_KEYS, ...extraKeys]);
  const oneOf = (name: string, value: unknown, allowed: readonly string[]) => {
    if (value !== undefined && (typeof value !== "string" || !allowed.includes(value))) {
      throw new InvalidArgumentError(
        operation,
        `${name} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${JSON.stringify(value) ?? typeof value}`,
      );
    }
  };
  oneOf("method", checked.method, ["auto", "cholesky", "lu", "cg", "gmres"]);
  oneOf("preconditioner", checked.preconditioner, ["none", "jacobi", "ic0", "ilu0"]);
  for (const key of ["relativeTolerance", "absoluteTolerance"] as const) {
    if (checked[key] !== undefined) checkNumber(operation, key, checked[key], { nonNegative: true });
  }
  for (const key of ["maxIterations", "restart"] as const) {
    if (checked[key] !== undefined)
      checkNumber(operation, key, checked[key], { integer: true, positive: true });
  }
  return checked;
}

/** Options of the linear solver used by `solve` (sparse matrices) and by `nonlinearSolve` for its Newton steps. */
export interface LinearSolverOptions {
  /** Default "auto" (a direct factorization). Dense matrices always use LU with partial pivoting. */
  method?: LinearSolveMethod;
  /**
   * Krylov methods: stop when ||b - A x|| <= relativeTolerance ||b||. Default 1e-12, tight enough for
   * Taylor tests through the solve (the derivative solves use the same tolerance).
   */
  relativeTolerance?: number;
  /** Krylov methods: ... or when ||b - A x|| <= absoluteTolerance. Default 0. */
  absoluteTolerance?: number;
  /** Krylov methods: iteration limit (default max(1000, 2 n)). */
  maxIterations?: number;
  /** Krylov methods: preconditioner ("jacobi" default for cg, "ilu0" default for gmres; "ic0" for cg). */
  preconditioner?: "none" | "jacobi" | "ic0" | "ilu0";
  /** GMRES restart length (default 30). */
  restart?: number;
  /** Fill-reducing ordering of the direct methods (default "amd"). */
  ordering?: FillReducingOrdering;
}

/** A matrix ready for repeated solves with A and A^T. */
export interface PreparedSystem {
  /** Matrix order. */
  readonly n: number;
  /** x = A^-1 b (a new array). */
  solve(b: Float64Array): Float64Array;
  /** x = A^-T b (a new array). */
  solveTranspose(b: Float64Array): Float64Array;
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * @internal maps the sparse layer's errors to typed errors naming `operation`
 *
 * @example
 * catch (error) { throw mapSolverError(error, "solve", "the matrix A"); }
 */
export function mapSolverError(error: unknown, operation: string, what: string): unknown {
  if (error instanceof SingularMatrixError) {
    return new SingularSystemError(
      operation,
      `${what} is singular (no acceptable pivot in column ${error.column}); check the matrix, its boundary conditions, or the point`,
      { cause: error },
    );
  }
  if (error instanceof NotPositiveDefiniteError) {
    return new SingularSystemError(
      operation,
      `${what} is not positive definite (pivot ${error.pivotValue} at row ${error.pivotIndex}); use method "lu" or "auto" for indefinite matrices`,
      { cause: error },
    );
  }
  return error;
}

/**
 * @internal The prepared system of the last sparse matrix seen: reused while the matrix is the same object or
 * has the same values; refactored (symbolic analysis reused) when only the values change.
 *
 * @example
 * const cache = new SparseSystemCache({}, "solve", "the matrix A");
 * cache.prepare(A).solve(b); cache.prepare(A).solveTranspose(c); // one factorization
 */
export class SparseSystemCache {
  /** Numeric factorizations (or Krylov preconditioner setups) performed so far. */
  factorizations = 0;
  private matrix: CsrMatrix | undefined = undefined;
  private factorization: SparseFactorization | undefined = undefined;
  private system: PreparedSystem | undefined = undefined;

  constructor(
    private readonly options: LinearSolverOptions,
    private readonly operation: string,
    private readonly what: string,
    /**
     * Refactorizations write into the previous factorization's storage: only for an owner that never uses a
     * system it got from `prepare` after the next `prepare` (Newton's steps).
     */
    private readonly recycleFactors = false,
  ) {}

  /** The system for `A`, reusing or refactoring the previous factorization. */
  prepare(A: CsrMatrix): PreparedSystem {
    if (A.rows !== A.cols) {
      throw new ShapeMismatchError(this.operation, [[A.rows, A.cols]], `${this.what} must be square`);
    }
    const previous = this.matrix;
    if (
      this.system !== undefined &&
      previous !== undefined &&
      (previous === A || (A.hasSamePattern(previous) && sameValues(previous.values, A.values)))
    ) {
      this.matrix = A;
      return this.system;
    }
    const method = this.options.method ?? "auto";
    this.factorizations++;
    this.system =
      method === "cg" || method === "gmres" ? this.krylov(A, method) : this.direct(A, method, previous);
    this.matrix = A;
    return this.system;
  }

  private direct(
    A: CsrMatrix,
    method: "auto" | "cholesky" | "lu",
    previous: CsrMatrix | undefined,
  ): PreparedSystem {
    let factorization: SparseFactorization;
    try {
      factorization =
        this.factorization !== undefined && previous !== undefined && A.hasSamePattern(previous)
          ? this.factorization.refactor(A, this.recycleFactors)
          : factorize(A, { method, ordering: this.options.ordering });
    } catch (error) {
      this.factorization = undefined;
      this.system = undefined;
      this.matrix = undefined;
      throw mapSolverError(error, this.operation, this.what);
    }
    this.factorization = factorization;
    const n = A.rows;
    const operation = this.operation;
    const what = this.what;
    return {
      n,
      solve: (b) => checkedSolution(factorization.solve(b), operation, what),
      solveTranspose: (b) => checkedSolution(factorization.solveTranspose(b), operation, what),
    };
  }

  private krylov(A: CsrMatrix, method: "cg" | "gmres"): PreparedSystem {
    const options = this.options;
    const choice = options.preconditioner ?? (method === "cg" ? "jacobi" : "ilu0");
    const build = (matrix: CsrMatrix): Preconditioner | "none" =>
      choice === "none"
        ? "none"
        : choice === "jacobi"
          ? jacobiPreconditioner(matrix)
          : choice === "ic0"
            ? incompleteCholesky(matrix)
            : incompleteLu(matrix);
    const forward = build(A);
    let transposed: { matrix: CsrMatrix; preconditioner: Preconditioner | "none" } | undefined;
    const common = {
      relativeTolerance: options.relativeTolerance ?? 1e-12,
      absoluteTolerance: options.absoluteTolerance ?? 0,
      maxIterations: options.maxIterations,
    };
    const run = (
      matrix: CsrMatrix,
      preconditioner: Preconditioner | "none",
      b: Float64Array,
    ): Float64Array => {
      const result: IterativeResult =
        method === "cg"
          ? conjugateGradient(matrix, b, { ...common, preconditioner })
          : gmres(matrix, b, { ...common, preconditioner, restart: options.restart });
      if (!result.converged) {
        let bNorm = 0;
        for (let i = 0; i < b.length; i++) bNorm += b[i] * b[i];
        const target = Math.max(common.relativeTolerance * Math.sqrt(bNorm), common.absoluteTolerance);
        throw new KrylovConvergenceError(
          this.operation,
          method,
          result.residualNorm,
          result.iterations,
          target,
        );
      }
      return result.x;
    };
    return {
      n: A.rows,
      solve: (b) => run(A, forward, b),
      solveTranspose: (b) => {
        if (method === "cg") return run(A, forward, b);
        if (transposed === undefined) {
          const matrix = A.transpose();
          transposed = { matrix, preconditioner: build(matrix) };
        }
        return run(transposed.matrix, transposed.preconditioner, b);
      },
    };
  }
}

function checkedSolution(x: Float64Array, operation: string, what: string): Float64Array {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new SingularSystemError(
        operation,
        `the solution with ${what} is not finite; the matrix is singular or too ill-conditioned`,
      );
    }
  }
  return x;
}

/**
 * @internal The prepared system of the last dense matrix seen (LU with partial pivoting), reused while the
 * matrix is the same object or has the same values. A pivot below 1e-14 max|A| counts as singular.
 *
 * @example
 * new DenseSystemCache("solve", "the matrix A").prepare(array([[2, 0], [0, 4]])).solve(Float64Array.of(2, 4)); // [1, 1]
 */
export class DenseSystemCache {
  /** LU factorizations performed so far. */
  factorizations = 0;
  private matrix: NDArray | undefined = undefined;
  private system: PreparedSystem | undefined = undefined;

  constructor(
    private readonly operation: string,
    private readonly what: string,
  ) {}

  /** The system for the square matrix `A` ([n, n]). */
  prepare(A: NDArray): PreparedSystem {
    if (A.ndim !== 2 || A.shape[0] !== A.shape[1]) {
      throw new ShapeMismatchError(this.operation, [A.shape], `${this.what} must be a square 2-D array`);
    }
    const previous = this.matrix;
    if (
      this.system !== undefined &&
      previous !== undefined &&
      (previous === A || sameValues(previous.data, A.data))
    ) {
      this.matrix = A;
      return this.system;
    }
    this.factorizations++;
    this.system = undefined;
    const n = A.shape[0];
    const factor: LUFactorization = luFactor(A);
    let largest = 0;
    const data = A.data;
    for (let i = 0; i < data.length; i++) largest = Math.max(largest, Math.abs(data[i]));
    const lu = factor.lu.data;
    let smallestPivot = Number.POSITIVE_INFINITY;
    for (let k = 0; k < n; k++) smallestPivot = Math.min(smallestPivot, Math.abs(lu[k * n + k]));
    if (factor.singular[0] === 1 || !(smallestPivot > 1e-14 * largest) || !Number.isFinite(largest)) {
      throw new SingularSystemError(
        this.operation,
        `${this.what} (${n}x${n}) is singular (smallest LU pivot ${smallestPivot.toExponential(3)}, largest entry ${largest.toExponential(3)}); check the matrix or the point`,
      );
    }
    const operation = this.operation;
    const what = this.what;
    this.system = {
      n,
      solve: (b) => checkedSolution(luSolve(factor, new NDArray(b, [n])).data, operation, what),
      solveTranspose: (b) =>
        checkedSolution(luSolve(factor, new NDArray(b, [n]), true).data, operation, what),
    };
    this.matrix = A;
    return this.system;
  }
}
