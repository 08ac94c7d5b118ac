/** @file Tiny dense linear solvers (row-major Float64Array) for the 2m×2m systems of limited-memory methods. */

/**
 * Overwrites the lower triangle of the symmetric positive definite `matrix` (size×size, row-major) with its
 * Cholesky factor C (matrix = C·Cᵀ). Returns false, leaving `matrix` partially overwritten, when a pivot is not
 * positive (the matrix is not numerically positive definite).
 *
 * @example
 * const matrix = Float64Array.of(4, 2, 2, 5);
 * choleskyFactorInPlace(matrix, 2); // true, lower triangle now [2, ·, 1, 2]
 */
export function choleskyFactorInPlace(matrix: Float64Array, size: number): boolean {
  for (let column = 0; column < size; column++) {
    let pivot = matrix[column * size + column];
    for (let k = 0; k < column; k++) pivot -= matrix[column * size + k] ** 2;
    if (!(pivot > 0) || !Number.isFinite(pivot)) return false;
    const diagonal = Math.sqrt(pivot);
    matrix[column * size + column] = diagonal;
    for (let row = column + 1; row < size; row++) {
      let entry = matrix[row * size + column];
      for (let k = 0; k < column; k++) entry -= matrix[row * size + k] * matrix[column * size + k];
      matrix[row * size + column] = entry / diagonal;
    }
  }
  return true;
}

/**
 * Solves (C·Cᵀ) x = rhs in place, given the Cholesky factor C stored in the lower triangle of `factor`.
 *
 * @example
 * const matrix = Float64Array.of(4, 2, 2, 5);
 * choleskyFactorInPlace(matrix, 2);
 * choleskySolveInPlace(matrix, 2, Float64Array.of(6, 7)); // [1, 1]
 */
export function choleskySolveInPlace(factor: Float64Array, size: number, rhs: Float64Array): Float64Array {
  for (let row = 0; row < size; row++) {
    let entry = rhs[row];
    for (let k = 0; k < row; k++) entry -= factor[row * size + k] * rhs[k];
    rhs[row] = entry / factor[row * size + row];
  }
  for (let row = size - 1; row >= 0; row--) {
    let entry = rhs[row];
    for (let k = row + 1; k < size; k++) entry -= factor[k * size + row] * rhs[k];
    rhs[row] = entry / factor[row * size + row];
  }
  return rhs;
}

/**
 * Solves the general square system matrix·x = rhs by Gaussian elimination with partial pivoting.
 * `matrix` and `rhs` are overwritten; the solution is returned in `rhs`. Returns null when the matrix is
 * numerically singular (a pivot below 1e-300 or a non-finite entry).
 *
 * @example
 * solveLinearSystemInPlace(Float64Array.of(0, 1, 1, 0), 2, Float64Array.of(2, 3)); // [3, 2]
 */
export function solveLinearSystemInPlace(
  matrix: Float64Array,
  size: number,
  rhs: Float64Array,
): Float64Array | null {
  for (let column = 0; column < size; column++) {
    let pivotRow = column;
    let pivotMagnitude = Math.abs(matrix[column * size + column]);
    for (let row = column + 1; row < size; row++) {
      const magnitude = Math.abs(matrix[row * size + column]);
      if (magnitude > pivotMagnitude) {
        pivotMagnitude = magnitude;
        pivotRow = row;
      }
    }
    if (!(pivotMagnitude > 1e-300) || !Number.isFinite(pivotMagnitude)) return null;
    if (pivotRow !== column) {
      for (let k = 0; k < size; k++) {
        const swap = matrix[column * size + k];
        matrix[column * size + k] = matrix[pivotRow * size + k];
        matrix[pivotRow * size + k] = swap;
      }
      const swap = rhs[column];
      rhs[column] = rhs[pivotRow];
      rhs[pivotRow] = swap;
    }
    const pivot = matrix[column * size + column];
    for (let row = column + 1; row < size; row++) {
      const factor = matrix[row * size + column] / pivot;
      if (factor === 0) continue;
      for (let k = column + 1; k < size; k++) matrix[row * size + k] -= factor * matrix[column * size + k];
      rhs[row] -= factor * rhs[column];
    }
  }
  for (let row = size - 1; row >= 0; row--) {
    let entry = rhs[row];
    for (let k = row + 1; k < size; k++) entry -= matrix[row * size + k] * rhs[k];
    rhs[row] = entry / matrix[row * size + row];
  }
  return rhs;
}
