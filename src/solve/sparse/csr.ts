/** @file Immutable float64 compressed-sparse-row (CSR) matrix and reusable triplet-to-CSR scatter maps. */
import { invalidArgument } from "../../errors.js";

/**
 * Immutable float64 sparse matrix in compressed-sparse-row form.
 *
 * Invariants (guaranteed by every constructor in this module): `rowPtr` has `rows + 1` non-decreasing entries
 * starting at 0, and within each row the column indices are strictly increasing (sorted, no duplicates).
 * Explicit zeros are kept: the pattern never depends on the values, so derivatives with respect to the
 * entries of `values` stay well defined. The typed arrays must not be mutated; matrices derived with
 * {@link CsrMatrix.withValues}, {@link CsrMatrix.scale} share `rowPtr` and `colIndex` with their source.
 *
 * @example
 * const A = CsrMatrix.fromTriplets(2, 2, [0, 1, 1], [0, 0, 1], [4, 1, 3]);
 * A.matvec(new Float64Array([1, 2])); // Float64Array [4, 7]
 */
export class CsrMatrix {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** Row start offsets into `colIndex`/`values`, length `rows + 1`. */
  readonly rowPtr: Int32Array;
  /** Column index of each stored entry, sorted within each row. */
  readonly colIndex: Int32Array;
  /** Value of each stored entry. */
  readonly values: Float64Array;

  /**
   * Wrap existing CSR arrays without copying. The caller guarantees the invariants listed on the class
   * (use {@link CsrMatrix.validate} to check them).
   *
   * @example
   * const I = new CsrMatrix(2, 2, Int32Array.of(0, 1, 2), Int32Array.of(0, 1), Float64Array.of(1, 1));
   */
  constructor(rows: number, cols: number, rowPtr: Int32Array, colIndex: Int32Array, values: Float64Array) {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw invalidArgument(`CsrMatrix: invalid shape ${rows}x${cols}`);
    }
    if (rowPtr.length !== rows + 1) {
      throw invalidArgument(`CsrMatrix: rowPtr has length ${rowPtr.length}, expected ${rows + 1}`);
    }
    const nnz = rowPtr[rows];
    if (rowPtr[0] !== 0 || colIndex.length !== nnz || values.length !== nnz) {
      throw invalidArgument(
        `CsrMatrix: inconsistent arrays (rowPtr[0]=${rowPtr[0]}, nnz=${nnz}, colIndex.length=${colIndex.length}, values.length=${values.length})`,
      );
    }
    this.rows = rows;
    this.cols = cols;
    this.rowPtr = rowPtr;
    this.colIndex = colIndex;
    this.values = values;
  }

  /** Number of stored entries (including explicit zeros). */
  get nnz(): number {
    return this.rowPtr[this.rows];
  }

  /**
   * Build from coordinate triplets; duplicate (row, col) pairs are summed, columns sorted within each row.
   *
   * @example
   * const A = CsrMatrix.fromTriplets(1, 2, [0, 0, 0], [1, 0, 1], [1, 2, 3]); // [[2, 4]]
   */
  static fromTriplets(
    rows: number,
    cols: number,
    rowIdx: ArrayLike<number>,
    colIdx: ArrayLike<number>,
    vals: ArrayLike<number>,
  ): CsrMatrix {
    checkDimension(rows, "fromTriplets", "rows");
    checkDimension(cols, "fromTriplets", "cols");
    checkArrayLike(rowIdx, "fromTriplets", "rowIdx", true);
    checkArrayLike(colIdx, "fromTriplets", "colIdx", true);
    checkArrayLike(vals, "fromTriplets", "vals", true);
    if (vals.length !== rowIdx.length) {
      throw invalidArgument(`fromTriplets: ${vals.length} values for ${rowIdx.length} triplets`);
    }
    return assembleValues(scatterMap(rows, cols, rowIdx, colIdx), vals);
  }

  /**
   * Build from a dense row-major array, storing only the nonzero entries.
   *
   * @example
   * const A = CsrMatrix.fromDense(2, 2, [1, 0, 0, 2]); // nnz === 2
   */
  static fromDense(rows: number, cols: number, data: ArrayLike<number>): CsrMatrix {
    checkDimension(rows, "fromDense", "rows");
    checkDimension(cols, "fromDense", "cols");
    checkArrayLike(data, "fromDense", "data", true);
    if (data.length !== rows * cols) {
      throw invalidArgument(`fromDense: ${data.length} entries for a ${rows}x${cols} matrix`);
    }
    let nnz = 0;
    for (let k = 0; k < data.length; k++) if (data[k] !== 0) nnz++;
    const rowPtr = new Int32Array(rows + 1);
    const colIndex = new Int32Array(nnz);
    const values = new Float64Array(nnz);
    let slot = 0;
    for (let i = 0; i < rows; i++) {
      const base = i * cols;
      for (let j = 0; j < cols; j++) {
        const v = data[base + j];
        if (v !== 0) {
          colIndex[slot] = j;
          values[slot++] = v;
        }
      }
      rowPtr[i + 1] = slot;
    }
    return new CsrMatrix(rows, cols, rowPtr, colIndex, values);
  }

  /**
   * The n-by-n identity matrix.
   *
   * @example
   * CsrMatrix.identity(3).nnz; // 3
   */
  static identity(n: number): CsrMatrix {
    checkDimension(n, "identity", "n");
    const rowPtr = new Int32Array(n + 1);
    const colIndex = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      rowPtr[i + 1] = i + 1;
      colIndex[i] = i;
    }
    return new CsrMatrix(n, n, rowPtr, colIndex, new Float64Array(n).fill(1));
  }

  /**
   * Check the structural invariants (offsets monotone, columns in range and strictly increasing per row).
   * Throws an InvalidArgumentError describing the first violation.
   *
   * @example
   * CsrMatrix.identity(2).validate();
   */
  validate(): void {
    const { rows, cols, rowPtr, colIndex } = this;
    for (let i = 0; i < rows; i++) {
      const start = rowPtr[i];
      const end = rowPtr[i + 1];
      if (end < start) throw invalidArgument(`CsrMatrix: rowPtr decreases at row ${i}`);
      let last = -1;
      for (let p = start; p < end; p++) {
        const j = colIndex[p];
        if (j < 0 || j >= cols) throw invalidArgument(`CsrMatrix: column ${j} out of range in row ${i}`);
        if (j <= last) throw invalidArgument(`CsrMatrix: columns not strictly increasing in row ${i}`);
        last = j;
      }
    }
  }

  /**
   * Dense row-major copy.
   *
   * @example
   * CsrMatrix.identity(2).toDense(); // Float64Array [1, 0, 0, 1]
   */
  toDense(): Float64Array {
    const { rows, cols, rowPtr, colIndex, values } = this;
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const base = i * cols;
      for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) out[base + colIndex[p]] += values[p];
    }
    return out;
  }

  /**
   * Slot of entry (row, col) in `values`, or -1 when it is not in the pattern (binary search).
   *
   * @example
   * CsrMatrix.identity(3).indexOf(1, 1); // 1
   */
  indexOf(row: number, col: number): number {
    let lo = this.rowPtr[row];
    let hi = this.rowPtr[row + 1] - 1;
    const colIndex = this.colIndex;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = colIndex[mid];
      if (c === col) return mid;
      if (c < col) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * Entry (row, col), zero when not stored.
   *
   * @example
   * CsrMatrix.identity(3).get(0, 1); // 0
   */
  get(row: number, col: number): number {
    const slot = this.indexOf(row, col);
    return slot < 0 ? 0 : this.values[slot];
  }

  /**
   * Transposed matrix (a new CSR with sorted columns).
   *
   * @example
   * CsrMatrix.fromDense(1, 2, [1, 2]).transpose().toDense(); // Float64Array [1, 2]
   */
  transpose(): CsrMatrix {
    const { pattern, sourceSlot } = transposePattern(this);
    const values = new Float64Array(sourceSlot.length);
    const src = this.values;
    for (let t = 0; t < sourceSlot.length; t++) values[t] = src[sourceSlot[t]];
    return new CsrMatrix(pattern.rows, pattern.cols, pattern.rowPtr, pattern.colIndex, values);
  }

  /**
   * y = A x. Writes into `out` when given (it must not alias `x`).
   *
   * @example
   * CsrMatrix.identity(2).matvec([3, 4]); // Float64Array [3, 4]
   */
  matvec(x: ArrayLike<number>, out?: Float64Array): Float64Array {
    const { rows, cols, rowPtr, colIndex, values } = this;
    checkArrayLike(x, "matvec", "x", true);
    if (x.length !== cols) throw invalidArgument(`matvec: x has length ${x.length}, expected ${cols}`);
    const y = out ?? new Float64Array(rows);
    if (y.length !== rows) throw invalidArgument(`matvec: out has length ${y.length}, expected ${rows}`);
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      const end = rowPtr[i + 1];
      for (let p = rowPtr[i]; p < end; p++) sum += values[p] * x[colIndex[p]];
      y[i] = sum;
    }
    return y;
  }

  /**
   * y = A^T x without forming the transpose. Writes into `out` when given (it must not alias `x`).
   *
   * @example
   * CsrMatrix.fromDense(1, 2, [1, 2]).matvecTranspose([3]); // Float64Array [3, 6]
   */
  matvecTranspose(x: ArrayLike<number>, out?: Float64Array): Float64Array {
    const { rows, cols, rowPtr, colIndex, values } = this;
    checkArrayLike(x, "matvecTranspose", "x", true);
    if (x.length !== rows)
      throw invalidArgument(`matvecTranspose: x has length ${x.length}, expected ${rows}`);
    const y = out ?? new Float64Array(cols);
    if (y.length !== cols)
      throw invalidArgument(`matvecTranspose: out has length ${y.length}, expected ${cols}`);
    y.fill(0);
    for (let i = 0; i < rows; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      const end = rowPtr[i + 1];
      for (let p = rowPtr[i]; p < end; p++) y[colIndex[p]] += values[p] * xi;
    }
    return y;
  }

  /**
   * Same pattern, new values (copied). The pattern arrays are shared, so factorizations recognise it in O(1).
   *
   * @example
   * CsrMatrix.identity(2).withValues([5, 6]).toDense(); // Float64Array [5, 0, 0, 6]
   */
  withValues(values: ArrayLike<number>): CsrMatrix {
    checkArrayLike(values, "withValues", "values", true);
    if (values.length !== this.nnz) {
      throw invalidArgument(`withValues: ${values.length} values for a pattern with ${this.nnz} entries`);
    }
    return new CsrMatrix(this.rows, this.cols, this.rowPtr, this.colIndex, Float64Array.from(values));
  }

  /**
   * Main diagonal, length min(rows, cols); zero where not stored.
   *
   * @example
   * CsrMatrix.fromDense(2, 2, [1, 2, 3, 4]).diagonal(); // Float64Array [1, 4]
   */
  diagonal(): Float64Array {
    const n = Math.min(this.rows, this.cols);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.get(i, i);
    return out;
  }

  /**
   * Whether the pattern of A equals the pattern of A^T (values ignored).
   *
   * @example
   * CsrMatrix.fromDense(2, 2, [1, 2, 0, 1]).isStructurallySymmetric(); // false
   */
  isStructurallySymmetric(): boolean {
    if (this.rows !== this.cols) return false;
    const { pattern } = transposePattern(this);
    return samePattern(this, pattern);
  }

  /**
   * Whether |A_ij - A_ji| <= relativeTolerance * max|A| for all i, j (missing entries count as zero).
   *
   * @example
   * CsrMatrix.fromDense(2, 2, [2, 1, 1, 2]).isNumericallySymmetric(); // true
   */
  isNumericallySymmetric(relativeTolerance = 0): boolean {
    if (this.rows !== this.cols) return false;
    const bound = relativeTolerance * this.maxAbs();
    const mirror = mirrorSlots(this);
    if (mirror !== null) {
      // structurally symmetric, sorted and duplicate-free: compare each entry with its mirror in place
      const values = this.values;
      for (let p = 0; p < values.length; p++)
        if (Math.abs(values[p] - values[mirror[p]]) > bound) return false;
      return true;
    }
    const difference = this.add(this.transpose(), -1).values;
    for (let p = 0; p < difference.length; p++) if (Math.abs(difference[p]) > bound) return false;
    return true;
  }

  /**
   * Largest absolute stored value (0 for an empty matrix).
   *
   * @example
   * CsrMatrix.fromDense(1, 2, [-3, 2]).maxAbs(); // 3
   */
  maxAbs(): number {
    let m = 0;
    const values = this.values;
    for (let p = 0; p < values.length; p++) {
      const a = Math.abs(values[p]);
      if (a > m) m = a;
    }
    return m;
  }

  /**
   * factor * A (same pattern).
   *
   * @example
   * CsrMatrix.identity(2).scale(3).get(1, 1); // 3
   */
  scale(factor: number): CsrMatrix {
    const src = this.values;
    const values = new Float64Array(src.length);
    for (let p = 0; p < src.length; p++) values[p] = factor * src[p];
    return new CsrMatrix(this.rows, this.cols, this.rowPtr, this.colIndex, values);
  }

  /**
   * A + otherScale * B on the union of both patterns (entries that cancel are kept as explicit zeros).
   *
   * @example
   * CsrMatrix.identity(2).add(CsrMatrix.fromDense(2, 2, [0, 1, 0, 0])).toDense(); // [1, 1, 0, 1]
   */
  add(other: CsrMatrix, otherScale = 1): CsrMatrix {
    checkCsr(other, "add", "other");
    if (typeof otherScale !== "number")
      throw invalidArgument(`add: otherScale must be a number, got ${kindOf(otherScale)}`);
    if (other.rows !== this.rows || other.cols !== this.cols) {
      throw invalidArgument(`add: shapes ${this.rows}x${this.cols} and ${other.rows}x${other.cols} differ`);
    }
    const rows = this.rows;
    const aPtr = this.rowPtr;
    const aCol = this.colIndex;
    const aVal = this.values;
    const bPtr = other.rowPtr;
    const bCol = other.colIndex;
    const bVal = other.values;
    const capacity = this.nnz + other.nnz;
    const rowPtr = new Int32Array(rows + 1);
    const colIndex = new Int32Array(capacity);
    const values = new Float64Array(capacity);
    let slot = 0;
    for (let i = 0; i < rows; i++) {
      let p = aPtr[i];
      let q = bPtr[i];
      const pEnd = aPtr[i + 1];
      const qEnd = bPtr[i + 1];
      while (p < pEnd && q < qEnd) {
        const ca = aCol[p];
        const cb = bCol[q];
        if (ca === cb) {
          colIndex[slot] = ca;
          values[slot++] = aVal[p++] + otherScale * bVal[q++];
        } else if (ca < cb) {
          colIndex[slot] = ca;
          values[slot++] = aVal[p++];
        } else {
          colIndex[slot] = cb;
          values[slot++] = otherScale * bVal[q++];
        }
      }
      while (p < pEnd) {
        colIndex[slot] = aCol[p];
        values[slot++] = aVal[p++];
      }
      while (q < qEnd) {
        colIndex[slot] = bCol[q];
        values[slot++] = otherScale * bVal[q++];
      }
      rowPtr[i + 1] = slot;
    }
    return new CsrMatrix(rows, this.cols, rowPtr, colIndex.slice(0, slot), values.slice(0, slot));
  }

  /**
   * Whether `other` has exactly the same shape and pattern (O(1) when the pattern arrays are shared).
   *
   * @example
   * const A = CsrMatrix.identity(2);
   * A.hasSamePattern(A.scale(2)); // true
   */
  hasSamePattern(other: CsrMatrix): boolean {
    return samePattern(this, other);
  }

  /**
   * Values u_i * v_j at every stored slot (i, j): the pattern-restricted outer product. This is the
   * gradient of u^T A v with respect to `values`, e.g. the adjoint of a linear solve is -outer(lambda, x).
   * d(u^T A v)/dA_ij = u_i v_j.
   *
   * @example
   * CsrMatrix.identity(2).patternOuter([1, 2], [3, 4]); // Float64Array [3, 8]
   */
  patternOuter(u: ArrayLike<number>, v: ArrayLike<number>, out?: Float64Array): Float64Array {
    const { rows, rowPtr, colIndex } = this;
    if (u.length !== rows || v.length !== this.cols)
      throw invalidArgument("patternOuter: vector length mismatch");
    const result = out ?? new Float64Array(this.nnz);
    for (let i = 0; i < rows; i++) {
      const ui = u[i];
      const end = rowPtr[i + 1];
      for (let p = rowPtr[i]; p < end; p++) result[p] = ui * v[colIndex[p]];
    }
    return result;
  }
}

/** Pattern equality of two CSR matrices. */
function samePattern(a: CsrMatrix, b: CsrMatrix): boolean {
  if (a.rows !== b.rows || a.cols !== b.cols) return false;
  if (a.rowPtr === b.rowPtr && a.colIndex === b.colIndex) return true;
  const n = a.rows;
  for (let i = 0; i <= n; i++) if (a.rowPtr[i] !== b.rowPtr[i]) return false;
  const nnz = a.nnz;
  for (let p = 0; p < nnz; p++) if (a.colIndex[p] !== b.colIndex[p]) return false;
  return true;
}

/** Pattern of a transpose together with the source slot of each of its entries. */
export interface TransposedPattern {
  /** The transposed pattern (values all zero). */
  readonly pattern: CsrMatrix;
  /** `sourceSlot[t]` is the slot in the original `values` that lands in slot t of the transpose. */
  readonly sourceSlot: Int32Array;
}

/** Mirror slots per pattern (keyed by its column index array, which patterns share across values). */
const mirrorCache = new WeakMap<Int32Array, { rowPtr: Int32Array; mirror: Int32Array | null }>();

/**
 * For a square pattern that is structurally symmetric with strictly increasing columns in every row, the slot
 * of (j, i) for every slot of (i, j); null otherwise. Computed once per pattern and cached.
 */
function mirrorSlots(matrix: CsrMatrix): Int32Array | null {
  const cached = mirrorCache.get(matrix.colIndex);
  if (cached !== undefined && cached.rowPtr === matrix.rowPtr) return cached.mirror;
  let mirror: Int32Array | null = null;
  const { rows, rowPtr, colIndex } = matrix;
  let sorted = true;
  for (let i = 0; i < rows && sorted; i++)
    for (let p = rowPtr[i] + 1; p < rowPtr[i + 1]; p++)
      if (colIndex[p] <= colIndex[p - 1]) {
        sorted = false;
        break;
      }
  if (sorted) {
    const { pattern, sourceSlot } = transposePattern(matrix);
    // the transpose has the same pattern, so its slot q holds (j, i) and sourceSlot[q] is the slot of (i, j)
    if (samePattern(matrix, pattern)) mirror = sourceSlot;
  }
  mirrorCache.set(matrix.colIndex, { rowPtr: matrix.rowPtr, mirror });
  return mirror;
}

/**
 * Pattern of A^T plus, for each entry of A^T, the slot of A it comes from, so transposed values for a fixed
 * pattern are one gather loop: At.values[t] = A.values[sourceSlot[t]].
 *
 * @example
 * const { pattern, sourceSlot } = transposePattern(CsrMatrix.fromDense(1, 2, [5, 6]));
 * // pattern is 2x1, sourceSlot = Int32Array [0, 1]
 */
export function transposePattern(matrix: CsrMatrix): TransposedPattern {
  const { rows, cols, rowPtr, colIndex } = matrix;
  const nnz = matrix.nnz;
  const tPtr = new Int32Array(cols + 1);
  for (let p = 0; p < nnz; p++) tPtr[colIndex[p] + 1]++;
  for (let j = 0; j < cols; j++) tPtr[j + 1] += tPtr[j];
  const next = tPtr.slice(0, cols);
  const tCol = new Int32Array(nnz);
  const sourceSlot = new Int32Array(nnz);
  for (let i = 0; i < rows; i++) {
    const end = rowPtr[i + 1];
    for (let p = rowPtr[i]; p < end; p++) {
      const slot = next[colIndex[p]]++;
      tCol[slot] = i;
      sourceSlot[slot] = p;
    }
  }
  return { pattern: new CsrMatrix(cols, rows, tPtr, tCol, new Float64Array(nnz)), sourceSlot };
}

/**
 * A compiled assembly plan: the CSR pattern of a triplet list and, for every triplet, the slot of
 * `pattern.values` it accumulates into.
 */
export interface ScatterMap {
  /** The CSR pattern (values all zero; pass new values through {@link assembleValues}). */
  readonly pattern: CsrMatrix;
  /** `map[t]` is the slot that triplet t adds into. */
  readonly map: Int32Array;
}

/**
 * Compile triplet coordinates into a CSR pattern plus a triplet-to-slot map (two stable counting sorts,
 * O(triplets + rows + cols)). Duplicate coordinates share a slot; columns are sorted within each row.
 *
 * @example
 * const scatter = scatterMap(2, 2, [0, 1, 0], [0, 1, 0]);
 * scatter.map; // Int32Array [0, 1, 0]
 * assembleValues(scatter, [1, 2, 3]).toDense(); // Float64Array [4, 0, 0, 2]
 */
export function scatterMap(
  rows: number,
  cols: number,
  rowIdx: ArrayLike<number>,
  colIdx: ArrayLike<number>,
): ScatterMap {
  const count = rowIdx.length;
  if (colIdx.length !== count) {
    throw invalidArgument(`scatterMap: ${rowIdx.length} row indices but ${colIdx.length} column indices`);
  }
  const rowOf = Int32Array.from(rowIdx);
  const colOf = Int32Array.from(colIdx);
  for (let t = 0; t < count; t++) {
    const r = rowOf[t];
    const c = colOf[t];
    if (r !== rowIdx[t] || c !== colIdx[t] || r < 0 || r >= rows || c < 0 || c >= cols) {
      throw invalidArgument(`scatterMap: triplet ${t} (${rowIdx[t]}, ${colIdx[t]}) outside ${rows}x${cols}`);
    }
  }
  // Pass 1: stable counting sort of triplet ids by column.
  const colNext = new Int32Array(cols + 1);
  for (let t = 0; t < count; t++) colNext[colOf[t] + 1]++;
  for (let j = 0; j < cols; j++) colNext[j + 1] += colNext[j];
  const byColumn = new Int32Array(count);
  for (let t = 0; t < count; t++) byColumn[colNext[colOf[t]]++] = t;
  // Pass 2: stable counting sort by row, in column order, so each row comes out with sorted columns.
  const rowStart = new Int32Array(rows + 1);
  for (let t = 0; t < count; t++) rowStart[rowOf[t] + 1]++;
  for (let i = 0; i < rows; i++) rowStart[i + 1] += rowStart[i];
  const rowNext = rowStart.slice(0, rows);
  const sorted = new Int32Array(count);
  for (let s = 0; s < count; s++) {
    const t = byColumn[s];
    sorted[rowNext[rowOf[t]]++] = t;
  }
  // Pass 3: merge equal columns within each row.
  const rowPtr = new Int32Array(rows + 1);
  const colScratch = new Int32Array(count);
  const map = new Int32Array(count);
  let slot = -1;
  for (let i = 0; i < rows; i++) {
    let lastCol = -1;
    const end = rowStart[i + 1];
    for (let s = rowStart[i]; s < end; s++) {
      const t = sorted[s];
      const c = colOf[t];
      if (c !== lastCol) {
        colScratch[++slot] = c;
        lastCol = c;
      }
      map[t] = slot;
    }
    rowPtr[i + 1] = slot + 1;
  }
  const nnz = slot + 1;
  const pattern = new CsrMatrix(rows, cols, rowPtr, colScratch.slice(0, nnz), new Float64Array(nnz));
  return { pattern, map };
}

/**
 * Sum triplet values into a slot array: out[map[t]] += tripletValues[t] after zeroing `out`. The one hot loop
 * of repeated finite-element assembly.
 *
 * @example
 * const scatter = scatterMap(1, 1, [0, 0], [0, 0]);
 * assembleValuesInto(scatter.map, [1, 2], new Float64Array(1)); // Float64Array [3]
 */
export function assembleValuesInto(
  map: Int32Array,
  tripletValues: ArrayLike<number>,
  out: Float64Array,
): Float64Array {
  const count = map.length;
  if (tripletValues.length !== count) {
    throw invalidArgument(`assembleValues: ${tripletValues.length} values for ${count} triplets`);
  }
  out.fill(0);
  for (let t = 0; t < count; t++) out[map[t]] += tripletValues[t];
  return out;
}

/**
 * Assemble a new CsrMatrix on the scatter map's pattern from triplet values (duplicates summed).
 *
 * @example
 * const scatter = scatterMap(2, 2, [0, 1, 1], [0, 1, 1]);
 * assembleValues(scatter, [1, 2, 3]).get(1, 1); // 5
 */
export function assembleValues(scatter: ScatterMap, tripletValues: ArrayLike<number>): CsrMatrix {
  const pattern = scatter.pattern;
  const values = assembleValuesInto(scatter.map, tripletValues, new Float64Array(pattern.nnz));
  return new CsrMatrix(pattern.rows, pattern.cols, pattern.rowPtr, pattern.colIndex, values);
}

/**
 * Adjoint of assembly: out[t] = slotValues[map[t]] (each triplet receives the value of its slot).
 * d(assembled[map[t]])/d(tripletValues[t]) = 1.
 *
 * @example
 * const scatter = scatterMap(1, 1, [0, 0], [0, 0]);
 * gatherTripletValues(scatter.map, [7]); // Float64Array [7, 7]
 */
export function gatherTripletValues(
  map: Int32Array,
  slotValues: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const count = map.length;
  const result = out ?? new Float64Array(count);
  for (let t = 0; t < count; t++) result[t] = slotValues[map[t]];
  return result;
}

/** An object with a numeric `length` (a plain array or a typed array, for instance). */
function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return value !== null && typeof value === "object" && "length" in value && typeof value.length === "number";
}

/**
 * @internal Checks an array-like argument of numbers (a plain array or a typed array; with `entries`, every
 * entry is checked to be a number too, for constructors off the hot path).
 */
export function checkArrayLike(value: unknown, operation: string, name: string, entries = false): void {
  if (!isArrayLike(value)) {
    throw invalidArgument(
      `${operation}: ${name} must be an array of numbers or a typed array, got ${kindOf(value)}`,
    );
  }
  if (!entries || ArrayBuffer.isView(value)) return;
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== "number") {
      throw invalidArgument(`${operation}: ${name}[${i}] must be a number, got ${kindOf(value[i])}`);
    }
  }
}

/** @internal Checks a matrix argument of the sparse kernels. */
export function checkCsr(value: unknown, operation: string, name = "A"): void {
  if (!(value instanceof CsrMatrix)) {
    throw invalidArgument(`${operation}: ${name} must be a CsrMatrix, got ${kindOf(value)}`);
  }
}

/** @internal Checks a dimension (a non-negative integer). */
export function checkDimension(value: unknown, operation: string, name: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw invalidArgument(`${operation}: ${name} must be a non-negative integer, got ${kindOf(value)}`);
  }
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") return String(value);
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return typeof value;
}
