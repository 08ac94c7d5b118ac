/**
 * @file SparseMatrix: an immutable CSR matrix as an overloaded value, whose vector space is the array of
 * stored values for a fixed sparsity pattern.
 */
import { ShapeMismatchError } from "../errors.js";
import { NDArray } from "../values/ndarray.js";
import { OverloadedValue } from "../values/overloaded.js";
import { registerOverloadedType, type VectorSpace } from "../values/space.js";
import { CsrMatrix } from "./sparse/csr.js";
import { matvec, transpose } from "./sparse-ops.js";

/**
 * A sparse matrix on the tape. It wraps an immutable {@link CsrMatrix}; the pattern (rows, columns, stored
 * positions, explicit zeros included) is fixed, and only the stored `values` are differentiable: tangents,
 * adjoints and Hessian actions of a SparseMatrix are SparseMatrices with the same pattern. A SparseMatrix is its
 * own raw value. Build one from triplets with `sparseMatrix` (differentiable in the triplet values), from a
 * pattern and values with `sparseFromValues`, or wrap a constant CsrMatrix with `new SparseMatrix(csr)`.
 *
 * @example
 * const A = new SparseMatrix(CsrMatrix.fromTriplets(2, 2, [0, 1], [0, 1], [2, 3]));
 * A.shape; // [2, 2]
 */
export class SparseMatrix extends OverloadedValue {
  /** The CSR data (never mutate it). */
  readonly csr: CsrMatrix;

  constructor(csr: CsrMatrix) {
    super();
    this.csr = csr;
  }

  /**
   * A constant SparseMatrix from triplets (duplicates summed); use `sparseMatrix` to record the assembly.
   *
   * @example
   * SparseMatrix.fromTriplets(2, 2, [0, 1, 1], [0, 0, 1], [4, 1, 3]).nnz; // 3
   */
  static fromTriplets(
    rows: number,
    cols: number,
    rowIndices: ArrayLike<number>,
    colIndices: ArrayLike<number>,
    values: ArrayLike<number>,
  ): SparseMatrix {
    return new SparseMatrix(CsrMatrix.fromTriplets(rows, cols, rowIndices, colIndices, values));
  }

  /**
   * A constant SparseMatrix storing the nonzero entries of a dense 2-D array.
   *
   * @example
   * SparseMatrix.fromDense(array([[1, 0], [0, 2]])).nnz; // 2
   */
  static fromDense(dense: NDArray): SparseMatrix {
    if (dense.ndim !== 2) {
      throw new ShapeMismatchError("SparseMatrix.fromDense", [dense.shape], "give a 2-D array");
    }
    return new SparseMatrix(CsrMatrix.fromDense(dense.shape[0], dense.shape[1], dense.data));
  }

  /** Number of rows. */
  get rows(): number {
    return this.csr.rows;
  }

  /** Number of columns. */
  get cols(): number {
    return this.csr.cols;
  }

  /** [rows, cols]. */
  get shape(): [number, number] {
    return [this.csr.rows, this.csr.cols];
  }

  /** Number of stored entries (the dimension of the vector space). */
  get nnz(): number {
    return this.csr.nnz;
  }

  /** The stored values (never mutate them). */
  get values(): Float64Array {
    return this.csr.values;
  }

  /** A SparseMatrix is its own raw value. */
  raw(): SparseMatrix {
    return this;
  }

  /**
   * A constant SparseMatrix with the same pattern (shared, not copied) and new values (copied).
   *
   * @example
   * A.withValues(new Float64Array(A.nnz)); // the zero matrix on A's pattern
   */
  withValues(values: ArrayLike<number>): SparseMatrix {
    if (values.length !== this.csr.nnz) {
      throw new ShapeMismatchError(
        "SparseMatrix.withValues",
        [[values.length], [this.csr.nnz]],
        "give one value per stored entry",
      );
    }
    return new SparseMatrix(this.csr.withValues(values));
  }

  /**
   * The dense [rows, cols] array (a constant; nothing recorded).
   *
   * @example
   * SparseMatrix.fromTriplets(1, 2, [0], [1], [5]).toDense().toArray(); // [[0, 5]]
   */
  toDense(): NDArray {
    return new NDArray(this.csr.toDense(), [this.csr.rows, this.csr.cols]);
  }

  /**
   * y = A x, recorded (same as `matvec(A, x)`).
   *
   * @example
   * const y = A.matvec(x);
   */
  matvec(x: NDArray): NDArray {
    return matvec(this, x);
  }

  /**
   * A^T, recorded (same as `transpose(A)`).
   *
   * @example
   * const At = A.transpose();
   */
  transpose(): SparseMatrix {
    return transpose(this);
  }

  /** Readable summary. */
  override toString(): string {
    return `SparseMatrix(${this.csr.rows}x${this.csr.cols}, nnz=${this.csr.nnz})`;
  }
}

/**
 * @internal a SparseMatrix on `like`'s pattern holding `values` (not copied)
 *
 * @example
 * onPattern(A, new Float64Array(A.nnz)); // the zero matrix on A's pattern
 */
export function onPattern(like: SparseMatrix | CsrMatrix, values: Float64Array): SparseMatrix {
  const csr = like instanceof SparseMatrix ? like.csr : like;
  return new SparseMatrix(new CsrMatrix(csr.rows, csr.cols, csr.rowPtr, csr.colIndex, values));
}

function samePattern(operation: string, a: SparseMatrix, b: SparseMatrix): void {
  if (!a.csr.hasSamePattern(b.csr)) {
    throw new ShapeMismatchError(
      operation,
      [a.shape, b.shape],
      `sparse matrices must share one sparsity pattern (nnz ${a.nnz} and ${b.nnz}); build both on the same pattern`,
    );
  }
}

/**
 * The vector space of sparse matrices with a fixed pattern: the stored values with the Euclidean (Frobenius)
 * inner product. Combining matrices with different patterns throws ShapeMismatchError.
 *
 * @example
 * sparseMatrixSpace.dot(A, A); // sum of the squared stored values
 */
export const sparseMatrixSpace: VectorSpace<SparseMatrix> = {
  zerosLike: (a) => onPattern(a, new Float64Array(a.nnz)),
  add: (a, b) => {
    samePattern("add", a, b);
    const x = a.values;
    const y = b.values;
    const out = new Float64Array(x.length);
    for (let i = 0; i < out.length; i++) out[i] = x[i] + y[i];
    return onPattern(a, out);
  },
  scale: (a, factor) => {
    const x = a.values;
    const out = new Float64Array(x.length);
    for (let i = 0; i < out.length; i++) out[i] = factor * x[i];
    return onPattern(a, out);
  },
  dot: (a, b) => {
    samePattern("dot", a, b);
    const x = a.values;
    const y = b.values;
    let total = 0;
    for (let i = 0; i < x.length; i++) total += x[i] * y[i];
    return total;
  },
  norm: (a) => {
    const x = a.values;
    let largest = 0;
    for (let i = 0; i < x.length; i++) largest = Math.max(largest, Math.abs(x[i]));
    if (largest === 0 || !Number.isFinite(largest)) return largest;
    let total = 0;
    for (let i = 0; i < x.length; i++) total += (x[i] / largest) ** 2;
    return largest * Math.sqrt(total);
  },
  copy: (a) => onPattern(a, a.values.slice()),
  size: (a) => a.nnz,
  toFloat64Array: (a) => a.values.slice(),
  fromFloat64Array: (like, data) => {
    if (data.length !== like.nnz) {
      throw new ShapeMismatchError(
        "fromFloat64Array",
        [[data.length], [like.nnz]],
        "a sparse matrix takes one value per stored entry",
      );
    }
    return onPattern(like, data);
  },
  shape: (a) => a.shape,
};

registerOverloadedType<SparseMatrix, SparseMatrix>({
  name: "SparseMatrix",
  isRaw: (value): value is SparseMatrix => value instanceof SparseMatrix,
  wrap: (raw) => raw,
  create: (value) => (value instanceof CsrMatrix ? new SparseMatrix(value) : undefined),
  space: sparseMatrixSpace,
});
