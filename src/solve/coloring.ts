/**
 * @file Sparse Jacobians by compression: greedy distance-2 column coloring of a sparsity pattern, and the
 * recovery of a CSR Jacobian from one Jacobian-vector product per color. Also banded pattern helpers.
 */
import { InvalidArgumentError } from "../errors.js";
import { CsrMatrix, transposePattern } from "./sparse/csr.js";

/** A column coloring: columns of one color share no row, so one product J s_c recovers them all. */
export interface ColumnColoring {
  /** Color of each column, 0..count-1. */
  readonly colors: Int32Array;
  /** Number of colors. */
  readonly count: number;
}

/**
 * Greedy distance-2 coloring of the columns of a pattern: columns j and k get different colors whenever some
 * row has entries in both. Columns are visited in natural order, which is optimal for banded patterns
 * (bandwidth + 1 colors for a band of total width bandwidth + 1).
 *
 * @example
 * colorColumns(tridiagonalPattern(100)).count; // 3
 */
export function colorColumns(pattern: CsrMatrix): ColumnColoring {
  const { cols, rowPtr, colIndex } = pattern;
  const columns = transposePattern(pattern).pattern; // row j of the transpose lists the rows of column j
  const colors = new Int32Array(cols).fill(-1);
  // forbidden[c] === j + 1 marks color c as taken by a neighbour of column j
  const forbidden = new Int32Array(cols + 1);
  let count = 0;
  for (let j = 0; j < cols; j++) {
    for (let q = columns.rowPtr[j]; q < columns.rowPtr[j + 1]; q++) {
      const i = columns.colIndex[q];
      for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
        const color = colors[colIndex[p]];
        if (color >= 0) forbidden[color] = j + 1;
      }
    }
    let color = 0;
    while (forbidden[color] === j + 1) color++;
    colors[j] = color;
    if (color + 1 > count) count = color + 1;
  }
  return { colors, count };
}

/**
 * The seed vector of each color: s_c[j] = 1 when column j has color c.
 *
 * @example
 * colorSeeds(colorColumns(pattern)); // one Float64Array of length cols per color
 */
export function colorSeeds(coloring: ColumnColoring): Float64Array[] {
  const seeds: Float64Array[] = [];
  for (let c = 0; c < coloring.count; c++) seeds.push(new Float64Array(coloring.colors.length));
  coloring.colors.forEach((color, j) => {
    seeds[color][j] = 1;
  });
  return seeds;
}

/**
 * Recovers the Jacobian on `pattern` from the compressed products J s_c (one per color): J[i, j] = (J s_color(j))[i].
 * The result shares the pattern arrays.
 *
 * @example
 * const J = recoverJacobian(pattern, coloring, products);
 */
export function recoverJacobian(
  pattern: CsrMatrix,
  coloring: ColumnColoring,
  products: readonly Float64Array[],
): CsrMatrix {
  const { rows, rowPtr, colIndex } = pattern;
  const colors = coloring.colors;
  const values = new Float64Array(pattern.nnz);
  for (let i = 0; i < rows; i++) {
    for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) values[p] = products[colors[colIndex[p]]][i];
  }
  return new CsrMatrix(pattern.rows, pattern.cols, rowPtr, colIndex, values);
}

/**
 * The n-by-n banded pattern with `lower` sub-diagonals and `upper` super-diagonals (values zero), e.g. the
 * Jacobian sparsity of a finite-difference stencil.
 *
 * @example
 * bandedPattern(5, 1, 1).nnz; // 13 (tridiagonal)
 */
export function bandedPattern(n: number, lower: number, upper: number): CsrMatrix {
  if (
    !Number.isInteger(n) ||
    n < 0 ||
    !Number.isInteger(lower) ||
    lower < 0 ||
    !Number.isInteger(upper) ||
    upper < 0
  ) {
    throw new InvalidArgumentError("bandedPattern", "n, lower and upper must be non-negative integers");
  }
  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++)
    rowPtr[i + 1] = rowPtr[i] + Math.min(n - 1, i + upper) - Math.max(0, i - lower) + 1;
  const colIndex = new Int32Array(rowPtr[n]);
  for (let i = 0, slot = 0; i < n; i++) {
    for (let j = Math.max(0, i - lower); j <= Math.min(n - 1, i + upper); j++) colIndex[slot++] = j;
  }
  return new CsrMatrix(n, n, rowPtr, colIndex, new Float64Array(rowPtr[n]));
}

/**
 * The n-by-n tridiagonal pattern (values zero).
 *
 * @example
 * tridiagonalPattern(4).nnz; // 10
 */
export function tridiagonalPattern(n: number): CsrMatrix {
  return bandedPattern(n, 1, 1);
}
