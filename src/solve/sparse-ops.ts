/**
 * @file Recorded sparse-matrix operations: assembly from triplet values and values of a matrix, each a block
 * with all four modes; transpose and matrix-vector product (defined in sparse-matrix.ts) re-exported.
 */
import "../values/ndarray-space.js";
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
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
import { type ArrayInput, NDArray } from "../values/ndarray.js";
import {
  assembleValuesInto,
  type CsrMatrix,
  gatherTripletValues,
  type ScatterMap,
  scatterMap,
} from "./sparse/csr.js";
import {
  asArray,
  asSparseMatrix,
  type OneArray,
  type OneMatrix,
  onPattern,
  type SparseMatrix,
  type SparseOperand,
  tapeOf,
} from "./sparse-matrix.js";

// transpose and matvec live beside the SparseMatrix class (its methods call them); re-exported here so
// the sparse operations keep one import path.
export {
  asArray,
  asSparseMatrix,
  type MatvecIn,
  matvec,
  type OneArray,
  type OneMatrix,
  SparseMatvecBlock,
  type SparseOperand,
  SparseTransposeBlock,
  transpose,
} from "./sparse-matrix.js";

/**
 * A matrix from triplet or slot values: values[t] adds into the stored slot map[t] (duplicates summed), or,
 * without a map, values are the stored values themselves. Linear in the values:
 * TLM: Adot = assemble(vdot). Adjoint: vbar[t] = Abar[map[t]]. Hessian: the adjoint applied to Ahat.
 *
 * @example
 * const A = sparseMatrix(2, 2, [0, 1], [0, 1], theta); // records one SparseAssembleBlock
 */
export class SparseAssembleBlock extends Block<OneArray, OneMatrix> {
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

  recompute({ inputs: [values] }: RecomputeContext<OneArray>): OneMatrix {
    return [this.assemble(values)];
  }

  override evaluateTlm({ tlmInputs: [vdot] }: TlmContext<OneArray, OneMatrix>): Seeds<OneMatrix> {
    return [vdot === undefined ? undefined : this.assemble(vdot)];
  }

  override evaluateAdj({ adjInputs: [bar] }: AdjContext<OneArray, OneMatrix>): Seeds<OneArray> {
    return [bar === undefined ? undefined : this.gather(bar)];
  }

  override evaluateHessian({ hessianInputs: [hat] }: HessianContext<OneArray, OneMatrix>): Seeds<OneArray> {
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
  const [result] = record(
    [values],
    [assembleOnPattern(pattern, map, values)],
    (dependencies, outputs) => new SparseAssembleBlock(pattern, map, values.shape, dependencies, outputs),
    tape,
  );
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
      throw new InvalidArgumentError(
        "SparseAssembler",
        error instanceof Error ? error.message : String(error),
      );
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
export class SparseValuesBlock extends Block<OneMatrix, OneArray> {
  override get name(): string {
    return "sparseValues";
  }

  recompute({ inputs: [A] }: RecomputeContext<OneMatrix>): OneArray {
    return [new NDArray(A.values.slice(), [A.nnz])];
  }

  override evaluateTlm({ tlmInputs: [Adot] }: TlmContext<OneMatrix, OneArray>): Seeds<OneArray> {
    return [Adot === undefined ? undefined : new NDArray(Adot.values.slice(), [Adot.nnz])];
  }

  override evaluateAdj({ inputs: [A], adjInputs: [bar] }: AdjContext<OneMatrix, OneArray>): Seeds<OneMatrix> {
    return [bar === undefined ? undefined : onPattern(A, bar.data.slice())];
  }

  override evaluateHessian({
    inputs: [A],
    hessianInputs: [hat],
  }: HessianContext<OneMatrix, OneArray>): Seeds<OneMatrix> {
    return [hat === undefined ? undefined : onPattern(A, hat.data.slice())];
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
  const [result] = record(
    [A],
    [new NDArray(A.values.slice(), [A.nnz])],
    (dependencies, outputs) => new SparseValuesBlock(dependencies, outputs),
    tape,
  );
  return result;
}
