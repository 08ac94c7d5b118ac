/**
 * @file Recorded sparse-matrix operations: assembly from triplet values and values of a matrix, each a block
 * with all four modes; transpose and matrix-vector product (defined in sparse-matrix.ts) re-exported.
 */
import "../values/ndarray-space.js";
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
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
  matvec,
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
