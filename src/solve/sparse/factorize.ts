/** @file One entry point for sparse direct solves: Cholesky for SPD matrices, LU otherwise, with transpose solves and refactorization. */

import { invalidArgument } from "../../errors.js";
import { checkOptions } from "../../options.js";
import { type CholeskyFactor, CholeskySymbolic, NotPositiveDefiniteError } from "./cholesky.js";
import { type CsrMatrix, checkCsr } from "./csr.js";
import { type LuFactor, LuSymbolic } from "./lu.js";
import type { FillReducingOrdering } from "./ordering.js";

/** Requested factorization: "auto" tries Cholesky on symmetric matrices and falls back to LU. */
export type FactorizationMethod = "auto" | "cholesky" | "lu";

/** Options for {@link factorize}. */
export interface FactorizeOptions {
  /** Default "auto". */
  readonly method?: FactorizationMethod;
  /** Fill-reducing ordering; default "amd". */
  readonly ordering?: FillReducingOrdering;
  /**
   * "auto" treats A as symmetric when |A_ij - A_ji| <= symmetryTolerance * max|A|. Default 1e-14.
   * Cholesky then reads only the lower triangle.
   */
  readonly symmetryTolerance?: number;
  /** LU threshold partial pivoting tolerance (see LuOptions). Default 0.1. */
  readonly pivotTolerance?: number;
  /** LU singularity tolerance (see LuOptions). Default 1e-14. */
  readonly singularTolerance?: number;
  /** Cholesky pivot tolerance (see CholeskyOptions). Default 1e-14. */
  readonly choleskyPivotTolerance?: number;
}

/** A factorized square matrix, ready for repeated solves with A and A^T. */
export interface SparseFactorization {
  /** The factorization actually used. */
  readonly method: "cholesky" | "lu";
  /** Matrix order. */
  readonly n: number;
  /** Nonzeros of the factors (L for Cholesky, L + U for LU). */
  readonly factorNnz: number;
  /** Solve A x = b. */
  solve(b: ArrayLike<number>, out?: Float64Array): Float64Array;
  /** Solve A^T x = b (the adjoint system) with the same factors. */
  solveTranspose(b: ArrayLike<number>, out?: Float64Array): Float64Array;
  /**
   * Factor a matrix with the same pattern and new values, reusing the symbolic analysis. `recycle`: the new
   * factors may reuse this factorization's storage (then this one must not be used any more).
   */
  refactor(A: CsrMatrix, recycle?: boolean): SparseFactorization;
}

class CholeskyFactorization implements SparseFactorization {
  readonly method = "cholesky" as const;
  constructor(
    private readonly factor: CholeskyFactor,
    private readonly options: FactorizeOptions,
  ) {}
  get n(): number {
    return this.factor.n;
  }
  get factorNnz(): number {
    return this.factor.nnz;
  }
  solve(b: ArrayLike<number>, out?: Float64Array): Float64Array {
    return this.factor.solve(b, out);
  }
  solveTranspose(b: ArrayLike<number>, out?: Float64Array): Float64Array {
    return this.factor.solve(b, out);
  }
  refactor(A: CsrMatrix, recycle = false): SparseFactorization {
    const method = this.options.method ?? "auto";
    if (method === "cholesky")
      return new CholeskyFactorization(this.factor.refactor(A, recycle), this.options);
    if (!A.isNumericallySymmetric(this.options.symmetryTolerance ?? 1e-14))
      return luFactorization(A, this.options);
    try {
      return new CholeskyFactorization(this.factor.refactor(A, recycle), this.options);
    } catch (error) {
      if (error instanceof NotPositiveDefiniteError) return luFactorization(A, this.options);
      throw error;
    }
  }
}

class LuFactorization implements SparseFactorization {
  readonly method = "lu" as const;
  constructor(private readonly factor: LuFactor) {}
  get n(): number {
    return this.factor.n;
  }
  get factorNnz(): number {
    return this.factor.nnz;
  }
  solve(b: ArrayLike<number>, out?: Float64Array): Float64Array {
    return this.factor.solve(b, out);
  }
  solveTranspose(b: ArrayLike<number>, out?: Float64Array): Float64Array {
    return this.factor.solveTranspose(b, out);
  }
  refactor(A: CsrMatrix): SparseFactorization {
    return new LuFactorization(this.factor.refactor(A));
  }
}

function luFactorization(A: CsrMatrix, options: FactorizeOptions): LuFactorization {
  const symbolic = new LuSymbolic(A, {
    ordering: options.ordering,
    pivotTolerance: options.pivotTolerance,
    singularTolerance: options.singularTolerance,
  });
  return new LuFactorization(symbolic.factor(A));
}

function choleskyFactorization(A: CsrMatrix, options: FactorizeOptions): CholeskyFactorization {
  const symbolic = new CholeskySymbolic(A, {
    ordering: options.ordering,
    pivotTolerance: options.choleskyPivotTolerance,
  });
  return new CholeskyFactorization(symbolic.factor(A), options);
}

/** Quick necessary condition for SPD: every diagonal entry positive. */
function hasPositiveDiagonal(A: CsrMatrix): boolean {
  const diagonal = A.diagonal();
  for (let i = 0; i < diagonal.length; i++) if (!(diagonal[i] > 0)) return false;
  return true;
}

/**
 * Factorize a square sparse matrix for repeated solves with A and A^T.
 * "auto" (default) uses Cholesky when A is numerically symmetric with a positive diagonal and falls back to
 * LU when a Cholesky pivot fails; "cholesky" throws NotPositiveDefiniteError instead, "lu" always uses LU
 * (which throws SingularMatrixError for singular matrices).
 *
 * @example
 * const factorization = factorize(A);
 * const x = factorization.solve(b);                // A x = b
 * const lambda = factorization.solveTranspose(g);  // A^T lambda = g
 * const next = factorization.refactor(A.withValues(newValues));
 */
export function factorize(A: CsrMatrix, options: FactorizeOptions = {}): SparseFactorization {
  checkCsr(A, "factorize");
  checkOptions("factorize", options, [
    "method",
    "ordering",
    "symmetryTolerance",
    "pivotTolerance",
    "singularTolerance",
    "choleskyPivotTolerance",
  ]);
  if (A.rows !== A.cols) throw invalidArgument(`factorize: matrix must be square, got ${A.rows}x${A.cols}`);
  const method = options.method ?? "auto";
  if (method === "cholesky") return choleskyFactorization(A, options);
  if (method === "lu") return luFactorization(A, options);
  if (hasPositiveDiagonal(A) && A.isNumericallySymmetric(options.symmetryTolerance ?? 1e-14)) {
    try {
      return choleskyFactorization(A, options);
    } catch (error) {
      if (!(error instanceof NotPositiveDefiniteError)) throw error;
    }
  }
  return luFactorization(A, options);
}
