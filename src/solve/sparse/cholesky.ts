/** @file Sparse Cholesky LL^T for symmetric positive definite CSR matrices: symbolic analysis + supernodal numeric factorization. */

import { invalidArgument } from "../../errors.js";
import { checkOptions } from "../../options.js";
import { type CsrMatrix, checkArrayLike, checkCsr } from "./csr.js";
import {
  eliminationTree,
  type FillReducingOrdering,
  fillReducingOrder,
  inversePermutation,
  symmetricGraph,
} from "./ordering.js";

/**
 * Thrown when a Cholesky pivot is not (numerically) positive: the matrix is not symmetric positive definite.
 *
 * @example
 * try { cholesky(CsrMatrix.fromDense(1, 1, [-1])); } catch (e) { (e as NotPositiveDefiniteError).pivotIndex; } // 0
 */
export class NotPositiveDefiniteError extends Error {
  /** Row/column of the original matrix whose pivot failed. */
  readonly pivotIndex: number;
  /** Elimination step (position in the fill-reducing order) at which it failed. */
  readonly step: number;
  /** The offending Schur-complement pivot d (L_kk = sqrt(d)). */
  readonly pivotValue: number;

  constructor(pivotIndex: number, step: number, pivotValue: number) {
    super(
      `Matrix is not positive definite: pivot ${pivotValue} at row/column ${pivotIndex} (elimination step ${step})`,
    );
    this.name = "NotPositiveDefiniteError";
    this.pivotIndex = pivotIndex;
    this.step = step;
    this.pivotValue = pivotValue;
  }
}

/** Options for {@link analyzeCholesky} / {@link cholesky}. */
export interface CholeskyOptions {
  /** Fill-reducing ordering, default "amd". */
  readonly ordering?: FillReducingOrdering;
  /**
   * A pivot d_k (the Schur complement diagonal, L_kk^2) is rejected unless d_k > pivotTolerance * A_kk.
   * Default 1e-14; 0 rejects only non-positive pivots.
   */
  readonly pivotTolerance?: number;
}

/**
 * The upper and lower triangles, by columns, of C = P A P^T from the lower triangle of A (`inverse` is
 * P's inverse permutation); `lowerSource` maps each lower entry back to its slot in A.
 */
function permutedTriangles(
  A: CsrMatrix,
  inverse: Int32Array,
): {
  upperStart: Int32Array;
  upperRow: Int32Array;
  lowerStart: Int32Array;
  lowerRow: Int32Array;
  lowerSource: Int32Array;
} {
  const n = A.rows;
  const { rowPtr, colIndex } = A;
  const upperStart = new Int32Array(n + 1);
  const lowerStart = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) {
    const pr = inverse[r];
    for (let p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
      const c = colIndex[p];
      if (c > r) break;
      const pc = inverse[c];
      upperStart[Math.max(pr, pc) + 1]++;
      lowerStart[Math.min(pr, pc) + 1]++;
    }
  }
  for (let k = 0; k < n; k++) {
    upperStart[k + 1] += upperStart[k];
    lowerStart[k + 1] += lowerStart[k];
  }
  const upperFill = upperStart.slice(0, n);
  const lowerFill = lowerStart.slice(0, n);
  const upperRow = new Int32Array(upperStart[n]);
  const lowerRow = new Int32Array(lowerStart[n]);
  const lowerSource = new Int32Array(lowerStart[n]);
  for (let r = 0; r < n; r++) {
    const pr = inverse[r];
    for (let p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
      const c = colIndex[p];
      if (c > r) break;
      const pc = inverse[c];
      const high = Math.max(pr, pc);
      const low = Math.min(pr, pc);
      upperRow[upperFill[high]++] = low;
      const slot = lowerFill[low]++;
      lowerRow[slot] = high;
      lowerSource[slot] = p;
    }
  }
  return { upperStart, upperRow, lowerStart, lowerRow, lowerSource };
}

/** Column counts of L: row k of L is the set of nodes reached from C(:, k) up the elimination tree. */
function columnCounts(upperStart: Int32Array, upperRow: Int32Array, parent: Int32Array): Int32Array {
  const n = parent.length;
  const counts = new Int32Array(n);
  const flag = new Int32Array(n).fill(-1);
  for (let k = 0; k < n; k++) {
    flag[k] = k;
    counts[k]++;
    for (let p = upperStart[k]; p < upperStart[k + 1]; p++) {
      for (let i = upperRow[p]; flag[i] !== k; i = parent[i]) {
        flag[i] = k;
        counts[i]++;
      }
    }
  }
  return counts;
}

/**
 * Symbolic Cholesky analysis of a symmetric pattern: fill-reducing permutation, elimination tree and column
 * counts of L. Reusable for every matrix with the same pattern (refactorization costs only the numeric phase).
 * Only the lower triangle of A (column <= row) is read; A must be symmetric.
 *
 * @example
 * const symbolic = analyzeCholesky(A);
 * const factor = symbolic.factor(A);
 * const again = symbolic.factor(A.withValues(newValues)); // same pattern, no new analysis
 */
export class CholeskySymbolic {
  /** Matrix order. */
  readonly n: number;
  /** `permutation[k]` = original row/column placed k-th (P A P^T = L L^T). */
  readonly permutation: Int32Array;
  /** `inversePermutation[i]` = position of original index i. */
  readonly inversePermutation: Int32Array;
  /** Elimination tree of P A P^T, permuted numbering, -1 for roots. */
  readonly parent: Int32Array;
  /** Nonzeros in each column of L (including the diagonal). */
  readonly columnCounts: Int32Array;
  /** Column offsets of L, length n + 1. */
  readonly columnStart: Int32Array;
  /** Nonzeros of L. */
  readonly factorNnz: number;
  /** Pivot tolerance used by {@link CholeskySymbolic.factor}. */
  readonly pivotTolerance: number;
  /** Number of supernodes (maximal runs of columns j, j + 1 with identical structure below the diagonal). */
  readonly supernodeCount: number;
  /** First column of each supernode, length supernodeCount + 1. */
  readonly supernodeStart: Int32Array;
  private readonly patternRowPtr: Int32Array;
  private readonly patternColIndex: Int32Array;
  // Lower triangle of C = P A P^T by columns: column j holds rows >= j, taken from A.values[lowerSource].
  private readonly lowerStart: Int32Array;
  private readonly lowerRow: Int32Array;
  private readonly lowerSource: Int32Array;
  // Row structure of each supernode (its own columns first, then the rows below, sorted) and dense blocks.
  private readonly supernodeOf: Int32Array;
  private readonly supernodeRowStart: Int32Array;
  private readonly supernodeRows: Int32Array;
  private readonly blockStart: Int32Array;
  private readonly largestUpdate: number;

  /**
   * Analyze the pattern of a square matrix (see {@link analyzeCholesky}).
   *
   * @example
   * const symbolic = new CholeskySymbolic(CsrMatrix.identity(3));
   */
  constructor(A: CsrMatrix, options: CholeskyOptions = {}) {
    checkCsr(A, "cholesky");
    checkOptions("cholesky", options, ["ordering", "pivotTolerance"]);
    if (A.rows !== A.cols) throw invalidArgument(`cholesky: needs a square matrix, got ${A.rows}x${A.cols}`);
    const n = A.rows;
    this.n = n;
    this.pivotTolerance = options.pivotTolerance ?? 1e-14;
    this.patternRowPtr = A.rowPtr;
    this.patternColIndex = A.colIndex;
    const graph = symmetricGraph(n, A.rowPtr, A.colIndex, true);
    const permutation = fillReducingOrder(graph, options.ordering ?? "amd");
    const inverse = inversePermutation(permutation);
    this.permutation = permutation;
    this.inversePermutation = inverse;

    const { upperStart, upperRow, lowerStart, lowerRow, lowerSource } = permutedTriangles(A, inverse);
    this.lowerStart = lowerStart;
    this.lowerRow = lowerRow;
    this.lowerSource = lowerSource;

    const parent = eliminationTree(graph, permutation);
    this.parent = parent;
    const counts = columnCounts(upperStart, upperRow, parent);
    const columnStart = new Int32Array(n + 1);
    for (let k = 0; k < n; k++) columnStart[k + 1] = columnStart[k] + counts[k];
    this.columnCounts = counts;
    this.columnStart = columnStart;
    this.factorNnz = columnStart[n];

    // Supernodes: column j joins j - 1 when parent(j - 1) = j and struct L(:, j-1) = {j - 1} ∪ struct L(:, j).
    const supernodeStartScratch = new Int32Array(n + 1);
    let supernodeCount = 0;
    for (let j = 0; j < n; j++) {
      if (j === 0 || parent[j - 1] !== j || counts[j - 1] !== counts[j] + 1) {
        supernodeStartScratch[supernodeCount++] = j;
      }
    }
    supernodeStartScratch[supernodeCount] = n;
    const supernodeStart = supernodeStartScratch.slice(0, supernodeCount + 1);
    const supernodeOf = new Int32Array(n);
    const supernodeRowStart = new Int32Array(supernodeCount + 1);
    const blockStart = new Int32Array(supernodeCount + 1);
    let largestUpdate = 0;
    for (let s = 0; s < supernodeCount; s++) {
      const first = supernodeStart[s];
      const last = supernodeStart[s + 1] - 1;
      const width = last - first + 1;
      const rowCount = width + counts[last] - 1;
      for (let j = first; j <= last; j++) supernodeOf[j] = s;
      supernodeRowStart[s + 1] = supernodeRowStart[s] + rowCount;
      blockStart[s + 1] = blockStart[s] + rowCount * width;
      largestUpdate = Math.max(largestUpdate, (counts[last] - 1) * (counts[last] - 1));
    }
    // Rows below each supernode: k such that the supernode's last column is in the pattern of row k of L.
    const supernodeRows = new Int32Array(supernodeRowStart[supernodeCount]);
    const cursor = new Int32Array(supernodeCount);
    for (let s = 0; s < supernodeCount; s++) {
      let slot = supernodeRowStart[s];
      for (let j = supernodeStart[s]; j < supernodeStart[s + 1]; j++) supernodeRows[slot++] = j;
      cursor[s] = slot;
    }
    const flag = new Int32Array(n).fill(-1);
    for (let k = 0; k < n; k++) {
      flag[k] = k;
      for (let p = upperStart[k]; p < upperStart[k + 1]; p++) {
        for (let i = upperRow[p]; flag[i] !== k; i = parent[i]) {
          flag[i] = k;
          const s = supernodeOf[i];
          if (supernodeStart[s + 1] - 1 === i) supernodeRows[cursor[s]++] = k;
        }
      }
    }
    this.supernodeCount = supernodeCount;
    this.supernodeStart = supernodeStart;
    this.supernodeOf = supernodeOf;
    this.supernodeRowStart = supernodeRowStart;
    this.supernodeRows = supernodeRows;
    this.blockStart = blockStart;
    this.largestUpdate = largestUpdate;
  }

  /**
   * Work arrays of the numeric phase, kept between factorizations of one pattern (a Newton loop refactors
   * every step): allocated on the first `factor`, the panels cleared on each. The rows of L are the same
   * for every factor of the pattern, so all factors share one array of them.
   */
  private scratch: CholeskyWork | undefined = undefined;
  private factorRows: Int32Array | undefined = undefined;

  /**
   * Numeric factorization of a matrix with the analyzed pattern (supernodal left-looking: each supernode is a
   * dense column-major panel, updated by the descendants that touch it, then factored densely in place).
   * Throws {@link NotPositiveDefiniteError}. `into` (length `factorNnz`) receives the values of L instead of
   * a new array, e.g. the values of a factor of the same analysis that is no longer needed: that factor then
   * holds the new one (it is left untouched when this throws).
   *
   * @example
   * const factor = analyzeCholesky(A).factor(A);
   * const next = factor.symbolic.factor(B, factor.values); // factor is now B's factor too
   */
  factor(A: CsrMatrix, into?: Float64Array): CholeskyFactor {
    this.checkPattern(A);
    if (into !== undefined && into.length !== this.factorNnz) {
      throw invalidArgument(
        `CholeskySymbolic.factor: into has length ${into.length}, expected factorNnz = ${this.factorNnz}`,
      );
    }
    const work = this.takeScratch();
    for (let s = 0; s < this.supernodeCount; s++) {
      this.assemblePanel(s, A.values, work);
      this.subtractDescendantUpdates(s, work);
      this.factorPanel(s, work);
    }
    const factor = this.extractFactor(work.blocks, into);
    this.scratch = work;
    return factor;
  }

  private checkPattern(A: CsrMatrix): void {
    const n = this.n;
    if (
      A.rows !== n ||
      A.cols !== n ||
      !(
        (A.rowPtr === this.patternRowPtr && A.colIndex === this.patternColIndex) ||
        (arraysEqual(A.rowPtr, this.patternRowPtr) && arraysEqual(A.colIndex, this.patternColIndex))
      )
    ) {
      throw invalidArgument("CholeskySymbolic.factor: matrix pattern differs from the analyzed pattern");
    }
  }

  /**
   * The work arrays for one numeric factorization, cleared (those read before written): the kept ones when
   * there are, else new ones. A factorization that throws drops them (`factor` keeps them on success only).
   */
  private takeScratch(): CholeskyWork {
    const kept = this.scratch;
    this.scratch = undefined;
    if (kept === undefined) {
      const supernodeCount = this.supernodeCount;
      return {
        blocks: new Float64Array(this.blockStart[supernodeCount]),
        update: new Float64Array(this.largestUpdate),
        rowPosition: new Int32Array(this.n),
        positions: new Int32Array(this.n),
        originalDiagonal: new Float64Array(this.n),
        linkHead: new Int32Array(supernodeCount).fill(-1),
        linkNext: new Int32Array(supernodeCount),
        nextRow: new Int32Array(supernodeCount),
      };
    }
    kept.blocks.fill(0);
    kept.linkHead.fill(-1);
    return kept;
  }

  /** Assembles the columns of C = P A P^T into supernode s's panel (and notes the rows' panel positions). */
  private assemblePanel(s: number, source: Float64Array, work: CholeskyWork): void {
    const {
      lowerStart,
      lowerRow,
      lowerSource,
      supernodeStart,
      supernodeRowStart,
      supernodeRows,
      blockStart,
    } = this;
    const { blocks, rowPosition, originalDiagonal } = work;
    const first = supernodeStart[s];
    const width = supernodeStart[s + 1] - first;
    const rows = supernodeRowStart[s];
    const m = supernodeRowStart[s + 1] - rows;
    const base = blockStart[s];
    for (let t = 0; t < m; t++) rowPosition[supernodeRows[rows + t]] = t;
    for (let c = 0; c < width; c++) {
      const j = first + c;
      const column = base + c * m;
      for (let p = lowerStart[j]; p < lowerStart[j + 1]; p++) {
        blocks[column + rowPosition[lowerRow[p]]] += source[lowerSource[p]];
      }
      originalDiagonal[j] = blocks[column + c];
    }
  }

  /**
   * Subtracts the updates L_d(rows >= first, :) L_d(rows in [first, end), :)^T of every descendant d linked to
   * supernode s, and links each d to the next supernode its rows reach.
   */
  private subtractDescendantUpdates(s: number, work: CholeskyWork): void {
    const { supernodeOf, supernodeStart, supernodeRowStart, supernodeRows, blockStart } = this;
    const { blocks, update, rowPosition, positions, linkHead, linkNext, nextRow } = work;
    const first = supernodeStart[s];
    const end = supernodeStart[s + 1];
    const m = supernodeRowStart[s + 1] - supernodeRowStart[s];
    const base = blockStart[s];
    let d = linkHead[s];
    while (d !== -1) {
      const following = linkNext[d];
      const dRows = supernodeRowStart[d];
      const md = supernodeRowStart[d + 1] - dRows;
      const wd = supernodeStart[d + 1] - supernodeStart[d];
      const dBase = blockStart[d];
      const pd = nextRow[d];
      let qd = pd;
      while (qd < md && supernodeRows[dRows + qd] < end) qd++;
      const rowCount = md - pd;
      const columnCount = qd - pd;
      // the panel positions of the descendant's rows, looked up once for all its columns
      for (let r = 0; r < rowCount; r++) positions[r] = rowPosition[supernodeRows[dRows + pd + r]];
      if (wd <= 4) {
        narrowUpdate(
          blocks,
          dBase + pd,
          md,
          wd,
          base,
          m,
          positions,
          supernodeRows,
          dRows + pd,
          first,
          columnCount,
          rowCount,
        );
      } else {
        // two update columns a pass (each loaded descendant entry serves both), then the odd one
        let c = 0;
        for (; c + 1 < columnCount; c += 2) {
          const firstColumn = c * rowCount;
          const secondColumn = firstColumn + rowCount;
          for (let r = c; r < rowCount; r++) update[firstColumn + r] = 0;
          for (let r = c + 1; r < rowCount; r++) update[secondColumn + r] = 0;
          subtractColumnPairProducts(
            update,
            firstColumn,
            secondColumn,
            blocks,
            dBase + pd,
            md,
            wd,
            c,
            rowCount,
          );
          const target = base + (supernodeRows[dRows + pd + c] - first) * m;
          for (let r = c; r < rowCount; r++) blocks[target + positions[r]] += update[firstColumn + r];
          const next = base + (supernodeRows[dRows + pd + c + 1] - first) * m;
          for (let r = c + 1; r < rowCount; r++) blocks[next + positions[r]] += update[secondColumn + r];
        }
        if (c < columnCount) {
          const updateColumn = c * rowCount;
          for (let r = c; r < rowCount; r++) update[updateColumn + r] = 0;
          subtractColumnProducts(update, updateColumn, blocks, dBase + pd, md, wd, c, c, rowCount);
          const target = base + (supernodeRows[dRows + pd + c] - first) * m;
          for (let r = c; r < rowCount; r++) blocks[target + positions[r]] += update[updateColumn + r];
        }
      }
      nextRow[d] = qd;
      if (qd < md) {
        const t = supernodeOf[supernodeRows[dRows + qd]];
        linkNext[d] = linkHead[t];
        linkHead[t] = d;
      }
      d = following;
    }
  }

  /**
   * Dense left-looking Cholesky of supernode s's m x width panel (throws NotPositiveDefiniteError), then links s
   * to the supernode its first row below the panel belongs to.
   */
  private factorPanel(s: number, work: CholeskyWork): void {
    const { permutation, supernodeOf, supernodeStart, supernodeRowStart, supernodeRows, blockStart } = this;
    const { blocks, originalDiagonal, linkHead, linkNext, nextRow } = work;
    const tolerance = this.pivotTolerance;
    const first = supernodeStart[s];
    const width = supernodeStart[s + 1] - first;
    const rows = supernodeRowStart[s];
    const m = supernodeRowStart[s + 1] - rows;
    const base = blockStart[s];
    for (let c = 0; c < width; c++) {
      const column = base + c * m;
      subtractColumnProducts(blocks, column, blocks, base, m, c, c, c, m);
      const pivot = blocks[column + c];
      const j = first + c;
      if (!(pivot > 0 && pivot > tolerance * Math.abs(originalDiagonal[j]))) {
        throw new NotPositiveDefiniteError(permutation[j], j, pivot);
      }
      const diagonal = Math.sqrt(pivot);
      blocks[column + c] = diagonal;
      const inverseDiagonal = 1 / diagonal;
      for (let r = c + 1; r < m; r++) blocks[column + r] *= inverseDiagonal;
    }
    if (m > width) {
      nextRow[s] = width;
      const t = supernodeOf[supernodeRows[rows + width]];
      linkNext[s] = linkHead[t];
      linkHead[t] = s;
    }
  }

  /** Copies the factored panels into compressed columns (diagonal first, rows increasing). */
  private extractFactor(blocks: Float64Array, into: Float64Array | undefined): CholeskyFactor {
    const { columnStart, supernodeCount, supernodeStart, supernodeRowStart, blockStart } = this;
    const values = into ?? new Float64Array(this.factorNnz);
    for (let s = 0; s < supernodeCount; s++) {
      const first = supernodeStart[s];
      const width = supernodeStart[s + 1] - first;
      const m = supernodeRowStart[s + 1] - supernodeRowStart[s];
      const base = blockStart[s];
      for (let c = 0; c < width; c++) {
        let destination = columnStart[first + c];
        for (let r = c; r < m; r++) values[destination++] = blocks[base + c * m + r];
      }
    }
    return new CholeskyFactor(this, this.rowIndexOfFactor(), values);
  }

  /** Row index of each entry of L, in the order of `columnStart` (the same for every factor of the pattern). */
  private rowIndexOfFactor(): Int32Array {
    if (this.factorRows !== undefined) return this.factorRows;
    const { columnStart, supernodeCount, supernodeStart, supernodeRowStart, supernodeRows } = this;
    const rowIndex = new Int32Array(this.factorNnz);
    for (let s = 0; s < supernodeCount; s++) {
      const first = supernodeStart[s];
      const width = supernodeStart[s + 1] - first;
      const rows = supernodeRowStart[s];
      const m = supernodeRowStart[s + 1] - rows;
      for (let c = 0; c < width; c++) {
        let destination = columnStart[first + c];
        for (let r = c; r < m; r++) rowIndex[destination++] = supernodeRows[rows + r];
      }
    }
    this.factorRows = rowIndex;
    return rowIndex;
  }
}

/** The numeric work arrays of one supernodal Cholesky factorization. */
interface CholeskyWork {
  /** The dense column-major panels of all supernodes. */
  readonly blocks: Float64Array;
  /** Scratch for one descendant's update (the largest one). */
  readonly update: Float64Array;
  /** Position of each row in the current supernode's panel. */
  readonly rowPosition: Int32Array;
  /** The panel positions of one descendant's rows (scratch of the narrow updates). */
  readonly positions: Int32Array;
  /** Diagonal of C before factorization (for the pivot test). */
  readonly originalDiagonal: Float64Array;
  /** Linked lists of the descendants waiting to update each supernode. */
  readonly linkHead: Int32Array;
  readonly linkNext: Int32Array;
  /** First row of each factored supernode not yet used in an update. */
  readonly nextRow: Int32Array;
}

/**
 * The update of a descendant of at most 4 columns (column-major at `offset`, leading dimension `md`, `wd`
 * columns, its rows from the first one not yet used): for each of its rows c in the target supernode (the
 * first `columnCount`) and each row r >= c, panel[target column of c, positions[r]] -= sum_k L[r, k] L[c, k],
 * the products summed in k order from 0 (the order of the generic loop, unrolled per width).
 */
function narrowUpdate(
  blocks: Float64Array,
  offset: number,
  md: number,
  wd: number,
  base: number,
  m: number,
  positions: Int32Array,
  supernodeRows: Int32Array,
  rowsAt: number,
  first: number,
  columnCount: number,
  rowCount: number,
): void {
  const o1 = offset + md;
  const o2 = o1 + md;
  const o3 = o2 + md;
  for (let c = 0; c < columnCount; c++) {
    const target = base + (supernodeRows[rowsAt + c] - first) * m;
    const b0 = blocks[offset + c];
    if (wd === 1) {
      for (let r = c; r < rowCount; r++) blocks[target + positions[r]] -= 0 + blocks[offset + r] * b0;
    } else if (wd === 2) {
      const b1 = blocks[o1 + c];
      for (let r = c; r < rowCount; r++)
        blocks[target + positions[r]] -= 0 + blocks[offset + r] * b0 + blocks[o1 + r] * b1;
    } else if (wd === 3) {
      const b1 = blocks[o1 + c];
      const b2 = blocks[o2 + c];
      for (let r = c; r < rowCount; r++)
        blocks[target + positions[r]] -=
          0 + blocks[offset + r] * b0 + blocks[o1 + r] * b1 + blocks[o2 + r] * b2;
    } else {
      const b1 = blocks[o1 + c];
      const b2 = blocks[o2 + c];
      const b3 = blocks[o3 + c];
      for (let r = c; r < rowCount; r++)
        blocks[target + positions[r]] -=
          0 + blocks[offset + r] * b0 + blocks[o1 + r] * b1 + blocks[o2 + r] * b2 + blocks[o3 + r] * b3;
    }
  }
}

/**
 * y[yOffset + r] -= sum_{k < count} x[xOffset + k stride + r] * x[xOffset + k stride + coefficientRow] for
 * r in [from, to): a sum of scaled columns of a column-major block, four columns per pass over y.
 */
function subtractColumnProducts(
  y: Float64Array,
  yOffset: number,
  x: Float64Array,
  xOffset: number,
  stride: number,
  count: number,
  coefficientRow: number,
  from: number,
  to: number,
): void {
  let k = 0;
  for (; k + 4 <= count; k += 4) {
    const o0 = xOffset + k * stride;
    const o1 = o0 + stride;
    const o2 = o1 + stride;
    const o3 = o2 + stride;
    const a0 = x[o0 + coefficientRow];
    const a1 = x[o1 + coefficientRow];
    const a2 = x[o2 + coefficientRow];
    const a3 = x[o3 + coefficientRow];
    for (let r = from; r < to; r++) {
      y[yOffset + r] -= x[o0 + r] * a0 + x[o1 + r] * a1 + x[o2 + r] * a2 + x[o3 + r] * a3;
    }
  }
  for (; k < count; k++) {
    const o = xOffset + k * stride;
    const a = x[o + coefficientRow];
    if (a === 0) continue;
    for (let r = from; r < to; r++) y[yOffset + r] -= x[o + r] * a;
  }
}

/**
 * `subtractColumnProducts` for two columns at once: y[first + r] -= sum_k x[k, r] x[k, c] for r >= c and
 * y[second + r] -= sum_k x[k, r] x[k, c + 1] for r >= c + 1 (x column-major at xOffset, leading dimension
 * `stride`, `count` columns), each with exactly the arithmetic of `subtractColumnProducts` (the same groups
 * of four in the same order, the same skipped zero coefficients), sharing the loads of x.
 */
function subtractColumnPairProducts(
  y: Float64Array,
  first: number,
  second: number,
  x: Float64Array,
  xOffset: number,
  stride: number,
  count: number,
  c: number,
  to: number,
): void {
  const d = c + 1;
  let k = 0;
  for (; k + 4 <= count; k += 4) {
    const o0 = xOffset + k * stride;
    const o1 = o0 + stride;
    const o2 = o1 + stride;
    const o3 = o2 + stride;
    const a0 = x[o0 + c];
    const a1 = x[o1 + c];
    const a2 = x[o2 + c];
    const a3 = x[o3 + c];
    const b0 = x[o0 + d];
    const b1 = x[o1 + d];
    const b2 = x[o2 + d];
    const b3 = x[o3 + d];
    y[first + c] -= x[o0 + c] * a0 + x[o1 + c] * a1 + x[o2 + c] * a2 + x[o3 + c] * a3;
    for (let r = d; r < to; r++) {
      const x0 = x[o0 + r];
      const x1 = x[o1 + r];
      const x2 = x[o2 + r];
      const x3 = x[o3 + r];
      y[first + r] -= x0 * a0 + x1 * a1 + x2 * a2 + x3 * a3;
      y[second + r] -= x0 * b0 + x1 * b1 + x2 * b2 + x3 * b3;
    }
  }
  for (; k < count; k++) {
    const o = xOffset + k * stride;
    const a = x[o + c];
    if (a !== 0) for (let r = c; r < to; r++) y[first + r] -= x[o + r] * a;
    const b = x[o + d];
    if (b !== 0) for (let r = d; r < to; r++) y[second + r] -= x[o + r] * b;
  }
}

function arraysEqual(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Numeric Cholesky factor P A P^T = L L^T. L is stored by columns, the diagonal first in each column.
 *
 * @example
 * const factor = cholesky(A);
 * const x = factor.solve(b); // A x = b
 */
export class CholeskyFactor {
  /** The symbolic analysis this factor was computed with (reuse it to refactorize). */
  readonly symbolic: CholeskySymbolic;
  /** Row index of each entry of L (permuted numbering), column offsets in `symbolic.columnStart`; shared by the factors of one symbolic analysis (do not modify). */
  readonly rowIndex: Int32Array;
  /** Values of L. */
  readonly values: Float64Array;

  /**
   * Wrap factor arrays (normally created by {@link CholeskySymbolic.factor}).
   *
   * @example
   * const factor = analyzeCholesky(A).factor(A); // rather than calling the constructor directly
   */
  constructor(symbolic: CholeskySymbolic, rowIndex: Int32Array, values: Float64Array) {
    this.symbolic = symbolic;
    this.rowIndex = rowIndex;
    this.values = values;
  }

  /** Matrix order. */
  get n(): number {
    return this.symbolic.n;
  }

  /** Nonzeros of L (a measure of fill). */
  get nnz(): number {
    return this.symbolic.factorNnz;
  }

  /**
   * Solve A x = b. `out` may alias `b`.
   *
   * @example
   * cholesky(CsrMatrix.fromDense(1, 1, [4])).solve([8]); // Float64Array [2]
   */
  solve(b: ArrayLike<number>, out?: Float64Array): Float64Array {
    const n = this.symbolic.n;
    checkArrayLike(b, "solve", "b", true);
    if (b.length !== n) throw invalidArgument(`solve: b has length ${b.length}, expected ${n}`);
    const { permutation, columnStart } = this.symbolic;
    const rowIndex = this.rowIndex;
    const values = this.values;
    const y = new Float64Array(n);
    for (let k = 0; k < n; k++) y[k] = b[permutation[k]];
    for (let j = 0; j < n; j++) {
      const start = columnStart[j];
      const yj = y[j] / values[start];
      y[j] = yj;
      if (yj === 0) continue;
      const end = columnStart[j + 1];
      for (let p = start + 1; p < end; p++) y[rowIndex[p]] -= values[p] * yj;
    }
    for (let j = n - 1; j >= 0; j--) {
      const start = columnStart[j];
      const end = columnStart[j + 1];
      let sum = y[j];
      for (let p = start + 1; p < end; p++) sum -= values[p] * y[rowIndex[p]];
      y[j] = sum / values[start];
    }
    const x = out ?? new Float64Array(n);
    for (let k = 0; k < n; k++) x[permutation[k]] = y[k];
    return x;
  }

  /**
   * Solve A^T x = b, identical to {@link CholeskyFactor.solve} since A is symmetric.
   *
   * @example
   * cholesky(CsrMatrix.fromDense(1, 1, [4])).solveTranspose([8]); // Float64Array [2]
   */
  solveTranspose(b: ArrayLike<number>, out?: Float64Array): Float64Array {
    return this.solve(b, out);
  }

  /**
   * Factor a matrix with the same pattern and new values, reusing the symbolic analysis. With `recycle`,
   * the new factor's values are written into this factor's storage (no allocation; this factor then holds
   * the new values too, unless the refactorization throws).
   *
   * @example
   * const factor2 = cholesky(A).refactor(A.scale(2));
   */
  refactor(A: CsrMatrix, recycle = false): CholeskyFactor {
    return this.symbolic.factor(A, recycle ? this.values : undefined);
  }

  /**
   * log det A = 2 sum_k log L_kk.
   *
   * @example
   * cholesky(CsrMatrix.fromDense(1, 1, [4])).logDeterminant(); // Math.log(4)
   */
  logDeterminant(): number {
    const { n, columnStart } = this.symbolic;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.log(this.values[columnStart[j]]);
    return 2 * sum;
  }
}

/**
 * Symbolic analysis only (ordering, elimination tree, column counts); see {@link CholeskySymbolic}.
 *
 * @example
 * const symbolic = analyzeCholesky(A, { ordering: "amd" });
 * symbolic.factorNnz; // predicted nonzeros of L
 */
export function analyzeCholesky(A: CsrMatrix, options: CholeskyOptions = {}): CholeskySymbolic {
  return new CholeskySymbolic(A, options);
}

/**
 * Analyze and factor a symmetric positive definite matrix: P A P^T = L L^T.
 * Throws {@link NotPositiveDefiniteError} with the failing pivot's index when A is not SPD.
 *
 * @example
 * const A = CsrMatrix.fromDense(2, 2, [4, 1, 1, 3]);
 * cholesky(A).solve([1, 2]); // ≈ Float64Array [0.0909, 0.6364]
 */
export function cholesky(A: CsrMatrix, options: CholeskyOptions = {}): CholeskyFactor {
  return new CholeskySymbolic(A, options).factor(A);
}
