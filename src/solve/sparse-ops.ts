/**
 * @file Recorded sparse-matrix operations: assembly from triplet values, values of a matrix, transpose and
 * matrix-vector product, each a block with all four modes.
 */
import "../values/ndarray-space.js";
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import { checkOptions } from "../options.js";
import { checkTape } from "../reduced/arguments.js";
import { annotating } from "../tape/annotation.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type TlmContext,
} from "../tape/block.js";
import { BlockVariable } from "../tape/block-variable.js";
import { recordBlock, type Tape, type TapeOption } from "../tape/tape.js";
import { type ArrayInput, array, NDArray } from "../values/ndarray.js";
import { describeType } from "../values/space.js";
import {
  assembleValuesInto,
  CsrMatrix,
  gatherTripletValues,
  type ScatterMap,
  scatterMap,
  type TransposedPattern,
  transposePattern,
} from "./sparse/csr.js";
import { onPattern, SparseMatrix } from "./sparse-matrix.js";

/** What sparse operations accept as a matrix: a SparseMatrix (recorded or not) or a constant CsrMatrix. */
export type SparseOperand = SparseMatrix | CsrMatrix;

/** The tape of a `{ tape }` options object (checked: no other key, a Tape or undefined). */
function tapeOf(options: TapeOption, operation: string): Tape | undefined {
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

/**
 * @internal an NDArray from an NDArray or plain data
 *
 * @example
 * asArray([1, 2], "matvec"); // NDArray [1, 2]
 */
export function asArray(value: unknown, operation: string): NDArray {
  if (value instanceof NDArray) return value;
  if (Array.isArray(value) || ArrayBuffer.isView(value) || typeof value === "number") {
    return array(value as ArrayInput);
  }
  throw new InvalidArgumentError(
    operation,
    `expected an NDArray or an array of numbers, got ${describeType(value)}`,
  );
}

/**
 * A matrix from triplet or slot values: values[t] adds into the stored slot map[t] (duplicates summed), or,
 * without a map, values are the stored values themselves. Linear in the values:
 * TLM: Adot = assemble(vdot). Adjoint: vbar[t] = Abar[map[t]]. Hessian: the adjoint applied to Ahat.
 *
 * @example
 * const A = sparseMatrix(2, 2, [0, 1], [0, 1], theta); // records one SparseAssembleBlock
 */
export class SparseAssembleBlock extends Block {
  constructor(
    /** Shared pattern of every assembled matrix (so factorizations recognise it in O(1)). */
    readonly pattern: CsrMatrix,
    /** Triplet-to-slot map; `undefined` when the values are the slot values. */
    readonly map: Int32Array | undefined,
    /** Shape of the values array. */
    readonly valuesShape: readonly number[],
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return this.map === undefined ? "sparseFromValues" : "sparseMatrix";
  }

  private assemble(values: NDArray): SparseMatrix {
    return assembleOnPattern(this.pattern, this.map, values);
  }

  private gather(bar: SparseMatrix): NDArray {
    const data = this.map === undefined ? bar.values.slice() : gatherTripletValues(this.map, bar.values);
    return new NDArray(data, this.valuesShape);
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [this.assemble(inputs[0] as NDArray)];
  }

  override evaluateTlm({ tlmInputs }: TlmContext): readonly unknown[] {
    const vdot = tlmInputs[0] as NDArray | undefined;
    return [vdot === undefined ? undefined : this.assemble(vdot)];
  }

  override evaluateAdj({ adjInputs }: AdjContext): readonly unknown[] {
    const bar = adjInputs[0] as SparseMatrix | undefined;
    return [bar === undefined ? undefined : this.gather(bar)];
  }

  override evaluateHessian({ hessianInputs }: HessianContext): readonly unknown[] {
    const hat = hessianInputs[0] as SparseMatrix | undefined;
    return [hat === undefined ? undefined : this.gather(hat)];
  }
}

function assembleOnPattern(pattern: CsrMatrix, map: Int32Array | undefined, values: NDArray): SparseMatrix {
  if (map === undefined) return onPattern(pattern, values.data.slice());
  return onPattern(pattern, assembleValuesInto(map, values.data, new Float64Array(pattern.nnz)));
}

function recordAssembly(
  pattern: CsrMatrix,
  map: Int32Array | undefined,
  values: NDArray,
  operation: string,
  tape: Tape | undefined,
): SparseMatrix {
  const expected = map === undefined ? pattern.nnz : map.length;
  if (values.size !== expected) {
    throw new ShapeMismatchError(
      operation,
      [values.shape, [expected]],
      map === undefined ? "give one value per stored entry of the pattern" : "give one value per triplet",
    );
  }
  const result = assembleOnPattern(pattern, map, values);
  if (annotating()) {
    const output = new BlockVariable(result);
    recordBlock(new SparseAssembleBlock(pattern, map, values.shape, [values.blockVariable], [output]), {
      tape,
    });
    result._blockVariable = output;
  }
  return result;
}

/**
 * A compiled triplet assembly: the CSR pattern of fixed (row, col) coordinates and the triplet-to-slot map,
 * built once; `assemble(values)` then records one block and returns a SparseMatrix on the shared pattern
 * (duplicates summed). Use it when the same coordinates are assembled many times (a time loop, a residual).
 *
 * @example
 * const assembler = new SparseAssembler(2, 2, [0, 1, 1], [0, 1, 1]);
 * const A = assembler.assemble(np.exp(theta)); // theta: NDArray of 3 triplet values, recorded
 */
export class SparseAssembler {
  /** The compiled plan (pattern and map). */
  readonly scatter: ScatterMap;

  constructor(rows: number, cols: number, rowIndices: ArrayLike<number>, colIndices: ArrayLike<number>) {
    try {
      this.scatter = scatterMap(rows, cols, rowIndices, colIndices);
    } catch (error) {
      throw new InvalidArgumentError("SparseAssembler", (error as Error).message);
    }
  }

  /** Number of triplets (the length of the values `assemble` takes). */
  get tripletCount(): number {
    return this.scatter.map.length;
  }

  /** The pattern every assembled matrix shares. */
  get pattern(): CsrMatrix {
    return this.scatter.pattern;
  }

  /**
   * The matrix with entries sum over triplets t at (row[t], col[t]) of values[t]; one block when recorded.
   * d A[map[t]] / d values[t] = 1.
   *
   * @example
   * assembler.assemble(array([1, 2, 3]));
   */
  assemble(values: NDArray | ArrayInput, options: TapeOption = {}): SparseMatrix {
    return recordAssembly(
      this.scatter.pattern,
      this.scatter.map,
      asArray(values, "sparseMatrix"),
      "sparseMatrix",
      tapeOf(options, "sparseMatrix"),
    );
  }
}

/**
 * A rows-by-cols sparse matrix from coordinate triplets, duplicates summed. The values may be a recorded NDArray
 * (for instance the output of a constitutive model), making assembly differentiable: the adjoint of a triplet
 * value is the adjoint of the stored entry it lands in. d A[map[t]] / d values[t] = 1.
 *
 * @example
 * const A = sparseMatrix(2, 2, [0, 1, 1, 0], [0, 1, 1, 1], np.exp(theta)); // theta: NDArray of length 4
 */
export function sparseMatrix(
  rows: number,
  cols: number,
  rowIndices: ArrayLike<number>,
  colIndices: ArrayLike<number>,
  values: NDArray | ArrayInput,
  options: TapeOption = {},
): SparseMatrix {
  return new SparseAssembler(rows, cols, rowIndices, colIndices).assemble(values, options);
}

/**
 * A sparse matrix on a given pattern with the given stored values (one per stored entry, in CSR order);
 * recorded when `values` is. d A.values[p] / d values[p] = 1.
 *
 * @example
 * const A = sparseFromValues(pattern, np.exp(logValues)); // logValues: NDArray of length pattern.nnz
 */
export function sparseFromValues(
  pattern: SparseOperand,
  values: NDArray | ArrayInput,
  options: TapeOption = {},
): SparseMatrix {
  const tape = tapeOf(options, "sparseFromValues");
  const csr = asSparseMatrix(pattern, "sparseFromValues").csr;
  return recordAssembly(csr, undefined, asArray(values, "sparseFromValues"), "sparseFromValues", tape);
}

/**
 * The stored values of a matrix as a 1-D array: linear. TLM: vdot = Adot.values. Adjoint: Abar = vbar on the pattern.
 *
 * @example
 * const v = sparseValues(A); // records one SparseValuesBlock
 */
export class SparseValuesBlock extends Block {
  override get name(): string {
    return "sparseValues";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    const A = inputs[0] as SparseMatrix;
    return [new NDArray(A.values.slice(), [A.nnz])];
  }

  override evaluateTlm({ tlmInputs }: TlmContext): readonly unknown[] {
    const Adot = tlmInputs[0] as SparseMatrix | undefined;
    return [Adot === undefined ? undefined : new NDArray(Adot.values.slice(), [Adot.nnz])];
  }

  override evaluateAdj({ inputs, adjInputs }: AdjContext): readonly unknown[] {
    const bar = adjInputs[0] as NDArray | undefined;
    return [bar === undefined ? undefined : onPattern(inputs[0] as SparseMatrix, bar.data.slice())];
  }

  override evaluateHessian({ inputs, hessianInputs }: HessianContext): readonly unknown[] {
    const hat = hessianInputs[0] as NDArray | undefined;
    return [hat === undefined ? undefined : onPattern(inputs[0] as SparseMatrix, hat.data.slice())];
  }
}

/**
 * The stored values of a sparse matrix, in CSR order, as a 1-D NDArray (recorded).
 *
 * @example
 * const J = np.sum(np.square(sparseValues(A)));
 */
export function sparseValues(matrix: SparseOperand, options: TapeOption = {}): NDArray {
  const tape = tapeOf(options, "sparseValues");
  const A = asSparseMatrix(matrix, "sparseValues");
  const result = new NDArray(A.values.slice(), [A.nnz]);
  if (annotating()) {
    const output = new BlockVariable(result);
    recordBlock(new SparseValuesBlock([A.blockVariable], [output]), { tape });
    result._blockVariable = output;
  }
  return result;
}

/**
 * B = A^T on a pattern computed once (shared by every recompute): linear, a permutation of the stored values.
 * TLM: Bdot = Adot^T. Adjoint: Abar = Bbar^T. Hessian: the adjoint applied to Bhat.
 *
 * @example
 * const At = transpose(A); // records one SparseTransposeBlock
 */
export class SparseTransposeBlock extends Block {
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

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [this.forward(inputs[0] as SparseMatrix)];
  }

  override evaluateTlm({ tlmInputs }: TlmContext): readonly unknown[] {
    const Adot = tlmInputs[0] as SparseMatrix | undefined;
    return [Adot === undefined ? undefined : this.forward(Adot)];
  }

  override evaluateAdj({ inputs, adjInputs }: AdjContext): readonly unknown[] {
    const bar = adjInputs[0] as SparseMatrix | undefined;
    return [bar === undefined ? undefined : this.backward(inputs[0] as SparseMatrix, bar)];
  }

  override evaluateHessian({ inputs, hessianInputs }: HessianContext): readonly unknown[] {
    const hat = hessianInputs[0] as SparseMatrix | undefined;
    return [hat === undefined ? undefined : this.backward(inputs[0] as SparseMatrix, hat)];
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
  const result = transposedValues(transposed, A);
  if (annotating()) {
    const output = new BlockVariable(result);
    recordBlock(new SparseTransposeBlock(transposed, [A.blockVariable], [output]), { tape });
    result._blockVariable = output;
  }
  return result;
}

/**
 * y = A x for a sparse A and a 1-D x, bilinear in (A, x).
 * TLM: ydot = Adot x + A xdot. Adjoint: xbar = A^T ybar, Abar = P(ybar x^T) (the outer product on A's pattern).
 * Hessian: xhat = A^T yhat + Adot^T ybar, Ahat = P(yhat x^T) + P(ybar xdot^T).
 *
 * @example
 * const y = matvec(A, x); // records one SparseMatvecBlock
 */
export class SparseMatvecBlock extends Block {
  override get name(): string {
    return "matvec";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    const A = inputs[0] as SparseMatrix;
    return [new NDArray(A.csr.matvec((inputs[1] as NDArray).data), [A.rows])];
  }

  override evaluateTlm({ inputs, tlmInputs }: TlmContext): readonly unknown[] {
    const A = inputs[0] as SparseMatrix;
    const x = inputs[1] as NDArray;
    const Adot = tlmInputs[0] as SparseMatrix | undefined;
    const xdot = tlmInputs[1] as NDArray | undefined;
    if (Adot === undefined && xdot === undefined) return [undefined];
    const y = new Float64Array(A.rows);
    if (Adot !== undefined) Adot.csr.matvec(x.data, y);
    if (xdot !== undefined) addInto(y, A.csr.matvec(xdot.data));
    return [new NDArray(y, [A.rows])];
  }

  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    const ybar = adjInputs[0] as NDArray | undefined;
    if (ybar === undefined) return [undefined, undefined];
    const A = inputs[0] as SparseMatrix;
    const x = inputs[1] as NDArray;
    return [
      needed[0] ? onPattern(A, A.csr.patternOuter(ybar.data, x.data)) : undefined,
      needed[1] ? new NDArray(A.csr.matvecTranspose(ybar.data), [A.cols]) : undefined,
    ];
  }

  override evaluateHessian({
    inputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext): readonly unknown[] {
    const A = inputs[0] as SparseMatrix;
    const x = inputs[1] as NDArray;
    const ybar = adjInputs[0] as NDArray | undefined;
    const yhat = hessianInputs[0] as NDArray | undefined;
    const Adot = tlmInputs[0] as SparseMatrix | undefined;
    const xdot = tlmInputs[1] as NDArray | undefined;
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
  const result = new NDArray(A.csr.matvec(vector.data), [A.rows]);
  if (annotating()) {
    const output = new BlockVariable(result);
    recordBlock(new SparseMatvecBlock([A.blockVariable, vector.blockVariable], [output]), { tape });
    result._blockVariable = output;
  }
  return result;
}
