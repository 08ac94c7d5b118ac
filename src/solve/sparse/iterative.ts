/** @file Krylov solvers for CSR matrices: preconditioned conjugate gradients and restarted GMRES(m), with Jacobi, IC(0) and ILU(0) preconditioners. */

import { invalidArgument } from "../../errors.js";
import { checkOptions } from "../../options.js";
import { CsrMatrix, checkArrayLike, checkCsr } from "./csr.js";

/** Outcome of an iterative solve. `residualNorm` is the true residual ||b - A x||_2 of the returned x. */
export interface IterativeResult {
  /** Approximate solution. */
  readonly x: Float64Array;
  /** Iterations performed (matrix-vector products with A, excluding residual checks). */
  readonly iterations: number;
  /** ||b - A x||_2 recomputed from the returned x. */
  readonly residualNorm: number;
  /** Whether residualNorm <= max(relativeTolerance * ||b||, absoluteTolerance). */
  readonly converged: boolean;
}

/** A preconditioner M^{-1}: `apply(r, out)` writes M^{-1} r into `out` and returns it. */
export interface Preconditioner {
  /** out = M^{-1} r (`out` never aliases `r`). */
  apply(r: Float64Array, out: Float64Array): Float64Array;
}

/** Options shared by {@link conjugateGradient} and {@link gmres}. */
export interface KrylovOptions {
  /** Stop when ||b - A x|| <= relativeTolerance * ||b||. Default 1e-12. */
  readonly relativeTolerance?: number;
  /** ... or when ||b - A x|| <= absoluteTolerance. Default 0. */
  readonly absoluteTolerance?: number;
  /** Iteration limit. Default max(1000, 2 n). */
  readonly maxIterations?: number;
  /** Starting guess (default zero). */
  readonly initialGuess?: ArrayLike<number>;
}

/** Options for {@link conjugateGradient}. */
export interface ConjugateGradientOptions extends KrylovOptions {
  /** "jacobi" (default), "ic0" (incomplete Cholesky), "none", or a custom preconditioner. */
  readonly preconditioner?: "none" | "jacobi" | "ic0" | Preconditioner;
}

/** Options for {@link gmres}. */
export interface GmresOptions extends KrylovOptions {
  /** "ilu0" (default), "jacobi", "none", or a custom preconditioner (applied on the right). */
  readonly preconditioner?: "none" | "jacobi" | "ilu0" | Preconditioner;
  /** Krylov subspace dimension before a restart. Default min(30, n). */
  readonly restart?: number;
}

const identityPreconditioner: Preconditioner = {
  apply(r, out) {
    out.set(r);
    return out;
  },
};

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function norm(a: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * a[i];
  return Math.sqrt(sum);
}

/** r = b - A x. */
function residual(A: CsrMatrix, x: Float64Array, b: ArrayLike<number>, r: Float64Array): Float64Array {
  A.matvec(x, r);
  for (let i = 0; i < r.length; i++) r[i] = b[i] - r[i];
  return r;
}

/** The diagonal with a slot for every (i, i), explicit zeros added where missing. */
function withDiagonal(A: CsrMatrix): CsrMatrix {
  return A.add(CsrMatrix.identity(A.rows), 0);
}

/**
 * Jacobi (diagonal) preconditioner M = diag(A). Zero diagonal entries are treated as 1.
 *
 * @example
 * const M = jacobiPreconditioner(A);
 * M.apply(r, new Float64Array(r.length));
 */
export function jacobiPreconditioner(A: CsrMatrix): Preconditioner {
  const diagonal = A.diagonal();
  const inverse = new Float64Array(diagonal.length);
  for (let i = 0; i < diagonal.length; i++) inverse[i] = diagonal[i] === 0 ? 1 : 1 / diagonal[i];
  return {
    apply(r, out) {
      for (let i = 0; i < inverse.length; i++) out[i] = inverse[i] * r[i];
      return out;
    },
  };
}

/**
 * Incomplete Cholesky IC(0) preconditioner M = L L^T, L restricted to the lower triangle of A's pattern.
 * For a symmetric positive definite A. If a pivot breaks down, the factorization is retried on
 * A + alpha diag(A) with alpha = 1e-3, 2e-3, 4e-3, ... (Manteuffel shift).
 *
 * @example
 * const M = incompleteCholesky(A);
 * conjugateGradient(A, b, { preconditioner: M });
 */
export function incompleteCholesky(A: CsrMatrix): Preconditioner {
  if (A.rows !== A.cols) throw invalidArgument("incompleteCholesky: matrix must be square");
  const n = A.rows;
  const full = withDiagonal(A);
  // Lower triangle (with diagonal, stored last in each row since columns are sorted).
  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let p = full.rowPtr[i]; p < full.rowPtr[i + 1]; p++) if (full.colIndex[p] <= i) count++;
    rowPtr[i + 1] = rowPtr[i] + count;
  }
  const colIndex = new Int32Array(rowPtr[n]);
  const original = new Float64Array(rowPtr[n]);
  for (let i = 0, slot = 0; i < n; i++) {
    for (let p = full.rowPtr[i]; p < full.rowPtr[i + 1]; p++) {
      if (full.colIndex[p] > i) break;
      colIndex[slot] = full.colIndex[p];
      original[slot++] = full.values[p];
    }
  }
  const values = new Float64Array(original.length);
  const position = new Int32Array(n).fill(-1);
  let shift = 0;
  for (let attempt = 0; attempt < 60; attempt++) {
    values.set(original);
    if (shift > 0) for (let i = 0; i < n; i++) values[rowPtr[i + 1] - 1] *= 1 + shift;
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      const start = rowPtr[i];
      const diagonal = rowPtr[i + 1] - 1;
      for (let p = start; p <= diagonal; p++) position[colIndex[p]] = p;
      for (let p = start; p < diagonal; p++) {
        const k = colIndex[p];
        // l_ik = (a_ik - sum_{j<k} l_ij l_kj) / l_kk over the common pattern.
        let sum = values[p];
        const kDiagonal = rowPtr[k + 1] - 1;
        for (let q = rowPtr[k]; q < kDiagonal; q++) {
          const slot = position[colIndex[q]];
          if (slot >= 0 && slot < p) sum -= values[slot] * values[q];
        }
        values[p] = sum / values[kDiagonal];
      }
      let d = values[diagonal];
      for (let p = start; p < diagonal; p++) d -= values[p] * values[p];
      for (let p = start; p <= diagonal; p++) position[colIndex[p]] = -1;
      if (!(d > 0)) {
        ok = false;
        break;
      }
      values[diagonal] = Math.sqrt(d);
    }
    if (ok) {
      return {
        apply(r, out) {
          // Forward L y = r, then backward L^T x = y (in place in out).
          for (let i = 0; i < n; i++) {
            const diagonal = rowPtr[i + 1] - 1;
            let sum = r[i];
            for (let p = rowPtr[i]; p < diagonal; p++) sum -= values[p] * out[colIndex[p]];
            out[i] = sum / values[diagonal];
          }
          for (let i = n - 1; i >= 0; i--) {
            const diagonal = rowPtr[i + 1] - 1;
            const xi = out[i] / values[diagonal];
            out[i] = xi;
            for (let p = rowPtr[i]; p < diagonal; p++) out[colIndex[p]] -= values[p] * xi;
          }
          return out;
        },
      };
    }
    shift = shift === 0 ? 1e-3 : 2 * shift;
  }
  throw new Error("incompleteCholesky: breakdown even with diagonal shifts (is the matrix SPD?)");
}

/**
 * Incomplete LU ILU(0) preconditioner M = L U on A's pattern (plus the diagonal). Zero pivots are replaced
 * by sqrt(machine epsilon) * max|A| to keep the preconditioner defined.
 *
 * @example
 * const M = incompleteLu(A);
 * gmres(A, b, { preconditioner: M });
 */
export function incompleteLu(A: CsrMatrix): Preconditioner {
  if (A.rows !== A.cols) throw invalidArgument("incompleteLu: matrix must be square");
  const n = A.rows;
  const full = withDiagonal(A);
  const { rowPtr, colIndex } = full;
  const values = Float64Array.from(full.values);
  const diagonalSlot = new Int32Array(n);
  for (let i = 0; i < n; i++) diagonalSlot[i] = full.indexOf(i, i);
  const replacement = Math.sqrt(Number.EPSILON) * (full.maxAbs() || 1);
  const position = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const start = rowPtr[i];
    const end = rowPtr[i + 1];
    for (let p = start; p < end; p++) position[colIndex[p]] = p;
    for (let p = start; p < end; p++) {
      const k = colIndex[p];
      if (k >= i) break;
      const multiplier = values[p] / values[diagonalSlot[k]];
      values[p] = multiplier;
      for (let q = diagonalSlot[k] + 1; q < rowPtr[k + 1]; q++) {
        const slot = position[colIndex[q]];
        if (slot >= 0) values[slot] -= multiplier * values[q];
      }
    }
    for (let p = start; p < end; p++) position[colIndex[p]] = -1;
    if (values[diagonalSlot[i]] === 0 || !Number.isFinite(values[diagonalSlot[i]])) {
      values[diagonalSlot[i]] = replacement;
    }
  }
  return {
    apply(r, out) {
      for (let i = 0; i < n; i++) {
        let sum = r[i];
        const diagonal = diagonalSlot[i];
        for (let p = rowPtr[i]; p < diagonal; p++) sum -= values[p] * out[colIndex[p]];
        out[i] = sum;
      }
      for (let i = n - 1; i >= 0; i--) {
        const diagonal = diagonalSlot[i];
        let sum = out[i];
        for (let p = diagonal + 1; p < rowPtr[i + 1]; p++) sum -= values[p] * out[colIndex[p]];
        out[i] = sum / values[diagonal];
      }
      return out;
    },
  };
}

function startingPoint(n: number, options: KrylovOptions): Float64Array {
  const x = new Float64Array(n);
  if (options.initialGuess !== undefined) {
    if (options.initialGuess.length !== n)
      throw invalidArgument("Krylov solver: initialGuess has the wrong length");
    for (let i = 0; i < n; i++) x[i] = options.initialGuess[i];
  }
  return x;
}

/** A custom preconditioner must be an object with `apply`; a string here is a misspelt name. */
function checkPreconditioner(choice: unknown, operation: string): Preconditioner {
  if (!isPreconditioner(choice)) {
    throw invalidArgument(
      `${operation}: preconditioner must be ${operation === "gmres" ? '"ilu0", "jacobi"' : '"jacobi", "ic0"'}, "none" or an object with apply(r, z), got ${typeof choice === "string" ? JSON.stringify(choice) : typeof choice}`,
    );
  }
  return choice;
}

/** An object with an `apply` method. */
function isPreconditioner(value: unknown): value is Preconditioner {
  return value !== null && typeof value === "object" && "apply" in value && typeof value.apply === "function";
}

function checkSystem(A: CsrMatrix, b: ArrayLike<number>): void {
  checkCsr(A, "Krylov solver");
  checkArrayLike(b, "Krylov solver", "b", true);
  if (A.rows !== A.cols)
    throw invalidArgument(`Krylov solver: needs a square matrix, got ${A.rows}x${A.cols}`);
  if (b.length !== A.rows)
    throw invalidArgument(`Krylov solver: b has length ${b.length}, expected ${A.rows}`);
}

/**
 * Preconditioned conjugate gradients for symmetric positive definite A. The recursive residual is checked
 * against the true residual before declaring convergence (and replaced by it if they disagree).
 * Returns `converged: false` with the best iterate when the limit is hit or the matrix is found indefinite.
 *
 * @example
 * const { x, converged } = conjugateGradient(A, b, { preconditioner: "ic0" });
 */
export function conjugateGradient(
  A: CsrMatrix,
  b: ArrayLike<number>,
  options: ConjugateGradientOptions = {},
): IterativeResult {
  checkOptions("conjugateGradient", options, [
    "relativeTolerance",
    "absoluteTolerance",
    "maxIterations",
    "initialGuess",
    "preconditioner",
  ]);
  checkSystem(A, b);
  const n = A.rows;
  const choice = options.preconditioner ?? "jacobi";
  const preconditioner =
    choice === "jacobi"
      ? jacobiPreconditioner(A)
      : choice === "ic0"
        ? incompleteCholesky(A)
        : choice === "none"
          ? identityPreconditioner
          : checkPreconditioner(choice, "conjugateGradient");
  const maxIterations = options.maxIterations ?? Math.max(1000, 2 * n);
  const tolerance = Math.max((options.relativeTolerance ?? 1e-12) * norm(b), options.absoluteTolerance ?? 0);
  const x = startingPoint(n, options);
  const r = residual(A, x, b, new Float64Array(n));
  const z = new Float64Array(n);
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  let residualNorm = norm(r);
  let iterations = 0;
  const restartDirection = (): number => {
    preconditioner.apply(r, z);
    p.set(z);
    return dot(r, z);
  };
  let rz = restartDirection();
  while (residualNorm > tolerance && iterations < maxIterations) {
    A.matvec(p, q);
    iterations++;
    const curvature = dot(p, q);
    if (!(curvature > 0) || !(rz > 0)) break; // indefinite matrix or preconditioner, or breakdown
    const alpha = rz / curvature;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * q[i];
    }
    residualNorm = norm(r);
    if (residualNorm <= tolerance) {
      residual(A, x, b, r);
      residualNorm = norm(r);
      if (residualNorm <= tolerance) break;
      rz = restartDirection();
      continue;
    }
    preconditioner.apply(r, z);
    const rzNext = dot(r, z);
    const beta = rzNext / rz;
    rz = rzNext;
    for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
  }
  residualNorm = norm(residual(A, x, b, r));
  return { x, iterations, residualNorm, converged: residualNorm <= tolerance };
}

/** The work arrays of GMRES(m) on n unknowns, reused by every restart cycle. */
interface GmresWork {
  /** Krylov subspace dimension m. */
  readonly restart: number;
  /** The m + 1 orthonormal basis vectors V. */
  readonly basis: Float64Array[];
  /** The Hessenberg matrix, column-major: column j has m + 1 rows; triangularized by Givens rotations. */
  readonly hessenberg: Float64Array;
  /** The Givens rotations applied so far. */
  readonly cosines: Float64Array;
  readonly sines: Float64Array;
  /** The rotated right-hand side ||r|| e1 of the least-squares problem. */
  readonly g: Float64Array;
  /** The least-squares solution. */
  readonly y: Float64Array;
  /** Length-n scratch vectors. */
  readonly z: Float64Array;
  readonly w: Float64Array;
  readonly combination: Float64Array;
}

function gmresWork(n: number, restart: number): GmresWork {
  const basis: Float64Array[] = [];
  for (let j = 0; j <= restart; j++) basis.push(new Float64Array(n));
  return {
    restart,
    basis,
    hessenberg: new Float64Array((restart + 1) * restart),
    cosines: new Float64Array(restart),
    sines: new Float64Array(restart),
    g: new Float64Array(restart + 1),
    y: new Float64Array(restart),
    z: new Float64Array(n),
    w: new Float64Array(n),
    combination: new Float64Array(n),
  };
}

/**
 * Arnoldi step j: w = A M^{-1} v_j orthogonalized against v_0..v_j (modified Gram-Schmidt) into column j of
 * the Hessenberg matrix, v_{j+1} = w / ||w||, then the earlier Givens rotations and a new one that zeroes the
 * subdiagonal, applied to g too. Returns ||w|| (0 on a lucky breakdown).
 */
function arnoldiColumn(A: CsrMatrix, preconditioner: Preconditioner, work: GmresWork, j: number): number {
  const { restart, basis, hessenberg, cosines, sines, g, z, w } = work;
  const n = w.length;
  preconditioner.apply(basis[j], z);
  A.matvec(z, w);
  const column = j * (restart + 1);
  for (let i = 0; i <= j; i++) {
    const vi = basis[i];
    const h = dot(w, vi);
    hessenberg[column + i] = h;
    for (let t = 0; t < n; t++) w[t] -= h * vi[t];
  }
  const subdiagonal = norm(w);
  hessenberg[column + j + 1] = subdiagonal;
  if (subdiagonal > 0) {
    const next = basis[j + 1];
    for (let t = 0; t < n; t++) next[t] = w[t] / subdiagonal;
  }
  for (let i = 0; i < j; i++) {
    const a = hessenberg[column + i];
    const c = hessenberg[column + i + 1];
    hessenberg[column + i] = cosines[i] * a + sines[i] * c;
    hessenberg[column + i + 1] = -sines[i] * a + cosines[i] * c;
  }
  const a = hessenberg[column + j];
  const c = hessenberg[column + j + 1];
  const radius = Math.hypot(a, c);
  cosines[j] = radius === 0 ? 1 : a / radius;
  sines[j] = radius === 0 ? 0 : c / radius;
  hessenberg[column + j] = radius;
  hessenberg[column + j + 1] = 0;
  g[j + 1] = -sines[j] * g[j];
  g[j] = cosines[j] * g[j];
  return subdiagonal;
}

/** Solves the triangular least-squares system of the first `columns` columns and updates x += M^{-1} V y. */
function addCorrection(
  preconditioner: Preconditioner,
  work: GmresWork,
  columns: number,
  x: Float64Array,
): void {
  const { restart, basis, hessenberg, g, y, z, combination } = work;
  const n = x.length;
  for (let i = columns - 1; i >= 0; i--) {
    let sum = g[i];
    for (let k = i + 1; k < columns; k++) sum -= hessenberg[k * (restart + 1) + i] * y[k];
    const diagonal = hessenberg[i * (restart + 1) + i];
    y[i] = diagonal === 0 ? 0 : sum / diagonal;
  }
  combination.fill(0);
  for (let k = 0; k < columns; k++) {
    const vk = basis[k];
    const yk = y[k];
    for (let t = 0; t < n; t++) combination[t] += yk * vk[t];
  }
  preconditioner.apply(combination, z);
  for (let t = 0; t < n; t++) x[t] += z[t];
}

/**
 * Restarted GMRES(m) with right preconditioning (so the monitored residual is the true, unpreconditioned one),
 * modified Gram-Schmidt and Givens rotations. The true residual is recomputed at every restart and at the end.
 *
 * @example
 * const { x, converged, iterations } = gmres(A, b, { restart: 40 });
 */
export function gmres(A: CsrMatrix, b: ArrayLike<number>, options: GmresOptions = {}): IterativeResult {
  checkOptions("gmres", options, [
    "relativeTolerance",
    "absoluteTolerance",
    "maxIterations",
    "initialGuess",
    "preconditioner",
    "restart",
  ]);
  checkSystem(A, b);
  const n = A.rows;
  const choice = options.preconditioner ?? "ilu0";
  const preconditioner =
    choice === "ilu0"
      ? incompleteLu(A)
      : choice === "jacobi"
        ? jacobiPreconditioner(A)
        : choice === "none"
          ? identityPreconditioner
          : checkPreconditioner(choice, "gmres");
  const restart = Math.max(1, Math.min(options.restart ?? 30, Math.max(n, 1)));
  const maxIterations = options.maxIterations ?? Math.max(1000, 2 * n);
  const tolerance = Math.max((options.relativeTolerance ?? 1e-12) * norm(b), options.absoluteTolerance ?? 0);
  const x = startingPoint(n, options);
  const r = residual(A, x, b, new Float64Array(n));
  let residualNorm = norm(r);
  let iterations = 0;
  const work = gmresWork(n, restart);
  const { basis, g } = work;
  let stagnated = false;
  while (residualNorm > tolerance && iterations < maxIterations && !stagnated) {
    const v0 = basis[0];
    for (let i = 0; i < n; i++) v0[i] = r[i] / residualNorm;
    g.fill(0);
    g[0] = residualNorm;
    let columns = 0;
    for (let j = 0; j < restart && iterations < maxIterations; j++) {
      const subdiagonal = arnoldiColumn(A, preconditioner, work, j);
      iterations++;
      columns = j + 1;
      if (Math.abs(g[j + 1]) <= tolerance || subdiagonal === 0) break;
    }
    addCorrection(preconditioner, work, columns, x);
    const previous = residualNorm;
    residual(A, x, b, r);
    residualNorm = norm(r);
    // A restart cycle that gains nothing cannot gain anything later either (the Krylov space repeats).
    if (!(residualNorm < previous)) stagnated = true;
  }
  return { x, iterations, residualNorm, converged: residualNorm <= tolerance };
}
