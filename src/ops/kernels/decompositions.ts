/** @file Dense factorisations and solvers, batched over leading axes: LU factor and solve, solve, inv, det, slogdet, Cholesky, triangular solves. */

import { invalidArgument } from "../../errors.js";
import { formatShape, NDArray, shapeSize } from "../../values/ndarray.js";
import { broadcastShapesFor } from "./broadcast.js";
import { broadcastStrides, forEachRun } from "./strided.js";

// ---------------------------------------------------------------------------------------------------------------
// Dense factorisations and solvers (batched over leading axes)
// ---------------------------------------------------------------------------------------------------------------

/**
 * A batched LU factorisation with partial pivoting, `P A = L U` for each matrix, as returned by {@link luFactor}.
 * `lu` holds U on and above the diagonal and the multipliers of the unit lower-triangular L below it.
 * `pivots` is LAPACK `getrf` style (0-based): at step k row k was swapped with row `pivots[b * n + k]` (>= k).
 */
export interface LUFactorization {
  /** Packed factors, shape `[...batchShape, n, n]`. */
  readonly lu: NDArray;
  /** Row interchanges, length `batchSize * n`. */
  readonly pivots: Int32Array;
  /** Sign (+1 / -1) of each permutation, length `batchSize`. */
  readonly pivotSigns: Float64Array;
  /** 1 where an exactly zero pivot was met (the matrix is singular), length `batchSize`. */
  readonly singular: Uint8Array;
  /** Leading batch dimensions. */
  readonly batchShape: readonly number[];
  /** Matrix order. */
  readonly n: number;
}

function squareInfo(a: NDArray, op: string): { batchShape: number[]; n: number; batchSize: number } {
  const rank = a.ndim;
  if (rank < 2 || a.shape[rank - 1] !== a.shape[rank - 2]) {
    throw invalidArgument(
      `${op}: expected square matrices in the last two axes, got shape ${formatShape(a.shape)}`,
    );
  }
  const batchShape = a.shape.slice(0, -2);
  return { batchShape, n: a.shape[rank - 1], batchSize: shapeSize(batchShape) };
}

function batchLabel(batchShape: readonly number[], index: number): string {
  if (batchShape.length === 0) return "";
  const position: number[] = [];
  let rest = index;
  for (let d = batchShape.length - 1; d >= 0; d--) {
    position.unshift(rest % batchShape[d]);
    rest = Math.floor(rest / batchShape[d]);
  }
  return ` (batch index [${position.join(", ")}])`;
}

/**
 * LU factorisation with partial pivoting of each matrix in the last two axes. Never throws for singular
 * matrices (they are flagged in `singular`; solving with them throws, their determinant is 0).
 * @example
 * const factor = luFactor(array([[0, 1], [2, 3]]));
 * luSolve(factor, array([1, 5])).toArray(); // [1, 1]
 */
export function luFactor(a: NDArray): LUFactorization {
  const { batchShape, n, batchSize } = squareInfo(a, "luFactor");
  const lu = a.data.slice();
  const pivots = new Int32Array(batchSize * n);
  const pivotSigns = new Float64Array(batchSize).fill(1);
  const singular = new Uint8Array(batchSize);
  const block = n * n;
  for (let batch = 0; batch < batchSize; batch++) {
    const base = batch * block;
    let sign = 1;
    for (let k = 0; k < n; k++) {
      let p = k;
      let largest = Math.abs(lu[base + k * n + k]);
      for (let i = k + 1; i < n; i++) {
        const v = Math.abs(lu[base + i * n + k]);
        if (v > largest) {
          largest = v;
          p = i;
        }
      }
      pivots[batch * n + k] = p;
      if (p !== k) {
        sign = -sign;
        const rowK = base + k * n;
        const rowP = base + p * n;
        for (let j = 0; j < n; j++) {
          const tmp = lu[rowK + j];
          lu[rowK + j] = lu[rowP + j];
          lu[rowP + j] = tmp;
        }
      }
      const pivotRow = base + k * n;
      const pivot = lu[pivotRow + k];
      if (pivot === 0) {
        singular[batch] = 1;
        continue;
      }
      for (let i = k + 1; i < n; i++) {
        const row = base + i * n;
        const factor = lu[row + k] / pivot;
        lu[row + k] = factor;
        if (factor === 0) continue;
        for (let j = k + 1; j < n; j++) lu[row + j] -= factor * lu[pivotRow + j];
      }
    }
    pivotSigns[batch] = sign;
  }
  return { lu: new NDArray(lu, a.shape), pivots, pivotSigns, singular, batchShape, n };
}

interface RightHandSide {
  batchShape: number[];
  columns: number;
  isVector: boolean;
}

/** NumPy 2 `solve` convention: a 1-D `b` is one vector; otherwise `b` is `[..., n, k]`. */
function rightHandSide(b: NDArray, n: number, op: string): RightHandSide {
  if (b.ndim === 1) {
    if (b.shape[0] !== n)
      throw invalidArgument(
        `${op}: right-hand side of shape ${formatShape(b.shape)} does not match matrix order ${n}`,
      );
    return { batchShape: [], columns: 1, isVector: true };
  }
  if (b.ndim < 1 || b.shape[b.ndim - 2] !== n) {
    throw invalidArgument(
      `${op}: right-hand side of shape ${formatShape(b.shape)} must be [n] or [..., n, k] with n = ${n}`,
    );
  }
  return { batchShape: b.shape.slice(0, -2), columns: b.shape[b.ndim - 1], isVector: false };
}

/**
 * Pairs every output batch index with the matrix batch index and right-hand-side batch index it reads
 * (broadcasting). Returns [matrixIndex, rhsIndex] pairs flattened.
 */
function batchPairs(
  matrixBatch: readonly number[],
  rhsBatch: readonly number[],
  op: string,
): { batch: number[]; pairs: Int32Array } {
  const batch = broadcastShapesFor(op, [matrixBatch, rhsBatch]);
  const count = shapeSize(batch);
  const pairs = new Int32Array(2 * count);
  let position = 0;
  forEachRun(
    batch,
    [broadcastStrides(matrixBatch, batch), broadcastStrides(rhsBatch, batch)],
    null,
    (offsets, length, steps) => {
      let i = offsets[0];
      let j = offsets[1];
      for (let t = 0; t < length; t++, i += steps[0], j += steps[1]) {
        pairs[position++] = i;
        pairs[position++] = j;
      }
    },
  );
  return { batch, pairs };
}

/** Swaps rows i and p of the row-major n x k block of `x` at `xBase`. */
function swapRows(x: Float64Array, xBase: number, k: number, i: number, p: number): void {
  const ri = xBase + i * k;
  const rp = xBase + p * k;
  for (let c = 0; c < k; c++) {
    const tmp = x[ri + c];
    x[ri + c] = x[rp + c];
    x[rp + c] = tmp;
  }
}

/** Solves in place with one packed LU block for a row-major n x k block `x`. */
function luSolveBlock(
  lu: Float64Array,
  base: number,
  pivots: Int32Array,
  pivotBase: number,
  x: Float64Array,
  xBase: number,
  n: number,
  k: number,
  transposed: boolean,
): void {
  if (transposed) luSolveTransposedBlock(lu, base, pivots, pivotBase, x, xBase, n, k);
  else luSolveForwardBlock(lu, base, pivots, pivotBase, x, xBase, n, k);
}

/** A x = b with P A = L U: x = U^-1 L^-1 P b, in place on the n x k block of `x` at `xBase`. */
function luSolveForwardBlock(
  lu: Float64Array,
  base: number,
  pivots: Int32Array,
  pivotBase: number,
  x: Float64Array,
  xBase: number,
  n: number,
  k: number,
): void {
  for (let i = 0; i < n; i++) {
    const p = pivots[pivotBase + i];
    if (p !== i) swapRows(x, xBase, k, i, p);
  }
  if (k === 1) {
    // Single right-hand side: row-times-vector substitutions.
    for (let i = 1; i < n; i++) {
      const lrow = base + i * n;
      let value = x[xBase + i];
      for (let j = 0; j < i; j++) value -= lu[lrow + j] * x[xBase + j];
      x[xBase + i] = value;
    }
    for (let i = n - 1; i >= 0; i--) {
      const urow = base + i * n;
      let value = x[xBase + i];
      for (let j = i + 1; j < n; j++) value -= lu[urow + j] * x[xBase + j];
      x[xBase + i] = value / lu[urow + i];
    }
    return;
  }
  // L y = P b (unit lower triangular)
  for (let i = 1; i < n; i++) {
    const ri = xBase + i * k;
    const lrow = base + i * n;
    for (let j = 0; j < i; j++) {
      const l = lu[lrow + j];
      if (l === 0) continue;
      const rj = xBase + j * k;
      for (let c = 0; c < k; c++) x[ri + c] -= l * x[rj + c];
    }
  }
  // U x = y
  for (let i = n - 1; i >= 0; i--) {
    const ri = xBase + i * k;
    const urow = base + i * n;
    for (let j = i + 1; j < n; j++) {
      const u = urow + j;
      const value = lu[u];
      if (value === 0) continue;
      const rj = xBase + j * k;
      for (let c = 0; c < k; c++) x[ri + c] -= value * x[rj + c];
    }
    const inverse = 1 / lu[urow + i];
    for (let c = 0; c < k; c++) x[ri + c] *= inverse;
  }
}

/** A^T x = b with A^T = U^T L^T P: solve U^T y = b (lower, non-unit), then L^T z = y (upper, unit), then x = P^T z. */
function luSolveTransposedBlock(
  lu: Float64Array,
  base: number,
  pivots: Int32Array,
  pivotBase: number,
  x: Float64Array,
  xBase: number,
  n: number,
  k: number,
): void {
  for (let i = 0; i < n; i++) {
    const ri = xBase + i * k;
    for (let j = 0; j < i; j++) {
      const value = lu[base + j * n + i];
      if (value === 0) continue;
      const rj = xBase + j * k;
      for (let c = 0; c < k; c++) x[ri + c] -= value * x[rj + c];
    }
    const inverse = 1 / lu[base + i * n + i];
    for (let c = 0; c < k; c++) x[ri + c] *= inverse;
  }
  for (let i = n - 2; i >= 0; i--) {
    const ri = xBase + i * k;
    for (let j = i + 1; j < n; j++) {
      const value = lu[base + j * n + i];
      if (value === 0) continue;
      const rj = xBase + j * k;
      for (let c = 0; c < k; c++) x[ri + c] -= value * x[rj + c];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const p = pivots[pivotBase + i];
    if (p !== i) swapRows(x, xBase, k, i, p);
  }
}

function luSolveNamed(factor: LUFactorization, b: NDArray, transposed: boolean, op: string): NDArray {
  const n = factor.n;
  const rhs = rightHandSide(b, n, op);
  const { batch, pairs } = batchPairs(factor.batchShape, rhs.batchShape, op);
  const k = rhs.columns;
  const block = n * k;
  const count = pairs.length / 2;
  const out = new Float64Array(count * block);
  const src = b.data;
  const lu = factor.lu.data;
  for (let t = 0; t < count; t++) {
    const matrix = pairs[2 * t];
    const rhsIndex = pairs[2 * t + 1];
    if (factor.singular[matrix])
      throw invalidArgument(`${op}: singular matrix${batchLabel(factor.batchShape, matrix)}`);
    const xBase = t * block;
    out.set(src.subarray(rhsIndex * block, rhsIndex * block + block), xBase);
    luSolveBlock(lu, matrix * n * n, factor.pivots, matrix * n, out, xBase, n, k, transposed);
  }
  const shape = rhs.isVector ? [...batch, n] : [...batch, n, k];
  return new NDArray(out, shape);
}

/**
 * Solves `A x = b` (or `A^T x = b` when `transpose`) reusing an {@link luFactor} result. `b` follows NumPy 2
 * `solve`: a 1-D `b` is a single vector (result `[..., n]`), otherwise `b` is `[..., n, k]`; batch axes broadcast.
 * Throws for singular matrices.
 * @example
 * luSolve(luFactor(array([[2, 0], [0, 4]])), array([2, 4])).toArray(); // [1, 1]
 */
export function luSolve(factor: LUFactorization, b: NDArray, transpose = false): NDArray {
  return luSolveNamed(factor, b, transpose, "luSolve");
}

/**
 * Solves `a x = b` for square `a` (batched over leading axes), with NumPy 2 `solve` conventions for `b`
 * (1-D = one vector, otherwise `[..., n, k]`). Throws a clear error for singular matrices.
 * @example
 * solve(array([[3, 1], [1, 2]]), array([9, 8])).toArray(); // [2, 3]
 */
export function solve(a: NDArray, b: NDArray): NDArray {
  squareInfo(a, "solve");
  return luSolveNamed(luFactor(a), b, false, "solve");
}

/**
 * Inverse of each square matrix in the last two axes; throws for singular matrices.
 * @example
 * inv(array([[2, 0], [0, 4]])).toArray(); // [[0.5, 0], [0, 0.25]]
 */
export function inv(a: NDArray): NDArray {
  const { n } = squareInfo(a, "inv");
  const identity = new Float64Array(n * n);
  for (let i = 0; i < n; i++) identity[i * n + i] = 1;
  return luSolveNamed(luFactor(a), new NDArray(identity, [n, n]), false, "inv");
}

/**
 * Determinant of each square matrix in the last two axes via LU (sign-correct; 0 for singular matrices).
 * @example
 * det(array([[1, 2], [3, 4]])).item(); // -2
 */
export function det(a: NDArray): NDArray {
  const factor = luFactor(a);
  const n = factor.n;
  const lu = factor.lu.data;
  const out = new Float64Array(factor.pivotSigns.length);
  for (let batch = 0; batch < out.length; batch++) {
    let value = factor.pivotSigns[batch];
    const base = batch * n * n;
    for (let i = 0; i < n; i++) value *= lu[base + i * n + i];
    out[batch] = factor.singular[batch] ? 0 : value;
  }
  return new NDArray(out, factor.batchShape);
}

/**
 * Sign and natural log of the absolute determinant (robust to over/underflow); singular gives sign 0 and -Infinity.
 * @example
 * const { sign, logAbsDet } = slogdet(array([[1, 2], [3, 4]])); // sign -1, logAbsDet log(2)
 */
export function slogdet(a: NDArray): { sign: NDArray; logAbsDet: NDArray } {
  const factor = luFactor(a);
  const n = factor.n;
  const lu = factor.lu.data;
  const count = factor.pivotSigns.length;
  const signs = new Float64Array(count);
  const logs = new Float64Array(count);
  for (let batch = 0; batch < count; batch++) {
    let sign = factor.pivotSigns[batch];
    let total = 0;
    const base = batch * n * n;
    for (let i = 0; i < n; i++) {
      const d = lu[base + i * n + i];
      if (d < 0) sign = -sign;
      total += Math.log(Math.abs(d));
    }
    if (factor.singular[batch]) {
      sign = 0;
      total = Number.NEGATIVE_INFINITY;
    }
    signs[batch] = sign;
    logs[batch] = total;
  }
  return { sign: new NDArray(signs, factor.batchShape), logAbsDet: new NDArray(logs, factor.batchShape) };
}

/**
 * Lower-triangular Cholesky factor `L` with `L L^T = A` for each symmetric positive-definite matrix in the last
 * two axes (only the lower triangle of `A` is read). Throws a clear error if a matrix is not positive definite.
 * @example
 * cholesky(array([[4, 2], [2, 5]])).toArray(); // [[2, 0], [1, 2]]
 */
export function cholesky(a: NDArray): NDArray {
  const { batchShape, n, batchSize } = squareInfo(a, "cholesky");
  const src = a.data;
  const out = new Float64Array(src.length);
  const block = n * n;
  for (let batch = 0; batch < batchSize; batch++) {
    const base = batch * block;
    for (let j = 0; j < n; j++) {
      const rowJ = base + j * n;
      let diagonalValue = src[rowJ + j];
      for (let p = 0; p < j; p++) diagonalValue -= out[rowJ + p] * out[rowJ + p];
      if (!(diagonalValue > 0)) {
        throw invalidArgument(
          `cholesky: matrix is not positive definite${batchLabel(batchShape, batch)} (leading minor of order ${j + 1})`,
        );
      }
      const pivot = Math.sqrt(diagonalValue);
      out[rowJ + j] = pivot;
      for (let i = j + 1; i < n; i++) {
        const rowI = base + i * n;
        let value = src[rowI + j];
        for (let p = 0; p < j; p++) value -= out[rowI + p] * out[rowJ + p];
        out[rowI + j] = value / pivot;
      }
    }
  }
  return new NDArray(out, a.shape);
}

/** Options of {@link solveTriangular}. */
export interface TriangularSolveOptions {
  /** Use the lower triangle of `a` (default false: upper, like SciPy). */
  readonly lower?: boolean;
  /** Solve `a^T x = b` instead of `a x = b`. */
  readonly transpose?: boolean;
  /** Assume ones on the diagonal of `a` (the diagonal is not read). */
  readonly unitDiagonal?: boolean;
}

/**
 * Solves `a x = b` (or `a^T x = b`) where `a` is triangular; only the chosen triangle is read. Batched over
 * leading axes with the same `b` conventions as {@link solve}. Throws on a zero diagonal entry.
 * @example
 * solveTriangular(array([[2, 0], [1, 1]]), array([2, 3]), { lower: true }).toArray(); // [1, 2]
 */
export function solveTriangular(a: NDArray, b: NDArray, options: TriangularSolveOptions = {}): NDArray {
  const op = "solveTriangular";
  const { batchShape, n } = squareInfo(a, op);
  const lower = options.lower ?? false;
  const transposed = options.transpose ?? false;
  const unit = options.unitDiagonal ?? false;
  const rhs = rightHandSide(b, n, op);
  const { batch, pairs } = batchPairs(batchShape, rhs.batchShape, op);
  const k = rhs.columns;
  const block = n * k;
  const count = pairs.length / 2;
  const out = new Float64Array(count * block);
  const src = b.data;
  const t = a.data;
  // Element (i, j) of op(a) is at rowStride * i + colStride * j.
  const rowStride = transposed ? 1 : n;
  const colStride = transposed ? n : 1;
  const forward = lower !== transposed;
  for (let q = 0; q < count; q++) {
    const base = pairs[2 * q] * n * n;
    const rhsIndex = pairs[2 * q + 1];
    const xBase = q * block;
    out.set(src.subarray(rhsIndex * block, rhsIndex * block + block), xBase);
    for (let step = 0; step < n; step++) {
      const i = forward ? step : n - 1 - step;
      const ri = xBase + i * k;
      const jStart = forward ? 0 : i + 1;
      const jStop = forward ? i : n;
      for (let j = jStart; j < jStop; j++) {
        const value = t[base + i * rowStride + j * colStride];
        if (value === 0) continue;
        const rj = xBase + j * k;
        for (let c = 0; c < k; c++) out[ri + c] -= value * out[rj + c];
      }
      if (!unit) {
        const d = t[base + i * (rowStride + colStride)];
        if (d === 0) {
          throw invalidArgument(
            `${op}: singular matrix (zero diagonal entry ${i})${batchLabel(batchShape, pairs[2 * q])}`,
          );
        }
        const inverse = 1 / d;
        for (let c = 0; c < k; c++) out[ri + c] *= inverse;
      }
    }
  }
  const shape = rhs.isVector ? [...batch, n] : [...batch, n, k];
  return new NDArray(out, shape);
}
