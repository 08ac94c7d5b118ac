/**
 * @file SparseMatrix: an immutable CSR matrix as an overloaded value, whose vector space is the array of
 * stored values for a fixed sparsity pattern, with its two recorded methods (transpose and matrix-vector
 * product) beside it so that the class and the operations it calls form no import cycle.
 */
import "../values/ndarray-space.js";
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import { checkOptions } from "../options.js";
import { checkTape } from "../reduced/arguments.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { record } from "../tape/record.js";
import type { Tape, TapeOption } from "../tape/tape.js";
import { type ArrayInput, array, asNDArray, NDArray } from "../values/ndarray.js";
import { OverloadedValue } from "../values/overloaded.js";
import { describeType, registerOverloadedType, type VectorSpace } from "../values/space.js";
import { CsrMatrix, type TransposedPattern, transposePattern } from "./sparse/csr.js";

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

/** What sparse operations accept as a matrix: a SparseMatrix (recorded or not) or a constant CsrMatrix. */
export type SparseOperand = SparseMatrix | CsrMatrix;

/**
 * @internal the tape of a `{ tape }` options object (checked: no other key, a Tape or undefined)
 *
 * @example
 * tapeOf({}, "matvec"); // undefined: the working tape
 */
export function tapeOf(options: TapeOption, operation: string): Tape | undefined {
  return checkTape(checkOptions(operation, options, ["tape"]).tape, operation);
}

/**
 * @internal the SparseMatrix for a sparse operand (a CsrMatrix becomes a fresh constant)
 *
 * @example
 * asSparseMatrix(CsrMatrix.identity(2), "matvec"); // SparseMatrix
 */
export function asSparseMatrix(value: unknown, operation: string): SparseMatrix {
  if (value instanceof SparseMatrix) return value;
  if (value instanceof CsrMatrix) return new SparseMatrix(value);
  throw new InvalidArgumentError(
    operation,
    `expected a SparseMatrix or a CsrMatrix, got ${describeType(value)}; build one with sparseMatrix(...)`,
  );
}

/** Plain array data as `array(...)` takes it (nested arrays, typed arrays); `array` rejects what it cannot read. */
function isArrayData(value: unknown): value is ArrayInput {
  return Array.isArray(value) || ArrayBuffer.isView(value);
}

/**
 * @internal an NDArray from an NDArray, a number or plain data (`asNDArray`, with `array` for array data), or an
 * InvalidArgumentError naming `operation`
 *
 * @example
 * asArray([1, 2], "matvec"); // NDArray [1, 2]
 */
export function asArray(value: unknown, operation: string): NDArray {
  if (value instanceof NDArray || typeof value === "number") return asNDArray(value);
  if (isArrayData(value)) return array(value);
  throw new InvalidArgumentError(
    operation,
    `expected an NDArray or an array of numbers, got ${describeType(value)}`,
  );
}

/** One sparse matrix: the inputs or outputs of a block that reads or produces one SparseMatrix. */
export type OneMatrix = readonly [SparseMatrix];

/**
 * B = A^T on a pattern computed once (shared by every recompute): linear, a permutation of the stored values.
 * TLM: Bdot = Adot^T. Adjoint: Abar = Bbar^T. Hessian: the adjoint applied to Bhat.
 *
 * @example
 * const At = transpose(A); // records one SparseTransposeBlock
 */
export class SparseTransposeBlock extends Block<OneMatrix, OneMatrix> {
  constructor(
    /** The transposed pattern and, for each of its slots, the source slot in A. */
    readonly transposed: TransposedPattern,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return "transpose";
  }

  private forward(A: SparseMatrix): SparseMatrix {
    return transposedValues(this.transposed, A);
  }

  private backward(A: SparseMatrix, bar: SparseMatrix): SparseMatrix {
    const source = this.transposed.sourceSlot;
    const from = bar.values;
    const values = new Float64Array(source.length);
    for (let t = 0; t < source.length; t++) values[source[t]] = from[t];
    return onPattern(A, values);
  }

  recompute({ inputs: [A] }: RecomputeContext<OneMatrix>): OneMatrix {
    return [this.forward(A)];
  }

  override evaluateTlm({ tlmInputs: [Adot] }: TlmContext<OneMatrix, OneMatrix>): Seeds<OneMatrix> {
    return [Adot === undefined ? undefined : this.forward(Adot)];
  }

  override evaluateAdj({
    inputs: [A],
    adjInputs: [bar],
  }: AdjContext<OneMatrix, OneMatrix>): Seeds<OneMatrix> {
    return [bar === undefined ? undefined : this.backward(A, bar)];
  }

  override evaluateHessian({
    inputs: [A],
    hessianInputs: [hat],
  }: HessianContext<OneMatrix, OneMatrix>): Seeds<OneMatrix> {
    return [hat === undefined ? undefined : this.backward(A, hat)];
  }
}

function transposedValues(transposed: TransposedPattern, A: SparseMatrix): SparseMatrix {
  const source = transposed.sourceSlot;
  const from = A.values;
  const values = new Float64Array(source.length);
  for (let t = 0; t < source.length; t++) values[t] = from[source[t]];
  return onPattern(transposed.pattern, values);
}

/**
 * The transpose A^T of a sparse matrix (recorded; the adjoint transposes back).
 *
 * @example
 * const At = transpose(A);
 */
export function transpose(matrix: SparseOperand, options: TapeOption = {}): SparseMatrix {
  const tape = tapeOf(options, "transpose");
  const A = asSparseMatrix(matrix, "transpose");
  const transposed = transposePattern(A.csr);
  const [result] = record(
    [A],
    [transposedValues(transposed, A)],
    (dependencies, outputs) => new SparseTransposeBlock(transposed, dependencies, outputs),
    tape,
  );
  return result;
}

/** Inputs of a sparse matrix-vector product: the matrix and the vector. */
export type MatvecIn = readonly [SparseMatrix, NDArray];
/** One array: the inputs or outputs of a block that reads or produces one NDArray. */
export type OneArray = readonly [NDArray];

/**
 * y = A x for a sparse A and a 1-D x, bilinear in (A, x).
 * TLM: ydot = Adot x + A xdot. Adjoint: xbar = A^T ybar, Abar = P(ybar x^T) (the outer product on A's pattern).
 * Hessian: xhat = A^T yhat + Adot^T ybar, Ahat = P(yhat x^T) + P(ybar xdot^T).
 *
 * @example
 * const y = matvec(A, x); // records one SparseMatvecBlock
 */
export class SparseMatvecBlock extends Block<MatvecIn, OneArray> {
  override get name(): string {
    return "matvec";
  }

  recompute({ inputs: [A, x] }: RecomputeContext<MatvecIn>): OneArray {
    return [new NDArray(A.csr.matvec(x.data), [A.rows])];
  }

  override evaluateTlm({
    inputs: [A, x],
    tlmInputs: [Adot, xdot],
  }: TlmContext<MatvecIn, OneArray>): Seeds<OneArray> {
    if (Adot === undefined && xdot === undefined) return [undefined];
    // one product straight into the result when only x moves (the colored Jacobian sweeps)
    if (Adot === undefined && xdot !== undefined) return [new NDArray(A.csr.matvec(xdot.data), [A.rows])];
    const y = new Float64Array(A.rows);
    if (Adot !== undefined) Adot.csr.matvec(x.data, y);
    if (xdot !== undefined) addInto(y, A.csr.matvec(xdot.data));
    return [new NDArray(y, [A.rows])];
  }

  override evaluateAdj({
    inputs: [A, x],
    adjInputs: [ybar],
    needed,
  }: AdjContext<MatvecIn, OneArray>): Seeds<MatvecIn> {
    if (ybar === undefined) return [undefined, undefined];
    return [
      needed[0] ? onPattern(A, A.csr.patternOuter(ybar.data, x.data)) : undefined,
      needed[1] ? new NDArray(A.csr.matvecTranspose(ybar.data), [A.cols]) : undefined,
    ];
  }

  override evaluateHessian({
    inputs: [A, x],
    adjInputs: [ybar],
    hessianInputs: [yhat],
    tlmInputs: [Adot, xdot],
    needed,
  }: HessianContext<MatvecIn, OneArray>): Seeds<MatvecIn> {
    let Ahat: SparseMatrix | undefined;
    let xhat: NDArray | undefined;
    if (needed[0]) {
      const values = new Float64Array(A.nnz);
      let any = false;
      if (yhat !== undefined) {
        A.csr.patternOuter(yhat.data, x.data, values);
        any = true;
      }
      if (ybar !== undefined && xdot !== undefined) {
        addInto(values, A.csr.patternOuter(ybar.data, xdot.data));
        any = true;
      }
      if (any) Ahat = onPattern(A, values);
    }
    if (needed[1]) {
      const values = new Float64Array(A.cols);
      let any = false;
      if (yhat !== undefined) {
        A.csr.matvecTranspose(yhat.data, values);
        any = true;
      }
      if (ybar !== undefined && Adot !== undefined) {
        addInto(values, Adot.csr.matvecTranspose(ybar.data));
        any = true;
      }
      if (any) xhat = new NDArray(values, [A.cols]);
    }
    return [Ahat, xhat];
  }
}

function addInto(target: Float64Array, source: Float64Array): void {
  for (let i = 0; i < target.length; i++) target[i] += source[i];
}

/**
 * y = A x for a sparse matrix A (SparseMatrix or constant CsrMatrix) and a 1-D vector x, recorded with respect to
 * both the matrix entries and x. dy_i/dA_ij = x_j, dy/dx = A.
 *
 * @example
 * const y = matvec(A, x); // x: NDArray of shape [A.cols]
 */
export function matvec(matrix: SparseOperand, x: NDArray | ArrayInput, options: TapeOption = {}): NDArray {
  const tape = tapeOf(options, "matvec");
  const A = asSparseMatrix(matrix, "matvec");
  const vector = asArray(x, "matvec");
  if (vector.ndim !== 1 || vector.shape[0] !== A.cols) {
    throw new ShapeMismatchError(
      "matvec",
      [A.shape, vector.shape],
      `x must be 1-D with ${A.cols} entries (the number of columns of A)`,
    );
  }
  const [result] = record(
    [A, vector],
    [new NDArray(A.csr.matvec(vector.data), [A.rows])],
    (dependencies, outputs) => new SparseMatvecBlock(dependencies, outputs),
    tape,
  );
  return result;
}
