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
 * Distance-2 coloring of the columns of a pattern: columns j and k get different colors whenever some row has
 * entries in both. Greedy in natural column order first (optimal for banded patterns: bandwidth + 1 colors
 * for a band of total width bandwidth + 1); when that uses more colors than the longest row (a lower bound),
 * DSATUR on the column intersection graph is tried and the coloring with fewer colors kept. On P1 triangle
 * meshes this reaches the optimum, 7 colors for the 7-point stencil, where natural order needs 9.
 *
 * @example
 * colorColumns(tridiagonalPattern(100)).count; // 3
 */
export function colorColumns(pattern: CsrMatrix): ColumnColoring {
  const { cols } = pattern;
  const columns = transposePattern(pattern).pattern; // row j of the transpose lists the rows of column j
  const natural = new Int32Array(cols);
  for (let j = 0; j < cols; j++) natural[j] = j;
  const first = greedyColoring(pattern, columns, natural);
  // the natural order is optimal on a band; skip the second pass when no row can force more colors
  if (first.count <= maxRowLength(pattern)) return first;
  const second = dsaturColoring(pattern, columns);
  return second.count < first.count ? second : first;
}

/** Largest number of entries in a row: a lower bound of every distance-2 column coloring. */
function maxRowLength(pattern: CsrMatrix): number {
  let most = 0;
  for (let i = 0; i < pattern.rows; i++) most = Math.max(most, pattern.rowPtr[i + 1] - pattern.rowPtr[i]);
  return most;
}

/** Greedy first-fit coloring of the columns visited in `order`. */
function greedyColoring(pattern: CsrMatrix, columns: CsrMatrix, order: Int32Array): ColumnColoring {
  const { cols, rowPtr, colIndex } = pattern;
  const colors = new Int32Array(cols).fill(-1);
  // forbidden[c] === step + 1 marks color c as taken by a neighbour of the column colored at this step
  const forbidden = new Int32Array(cols + 1);
  let count = 0;
  for (let step = 0; step < cols; step++) {
    const j = order[step];
    for (let q = columns.rowPtr[j]; q < columns.rowPtr[j + 1]; q++) {
      const i = columns.colIndex[q];
      for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
        const color = colors[colIndex[p]];
        if (color >= 0) forbidden[color] = step + 1;
      }
    }
    let color = 0;
    while (forbidden[color] === step + 1) color++;
    colors[j] = color;
    if (color + 1 > count) count = color + 1;
  }
  return { colors, count };
}

/** Adjacency lists of the column intersection graph (columns adjacent when they share a row; no self loops). */
function intersectionGraph(
  pattern: CsrMatrix,
  columns: CsrMatrix,
): { pointers: Int32Array; neighbours: Int32Array } {
  const { cols, rowPtr, colIndex } = pattern;
  const mark = new Int32Array(cols).fill(-1);
  const pointers = new Int32Array(cols + 1);
  let neighbours = new Int32Array(Math.max(16, 4 * pattern.nnz));
  let length = 0;
  for (let j = 0; j < cols; j++) {
    mark[j] = j;
    for (let q = columns.rowPtr[j]; q < columns.rowPtr[j + 1]; q++) {
      const i = columns.colIndex[q];
      for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
        const k = colIndex[p];
        if (mark[k] === j) continue;
        mark[k] = j;
        if (length === neighbours.length) {
          const grown = new Int32Array(2 * length);
          grown.set(neighbours);
          neighbours = grown;
        }
        neighbours[length++] = k;
      }
    }
    pointers[j + 1] = length;
  }
  return { pointers, neighbours: neighbours.subarray(0, length) };
}

/**
 * DSATUR coloring of the column intersection graph (Brelaz): repeatedly color, with the smallest free color,
 * the uncolored column whose neighbours already use the most distinct colors (ties: most neighbours, then
 * lowest index). Finds the lattice colorings of structured stencils.
 */
function dsaturColoring(pattern: CsrMatrix, columns: CsrMatrix): ColumnColoring {
  const { cols } = pattern;
  const { pointers, neighbours } = intersectionGraph(pattern, columns);
  let maxDegree = 0;
  for (let j = 0; j < cols; j++) maxDegree = Math.max(maxDegree, pointers[j + 1] - pointers[j]);
  const words = ((maxDegree + 1) >> 5) + 1; // colors never exceed maxDegree + 1
  const seen = new Uint32Array(cols * words); // bit c of column j: a neighbour of j has color c
  const saturation = new Int32Array(cols);
  const colors = new Int32Array(cols).fill(-1);
  // binary max-heap of (saturation, degree, -index) entries with lazy deletion
  const heapKeys: number[] = [];
  const heapColumns: number[] = [];
  const key = (j: number) =>
    (saturation[j] * (maxDegree + 1) + (pointers[j + 1] - pointers[j])) * (cols + 1) + (cols - j);
  const push = (j: number) => {
    const k = key(j);
    let at = heapKeys.length;
    heapKeys.push(k);
    heapColumns.push(j);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heapKeys[parent] >= k) break;
      heapKeys[at] = heapKeys[parent];
      heapColumns[at] = heapColumns[parent];
      at = parent;
    }
    heapKeys[at] = k;
    heapColumns[at] = j;
  };
  const pop = (): number => {
    const top = heapColumns[0];
    const size = heapKeys.length - 1;
    const lastKey = heapKeys[size];
    const lastColumn = heapColumns[size];
    heapKeys.length = size;
    heapColumns.length = size;
    if (size > 0) {
      let at = 0;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= size) break;
        if (child + 1 < size && heapKeys[child + 1] > heapKeys[child]) child++;
        if (heapKeys[child] <= lastKey) break;
        heapKeys[at] = heapKeys[child];
        heapColumns[at] = heapColumns[child];
        at = child;
      }
      heapKeys[at] = lastKey;
      heapColumns[at] = lastColumn;
    }
    return top;
  };
  for (let j = 0; j < cols; j++) push(j);
  let count = 0;
  let colored = 0;
  while (colored < cols) {
    const topKey = heapKeys[0];
    const j = pop();
    if (colors[j] >= 0 || topKey !== key(j)) continue; // stale entry
    let color = 0;
    while (seen[j * words + (color >> 5)] & (1 << (color & 31))) color++;
    colors[j] = color;
    colored++;
    if (color + 1 > count) count = color + 1;
    const word = color >> 5;
    const bit = 1 << (color & 31);
    for (let a = pointers[j]; a < pointers[j + 1]; a++) {
      const k = neighbours[a];
      if (colors[k] >= 0 || seen[k * words + word] & bit) continue;
      seen[k * words + word] |= bit;
      saturation[k]++;
      push(k);
    }
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
 * The result shares the pattern arrays, and its values are `out` when given (length nnz), else a new array.
 *
 * @example
 * const J = recoverJacobian(pattern, coloring, products);
 */
export function recoverJacobian(
  pattern: CsrMatrix,
  coloring: ColumnColoring,
  products: readonly Float64Array[],
  out?: Float64Array,
): CsrMatrix {
  const { rows, rowPtr, colIndex } = pattern;
  const colors = coloring.colors;
  if (out !== undefined && out.length !== pattern.nnz) {
    throw new InvalidArgumentError(
      "recoverJacobian",
      `out has length ${out.length}; it must hold the pattern's ${pattern.nnz} entries`,
    );
  }
  const values = out ?? new Float64Array(pattern.nnz);
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
