/** @file Sparse LU (left-looking Gilbert-Peierls, threshold partial pivoting) for square CSR matrices, with transpose solves and refactorization. */

import { invalidArgument } from "../../errors.js";
import { checkOptions } from "../../options.js";
import { type CsrMatrix, checkArrayLike, checkCsr, transposePattern } from "./csr.js";
import { type FillReducingOrdering, fillReducingOrder, symmetricGraph } from "./ordering.js";

/**
 * Thrown when no acceptable pivot exists: the matrix is (numerically) singular.
 *
 * @example
 * try { lu(CsrMatrix.fromDense(2, 2, [1, 2, 2, 4])); } catch (e) { (e as SingularMatrixError).column; }
 */
export class SingularMatrixError extends Error {
  /** Column of the original matrix that has no acceptable pivot. */
  readonly column: number;
  /** Elimination step (position in the column ordering) at which it failed. */
  readonly step: number;

  constructor(column: number, step: number, largestCandidate: number) {
    super(
      `Matrix is singular: no acceptable pivot in column ${column} (elimination step ${step}, largest candidate ${largestCandidate})`,
    );
    this.name = "SingularMatrixError";
    this.column = column;
    this.step = step;
  }
}

/** Options for {@link analyzeLu} / {@link lu}. */
export interface LuOptions {
  /** Column ordering, computed on the pattern of A + A^T; default "amd". */
  readonly ordering?: FillReducingOrdering;
  /**
   * Threshold partial pivoting: the diagonal entry is kept as pivot when |a_diag| >= pivotTolerance * max|column|,
   * otherwise the largest entry is used. 1 gives classic partial pivoting; default 0.1 (less fill, still stable).
   */
  readonly pivotTolerance?: number;
  /**
   * A column is declared singular when its largest pivot candidate is <= singularTolerance * max|A(:, j)|.
   * Default 1e-14; 0 flags only exactly zero pivots.
   */
  readonly singularTolerance?: number;
}

/**
 * Symbolic LU analysis: fill-reducing column ordering (AMD on the pattern of A + A^T, postordered) and the
 * column-oriented (CSC) view of A's pattern. Reusable for every matrix with the same pattern.
 *
 * @example
 * const symbolic = analyzeLu(A);
 * const factor = symbolic.factor(A);
 */
export class LuSymbolic {
  /** Matrix order. */
  readonly n: number;
  /** `columnOrder[k]` = original column eliminated k-th. */
  readonly columnOrder: Int32Array;
  /** Pivot tolerance (see {@link LuOptions.pivotTolerance}). */
  readonly pivotTolerance: number;
  /** Singularity tolerance (see {@link LuOptions.singularTolerance}). */
  readonly singularTolerance: number;
  /** Column offsets of A (CSC view), length n + 1. */
  readonly cscStart: Int32Array;
  /** Row index of each entry of A in column order. */
  readonly cscRow: Int32Array;
  /** Slot in A.values of each CSC entry. */
  readonly cscSource: Int32Array;
  private readonly patternRowPtr: Int32Array;
  private readonly patternColIndex: Int32Array;

  /**
   * Analyze a square matrix's pattern (see {@link analyzeLu}).
   *
   * @example
   * const symbolic = new LuSymbolic(A, { ordering: "amd" });
   */
  constructor(A: CsrMatrix, options: LuOptions = {}) {
    checkCsr(A, "lu");
    checkOptions("lu", options, ["ordering", "pivotTolerance", "singularTolerance"]);
    if (A.rows !== A.cols) throw invalidArgument(`lu: needs a square matrix, got ${A.rows}x${A.cols}`);
    const n = A.rows;
    this.n = n;
    this.pivotTolerance = options.pivotTolerance ?? 0.1;
    this.singularTolerance = options.singularTolerance ?? 1e-14;
    this.patternRowPtr = A.rowPtr;
    this.patternColIndex = A.colIndex;
    const graph = symmetricGraph(n, A.rowPtr, A.colIndex, false);
    this.columnOrder = fillReducingOrder(graph, options.ordering ?? "amd");
    const { pattern, sourceSlot } = transposePattern(A);
    this.cscStart = pattern.rowPtr;
    this.cscRow = pattern.colIndex;
    this.cscSource = sourceSlot;
  }

  /** Throw unless A has the analyzed pattern. */
  checkPattern(A: CsrMatrix): void {
    const n = this.n;
    if (A.rows !== n || A.cols !== n)
      throw invalidArgument("lu: matrix shape differs from the analyzed pattern");
    if (A.rowPtr === this.patternRowPtr && A.colIndex === this.patternColIndex) return;
    const same =
      A.nnz === this.patternRowPtr[n] &&
      A.rowPtr.every((v, i) => v === this.patternRowPtr[i]) &&
      A.colIndex.subarray(0, A.nnz).every((v, i) => v === this.patternColIndex[i]);
    if (!same) throw invalidArgument("lu: matrix pattern differs from the analyzed pattern");
  }

  /**
   * Numeric factorization with threshold partial pivoting. Throws {@link SingularMatrixError}.
   *
   * @example
   * const factor = analyzeLu(A).factor(A);
   */
  factor(A: CsrMatrix): LuFactor {
    this.checkPattern(A);
    return factorWithPivoting(this, A.values);
  }
}

/** Gather A's values into column (CSC) order. */
function gatherColumns(symbolic: LuSymbolic, values: Float64Array): Float64Array {
  const source = symbolic.cscSource;
  const out = new Float64Array(source.length);
  for (let t = 0; t < source.length; t++) out[t] = values[source[t]];
  return out;
}

/** `array`, or a copy at least twice as long when it holds fewer than `needed` entries. */
function growInt32(array: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const bigger = new Int32Array(Math.max(2 * array.length, needed));
  bigger.set(array);
  return bigger;
}

/** `array`, or a copy at least twice as long when it holds fewer than `needed` entries. */
function growFloat64(array: Float64Array<ArrayBuffer>, needed: number): Float64Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const bigger = new Float64Array(Math.max(2 * array.length, needed));
  bigger.set(array);
  return bigger;
}

/** The growing factors and the work arrays of one Gilbert-Peierls factorization (rows in original numbering). */
interface LuWork {
  /** Column offsets of L and U (filled column by column). */
  readonly lowerStart: Int32Array;
  readonly upperStart: Int32Array;
  /** Entries of L and U so far; reallocated when a column may not fit. */
  lowerRow: Int32Array<ArrayBuffer>;
  lowerValue: Float64Array<ArrayBuffer>;
  upperRow: Int32Array<ArrayBuffer>;
  upperValue: Float64Array<ArrayBuffer>;
  lowerCount: number;
  upperCount: number;
  /** Original row -> pivot step (-1 while not pivotal). */
  readonly pivotOf: Int32Array;
  /** Dense work column. */
  readonly x: Float64Array;
  /** Rows reachable from the current column, in topological order in reach[top..n). */
  readonly reach: Int32Array;
  /** Depth-first search stack and, per depth, the next L entry to visit. */
  readonly stack: Int32Array;
  readonly position: Int32Array;
  /** Step at which each row was last visited. */
  readonly mark: Int32Array;
  /**
   * Symmetric pruning (Eisenstat & Liu): once pruned, the depth-first search only needs L(:, J)'s entries in
   * [lowerStart[J] + 1, pruneEnd[J]); the rest are reachable through a later column anyway. -1 when unpruned.
   */
  readonly pruneEnd: Int32Array;
}

function luWork(n: number, nnz: number): LuWork {
  const initial = 4 * nnz + n + 16;
  return {
    lowerStart: new Int32Array(n + 1),
    upperStart: new Int32Array(n + 1),
    lowerRow: new Int32Array(initial),
    lowerValue: new Float64Array(initial),
    upperRow: new Int32Array(initial),
    upperValue: new Float64Array(initial),
    lowerCount: 0,
    upperCount: 0,
    pivotOf: new Int32Array(n).fill(-1),
    x: new Float64Array(n),
    reach: new Int32Array(n),
    stack: new Int32Array(n),
    position: new Int32Array(n),
    mark: new Int32Array(n).fill(-1),
    pruneEnd: new Int32Array(n).fill(-1),
  };
}

/** Left-looking Gilbert-Peierls LU with threshold partial pivoting: P A Q = L U. */
function factorWithPivoting(symbolic: LuSymbolic, values: Float64Array): LuFactor {
  const n = symbolic.n;
  const cscValue = gatherColumns(symbolic, values);
  const work = luWork(n, symbolic.cscRow.length);
  for (let k = 0; k < n; k++) {
    const column = symbolic.columnOrder[k];
    startColumn(work, k, n);
    const top = reachOf(symbolic, work, column, k);
    const columnMax = solveColumn(symbolic, work, cscValue, column, top);
    const pivotRow = choosePivot(symbolic, work, column, k, top, columnMax);
    pruneColumns(work, k, pivotRow);
  }
  return finishFactor(symbolic, work);
}

/** Starts column k of L and U, with room for n more entries in each. */
function startColumn(work: LuWork, k: number, n: number): void {
  const { lowerCount, upperCount } = work;
  work.lowerStart[k] = lowerCount;
  work.upperStart[k] = upperCount;
  if (lowerCount + n > work.lowerRow.length) {
    work.lowerRow = growInt32(work.lowerRow, lowerCount + n);
    work.lowerValue = growFloat64(work.lowerValue, lowerCount + n);
  }
  if (upperCount + n > work.upperRow.length) {
    work.upperRow = growInt32(work.upperRow, upperCount + n);
    work.upperValue = growFloat64(work.upperValue, upperCount + n);
  }
}

/**
 * Symbolic step of column k: the rows reachable from A(:, column) in the graph of L, by depth-first search, in
 * topological order in reach[top..n). Returns top.
 */
function reachOf(symbolic: LuSymbolic, work: LuWork, column: number, k: number): number {
  const { cscStart, cscRow } = symbolic;
  const { lowerStart, lowerRow, pivotOf, reach, stack, position, mark, pruneEnd } = work;
  let top = reach.length;
  const aEnd = cscStart[column + 1];
  for (let p = cscStart[column]; p < aEnd; p++) {
    const root = cscRow[p];
    if (mark[root] === k) continue;
    let depth = 0;
    stack[0] = root;
    while (depth >= 0) {
      const j = stack[depth];
      const J = pivotOf[j];
      if (mark[j] !== k) {
        mark[j] = k;
        position[depth] = J < 0 ? 0 : lowerStart[J] + 1;
      }
      let finished = true;
      if (J >= 0) {
        const end = pruneEnd[J] >= 0 ? pruneEnd[J] : lowerStart[J + 1];
        for (let q = position[depth]; q < end; q++) {
          const i = lowerRow[q];
          if (mark[i] === k) continue;
          position[depth] = q + 1;
          stack[++depth] = i;
          finished = false;
          break;
        }
      }
      if (finished) {
        depth--;
        reach[--top] = j;
      }
    }
  }
  return top;
}

/** Numeric step: x = L \ A(:, column) on the reached rows. Returns max |A(:, column)|. */
function solveColumn(
  symbolic: LuSymbolic,
  work: LuWork,
  cscValue: Float64Array,
  column: number,
  top: number,
): number {
  const { cscStart, cscRow } = symbolic;
  const { lowerStart, lowerRow, lowerValue, pivotOf, x, reach } = work;
  const n = reach.length;
  let columnMax = 0;
  const aEnd = cscStart[column + 1];
  for (let p = cscStart[column]; p < aEnd; p++) {
    const v = cscValue[p];
    x[cscRow[p]] = v;
    const a = Math.abs(v);
    if (a > columnMax) columnMax = a;
  }
  for (let r = top; r < n; r++) {
    const j = reach[r];
    const J = pivotOf[j];
    if (J < 0) continue;
    const xj = x[j];
    if (xj === 0) continue;
    const end = lowerStart[J + 1];
    for (let q = lowerStart[J] + 1; q < end; q++) x[lowerRow[q]] -= lowerValue[q] * xj;
  }
  return columnMax;
}

/**
 * Pivot choice among the reached rows not yet pivotal (the diagonal when it passes the threshold test, else the
 * largest); pivotal rows go to U(:, k), the others, divided by the pivot, to L(:, k); x is cleared. Throws
 * SingularMatrixError when no candidate is acceptable. Returns the pivot row.
 */
function choosePivot(
  symbolic: LuSymbolic,
  work: LuWork,
  column: number,
  k: number,
  top: number,
  columnMax: number,
): number {
  const { pivotTolerance, singularTolerance } = symbolic;
  const { lowerRow, lowerValue, upperRow, upperValue, pivotOf, x, reach, mark } = work;
  const n = reach.length;
  let { lowerCount, upperCount } = work;
  let pivotRow = -1;
  let largest = -1;
  for (let r = top; r < n; r++) {
    const i = reach[r];
    if (pivotOf[i] < 0) {
      const a = Math.abs(x[i]);
      if (a > largest) {
        largest = a;
        pivotRow = i;
      }
    } else {
      upperRow[upperCount] = pivotOf[i];
      upperValue[upperCount++] = x[i];
    }
  }
  if (pivotRow === -1 || !(largest > singularTolerance * columnMax) || !Number.isFinite(largest)) {
    for (let r = top; r < n; r++) x[reach[r]] = 0;
    throw new SingularMatrixError(column, k, Math.max(largest, 0));
  }
  if (pivotOf[column] < 0 && mark[column] === k && Math.abs(x[column]) >= pivotTolerance * largest) {
    pivotRow = column;
  }
  const pivot = x[pivotRow];
  upperRow[upperCount] = k;
  upperValue[upperCount++] = pivot;
  pivotOf[pivotRow] = k;
  lowerRow[lowerCount] = pivotRow;
  lowerValue[lowerCount++] = 1;
  for (let r = top; r < n; r++) {
    const i = reach[r];
    if (pivotOf[i] < 0) {
      lowerRow[lowerCount] = i;
      lowerValue[lowerCount++] = x[i] / pivot;
    }
    x[i] = 0;
  }
  work.lowerCount = lowerCount;
  work.upperCount = upperCount;
  return pivotRow;
}

/**
 * Prunes every unpruned L(:, J) with U(J, k) != 0 that contains the new pivot row: moves its already pivotal
 * rows to the front; the others are reachable through column k.
 */
function pruneColumns(work: LuWork, k: number, pivotRow: number): void {
  const { lowerStart, lowerRow, lowerValue, upperStart, upperRow, pivotOf, pruneEnd } = work;
  const upperDiagonal = work.upperCount - 1;
  for (let p = upperStart[k]; p < upperDiagonal; p++) {
    const J = upperRow[p];
    if (pruneEnd[J] >= 0) continue;
    const columnEnd = lowerStart[J + 1];
    for (let q = lowerStart[J] + 1; q < columnEnd; q++) {
      if (lowerRow[q] !== pivotRow) continue;
      let front = lowerStart[J] + 1;
      let back = columnEnd;
      while (front < back) {
        const i = lowerRow[front];
        if (pivotOf[i] >= 0) {
          front++;
        } else {
          back--;
          lowerRow[front] = lowerRow[back];
          lowerRow[back] = i;
          const value = lowerValue[front];
          lowerValue[front] = lowerValue[back];
          lowerValue[back] = value;
        }
      }
      pruneEnd[J] = front;
      break;
    }
  }
}

/** The factor: L's rows renumbered from original rows to pivot steps, the arrays trimmed. */
function finishFactor(symbolic: LuSymbolic, work: LuWork): LuFactor {
  const n = symbolic.n;
  const {
    lowerStart,
    upperStart,
    lowerRow,
    lowerValue,
    upperRow,
    upperValue,
    lowerCount,
    upperCount,
    pivotOf,
  } = work;
  lowerStart[n] = lowerCount;
  upperStart[n] = upperCount;
  for (let p = 0; p < lowerCount; p++) lowerRow[p] = pivotOf[lowerRow[p]];
  const rowOrder = new Int32Array(n);
  for (let i = 0; i < n; i++) rowOrder[pivotOf[i]] = i;
  return new LuFactor(
    symbolic,
    rowOrder,
    pivotOf,
    lowerStart,
    lowerRow.slice(0, lowerCount),
    lowerValue.slice(0, lowerCount),
    upperStart,
    upperRow.slice(0, upperCount),
    upperValue.slice(0, upperCount),
  );
}

/**
 * Numeric LU factor P A Q = L U, with L unit lower triangular (diagonal stored first in each column) and
 * U upper triangular (diagonal stored last in each column, off-diagonal entries in a topological order).
 * Row numbering of both factors is the pivot order.
 *
 * @example
 * const factor = lu(A);
 * factor.solve(b);          // A x = b
 * factor.solveTranspose(b); // A^T x = b, same factors
 */
export class LuFactor {
  /** The symbolic analysis (column ordering) used. */
  readonly symbolic: LuSymbolic;
  /** `rowOrder[k]` = original row chosen as the k-th pivot. */
  readonly rowOrder: Int32Array;
  /** `pivotOf[i]` = pivot step of original row i (inverse of rowOrder). */
  readonly pivotOf: Int32Array;
  /** Column offsets of L. */
  readonly lowerStart: Int32Array;
  /** Row indices of L (pivot numbering). */
  readonly lowerRow: Int32Array;
  /** Values of L. */
  readonly lowerValue: Float64Array;
  /** Column offsets of U. */
  readonly upperStart: Int32Array;
  /** Row indices of U (pivot numbering). */
  readonly upperRow: Int32Array;
  /** Values of U. */
  readonly upperValue: Float64Array;

  /**
   * Wrap factor arrays (normally created by {@link LuSymbolic.factor}).
   *
   * @example
   * const factor = analyzeLu(A).factor(A); // rather than calling the constructor directly
   */
  constructor(
    symbolic: LuSymbolic,
    rowOrder: Int32Array,
    pivotOf: Int32Array,
    lowerStart: Int32Array,
    lowerRow: Int32Array,
    lowerValue: Float64Array,
    upperStart: Int32Array,
    upperRow: Int32Array,
    upperValue: Float64Array,
  ) {
    this.symbolic = symbolic;
    this.rowOrder = rowOrder;
    this.pivotOf = pivotOf;
    this.lowerStart = lowerStart;
    this.lowerRow = lowerRow;
    this.lowerValue = lowerValue;
    this.upperStart = upperStart;
    this.upperRow = upperRow;
    this.upperValue = upperValue;
  }

  /** Matrix order. */
  get n(): number {
    return this.symbolic.n;
  }

  /** Nonzeros of L plus U (the unit diagonal of L included): a measure of fill. */
  get nnz(): number {
    return this.lowerRow.length + this.upperRow.length;
  }

  /**
   * Solve A x = b. `out` may alias `b`.
   *
   * @example
   * lu(CsrMatrix.fromDense(2, 2, [0, 1, 1, 0])).solve([2, 3]); // Float64Array [3, 2]
   */
  solve(b: ArrayLike<number>, out?: Float64Array): Float64Array {
    const n = this.symbolic.n;
    checkArrayLike(b, "solve", "b", true);
    if (b.length !== n) throw invalidArgument(`solve: b has length ${b.length}, expected ${n}`);
    const { rowOrder, lowerStart, lowerRow, lowerValue, upperStart, upperRow, upperValue } = this;
    const columnOrder = this.symbolic.columnOrder;
    const y = new Float64Array(n);
    for (let k = 0; k < n; k++) y[k] = b[rowOrder[k]];
    for (let j = 0; j < n; j++) {
      const yj = y[j];
      if (yj === 0) continue;
      const end = lowerStart[j + 1];
      for (let p = lowerStart[j] + 1; p < end; p++) y[lowerRow[p]] -= lowerValue[p] * yj;
    }
    for (let j = n - 1; j >= 0; j--) {
      const diagonal = upperStart[j + 1] - 1;
      const yj = y[j] / upperValue[diagonal];
      y[j] = yj;
      if (yj === 0) continue;
      for (let p = upperStart[j]; p < diagonal; p++) y[upperRow[p]] -= upperValue[p] * yj;
    }
    const x = out ?? new Float64Array(n);
    for (let k = 0; k < n; k++) x[columnOrder[k]] = y[k];
    return x;
  }

  /**
   * Solve A^T x = b with the same factors (A^T = Q U^T L^T P). `out` may alias `b`.
   *
   * @example
   * lu(CsrMatrix.fromDense(2, 2, [1, 2, 0, 1])).solveTranspose([1, 4]); // Float64Array [1, 2]
   */
  solveTranspose(b: ArrayLike<number>, out?: Float64Array): Float64Array {
    const n = this.symbolic.n;
    checkArrayLike(b, "solveTranspose", "b", true);
    if (b.length !== n) throw invalidArgument(`solveTranspose: b has length ${b.length}, expected ${n}`);
    const { rowOrder, lowerStart, lowerRow, lowerValue, upperStart, upperRow, upperValue } = this;
    const columnOrder = this.symbolic.columnOrder;
    const w = new Float64Array(n);
    for (let j = 0; j < n; j++) w[j] = b[columnOrder[j]];
    for (let j = 0; j < n; j++) {
      const diagonal = upperStart[j + 1] - 1;
      let sum = w[j];
      for (let p = upperStart[j]; p < diagonal; p++) sum -= upperValue[p] * w[upperRow[p]];
      w[j] = sum / upperValue[diagonal];
    }
    for (let j = n - 1; j >= 0; j--) {
      const end = lowerStart[j + 1];
      let sum = w[j];
      for (let p = lowerStart[j] + 1; p < end; p++) sum -= lowerValue[p] * w[lowerRow[p]];
      w[j] = sum;
    }
    const x = out ?? new Float64Array(n);
    for (let k = 0; k < n; k++) x[rowOrder[k]] = w[k];
    return x;
  }

  /**
   * Factor a matrix with the same pattern and new values. First tries to keep this factor's pivot sequence
   * and fill pattern (a pure numeric pass, no graph search); if a pivot then fails the threshold test, it
   * refactorizes with fresh pivoting using the same column ordering.
   *
   * @example
   * const factor2 = lu(A).refactor(A.scale(2));
   */
  refactor(A: CsrMatrix): LuFactor {
    const symbolic = this.symbolic;
    symbolic.checkPattern(A);
    return this.refactorSamePivots(A.values) ?? factorWithPivoting(symbolic, A.values);
  }

  /** Numeric refactorization with fixed pivots and pattern, or undefined when a pivot is unacceptable. */
  private refactorSamePivots(values: Float64Array): LuFactor | undefined {
    const symbolic = this.symbolic;
    const n = symbolic.n;
    const { columnOrder, cscStart, cscRow, pivotTolerance, singularTolerance } = symbolic;
    const cscValue = gatherColumns(symbolic, values);
    const { pivotOf, lowerStart, lowerRow, upperStart, upperRow } = this;
    const lowerValue = new Float64Array(lowerRow.length);
    const upperValue = new Float64Array(upperRow.length);
    const x = new Float64Array(n); // indexed by pivot step
    for (let k = 0; k < n; k++) {
      const column = columnOrder[k];
      let columnMax = 0;
      for (let p = cscStart[column]; p < cscStart[column + 1]; p++) {
        const v = cscValue[p];
        x[pivotOf[cscRow[p]]] = v;
        const a = Math.abs(v);
        if (a > columnMax) columnMax = a;
      }
      const diagonal = upperStart[k + 1] - 1;
      for (let p = upperStart[k]; p < diagonal; p++) {
        const J = upperRow[p];
        const xJ = x[J];
        upperValue[p] = xJ;
        x[J] = 0;
        if (xJ === 0) continue;
        const end = lowerStart[J + 1];
        for (let q = lowerStart[J] + 1; q < end; q++) x[lowerRow[q]] -= lowerValue[q] * xJ;
      }
      const pivot = x[k];
      x[k] = 0;
      let largest = Math.abs(pivot);
      const lowerEnd = lowerStart[k + 1];
      for (let q = lowerStart[k] + 1; q < lowerEnd; q++) {
        const a = Math.abs(x[lowerRow[q]]);
        if (a > largest) largest = a;
      }
      if (
        !(largest > singularTolerance * columnMax) ||
        !(Math.abs(pivot) >= pivotTolerance * largest) ||
        !Number.isFinite(largest)
      ) {
        return undefined;
      }
      upperValue[diagonal] = pivot;
      lowerValue[lowerStart[k]] = 1;
      for (let q = lowerStart[k] + 1; q < lowerEnd; q++) {
        const i = lowerRow[q];
        lowerValue[q] = x[i] / pivot;
        x[i] = 0;
      }
    }
    return new LuFactor(
      symbolic,
      this.rowOrder,
      pivotOf,
      lowerStart,
      lowerRow,
      lowerValue,
      upperStart,
      upperRow,
      upperValue,
    );
  }
}

/**
 * Symbolic LU analysis only (column ordering and CSC view); see {@link LuSymbolic}.
 *
 * @example
 * const symbolic = analyzeLu(A);
 * const f1 = symbolic.factor(A);
 * const f2 = symbolic.factor(A.withValues(otherValues));
 */
export function analyzeLu(A: CsrMatrix, options: LuOptions = {}): LuSymbolic {
  return new LuSymbolic(A, options);
}

/**
 * Analyze and factor a general square matrix: P A Q = L U with threshold partial pivoting.
 * Throws {@link SingularMatrixError} naming the column without an acceptable pivot.
 *
 * @example
 * const A = CsrMatrix.fromDense(2, 2, [0, 2, 3, 1]);
 * lu(A).solve([2, 4]); // Float64Array [1, 1]
 */
export function lu(A: CsrMatrix, options: LuOptions = {}): LuFactor {
  return new LuSymbolic(A, options).factor(A);
}
