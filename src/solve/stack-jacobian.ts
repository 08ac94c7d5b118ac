/**
 * @file The Newton Jacobian of a residual whose nonlinearity is a per-point map, assembled from the map's
 * per-point Jacobian stacks: for F(u) = s * M_out q(M_in u + c) + c' (M_in, M_out constant sparse matrices or
 * identities, s a product of scalar factors, q a block propagating per-point Jacobians such as `pointMap`),
 * dF/du = s * M_out diag(stacks) M_in. The structure is found on the residual's tape once; the sparsity is
 * worked out once per pair of matrices (symbolic), and each Jacobian only refills the values: one call of the
 * map's `evaluateJacobian` (a nested sweep per per-point input component) and one pass over the products,
 * instead of one tangent sweep of the whole residual per color. Other residuals keep the colored sweeps.
 */

import { BinaryConstantBlock, BinaryElementwiseBlock, UnaryElementwiseBlock } from "../ops/elementwise.js";
import { LinearBlock } from "../ops/linear.js";
import type { Block } from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { type JacobianBlock, propagatesJacobians } from "../tape/capabilities.js";
import { IDENTITY, type JacobianValue, PointwiseJacobian } from "../tape/jacobian.js";
import { NDArray } from "../values/ndarray.js";
import { CsrMatrix } from "./sparse/csr.js";
import { SparseMatrix, SparseMatvecBlock } from "./sparse-matrix.js";

/** Linear operations that only view their input's entries in another shape (the identity on the data). */
const RESHAPES = new Set(["reshape", "ravel", "expand_dims", "squeeze"]);

/** A scalar factor of the chain, read from the tape's values at each assembly (parameters may change). */
type Factor = () => number;

/** One side of the chain: at most one constant sparse matrix (undefined: the identity) and scalar factors. */
interface LinearSide {
  /** The variable holding the matrix (a SparseMatrix), or undefined for the identity. */
  matrix: BlockVariable | undefined;
  readonly factors: Factor[];
}

/**
 * @internal The structure F(u) = s * M_out q(M_in u + c) + c' found on a residual's tape: the per-point block
 * q, which of its inputs carries u and which output reaches F, and the two linear sides.
 */
export interface StackPlan {
  readonly block: Block & JacobianBlock;
  /** Dependency index of q's input that carries u. */
  readonly input: number;
  /** Output index of q's output that reaches F. */
  readonly output: number;
  /** Points n of q's input and output. */
  readonly points: number;
  /** Entries per point of the input (c) and of the output (m). */
  readonly inComponents: number;
  readonly outComponents: number;
  readonly before: LinearSide;
  readonly after: LinearSide;
}

function sizeOf(value: unknown): number {
  return value instanceof NDArray ? value.size : typeof value === "number" ? 1 : -1;
}

function sameShape(a: unknown, b: unknown): boolean {
  if (!(a instanceof NDArray) || !(b instanceof NDArray)) return false;
  return a.shape.length === b.shape.length && a.shape.every((s, i) => s === b.shape[i]);
}

/**
 * The Jacobian of a linear block along its active dependency `active` as a change to `side` (a matrix or a
 * scalar factor), or false when the block is not one of the linear kinds this assembly knows.
 */
function addLinear(block: Block, active: number, side: LinearSide): boolean {
  const dependencies = block.dependencies;
  const output = block.outputs[0]?.saved;
  if (block instanceof SparseMatvecBlock) {
    // y = A x along x with A constant on the path; a second matrix would need a sparse product: not here
    if (active !== 1 || side.matrix !== undefined) return false;
    if (!(dependencies[0].saved instanceof SparseMatrix)) return false;
    side.matrix = dependencies[0];
    return true;
  }
  if (block instanceof LinearBlock)
    return RESHAPES.has(block.name) && sizeOf(output) === sizeOf(dependencies[0].saved);
  if (block instanceof UnaryElementwiseBlock) {
    if (block.rule.name !== "negative") return false;
    side.factors.push(() => -1);
    return true;
  }
  if (block instanceof BinaryConstantBlock) {
    const { constant, constantIsFirst } = block;
    switch (block.rule.name) {
      case "add":
        return true;
      case "subtract":
        if (constantIsFirst) side.factors.push(() => -1);
        return true;
      case "multiply":
        side.factors.push(() => constant);
        return true;
      case "divide":
        if (constantIsFirst) return false;
        side.factors.push(() => 1 / constant);
        return true;
      default:
        return false;
    }
  }
  if (block instanceof BinaryElementwiseBlock) {
    // the active operand must not be broadcast; the other one is constant along u
    if (!sameShape(dependencies[active].saved, output)) return false;
    const other = dependencies[1 - active];
    switch (block.rule.name) {
      case "add":
        return true;
      case "subtract":
        if (active === 1) side.factors.push(() => -1);
        return true;
      case "multiply":
        if (typeof other.saved !== "number") return false;
        side.factors.push(() => scalarOf(other));
        return true;
      case "divide":
        if (active !== 1 && typeof other.saved === "number") {
          side.factors.push(() => 1 / scalarOf(other));
          return true;
        }
        return false;
      default:
        return false;
    }
  }
  return false;
}

function scalarOf(variable: BlockVariable): number {
  const value = variable.saved;
  return typeof value === "number" ? value : Number.NaN;
}

/**
 * @internal The structure s * M_out q(M_in u + c) + c' of the residual on `blocks` (the path from u to F, in
 * tape order), or undefined when the residual has another form (then the colored sweeps build its Jacobian).
 * Every block must carry u's influence along one chain: one dependency on the chain, its output the next link.
 *
 * @example
 * findStackPlan(path.blocks, u.blockVariable, F.blockVariable); // StackPlan | undefined
 */
export function findStackPlan(
  blocks: readonly Block[],
  u: BlockVariable,
  output: BlockVariable,
): StackPlan | undefined {
  let current = u;
  const before: LinearSide = { matrix: undefined, factors: [] };
  const after: LinearSide = { matrix: undefined, factors: [] };
  let point: Omit<StackPlan, "before" | "after"> | undefined;
  // every value that depends on u so far: a block may read exactly one, the chain's current link
  const dependent = new Set<BlockVariable>([u]);
  for (const block of blocks) {
    const dependencies = block.dependencies;
    let active = -1;
    for (let d = 0; d < dependencies.length; d++) {
      if (!dependent.has(dependencies[d])) continue;
      if (active >= 0 || dependencies[d] !== current) return undefined; // a second branch of u's influence
      active = d;
    }
    if (active < 0) return undefined;
    const outputs = block.outputs;
    for (const variable of outputs) dependent.add(variable);
    if (point === undefined && propagatesJacobians(block)) {
      const x = dependencies[active].saved;
      if (!(x instanceof NDArray) || x.ndim < 1 || x.shape[0] === 0) return undefined;
      const points = x.shape[0];
      // the output that the rest of the chain uses is found by the next block (or is F itself)
      point = {
        block,
        input: active,
        output: -1,
        points,
        inComponents: x.size / points,
        outComponents: 0,
      };
      const next = nextLink(blocks, block, output);
      if (next === undefined) return undefined;
      const y = outputs[next].saved;
      if (!(y instanceof NDArray) || y.ndim < 1 || y.shape[0] !== points) return undefined;
      point = { ...point, output: next, outComponents: y.size / points };
      current = outputs[next];
      continue;
    }
    if (outputs.length !== 1 || !addLinear(block, active, point === undefined ? before : after))
      return undefined;
    current = outputs[0];
  }
  if (point === undefined || current !== output) return undefined;
  return { ...point, before, after };
}

/** Which output of `block` the chain continues with: the one a later block (or F) uses, if exactly one. */
function nextLink(blocks: readonly Block[], block: Block, output: BlockVariable): number | undefined {
  const outputs = block.outputs;
  const used = outputs.map((variable) => variable === output);
  const at = blocks.indexOf(block);
  for (let b = at + 1; b < blocks.length; b++) {
    for (const dependency of blocks[b].dependencies) {
      const o = outputs.indexOf(dependency);
      if (o >= 0) used[o] = true;
    }
  }
  const count = used.filter(Boolean).length;
  return count === 1 ? used.indexOf(true) : undefined;
}

/** The identity pattern of size n (the matrix of a side without one). */
function identity(n: number): CsrMatrix {
  const rowPtr = new Int32Array(n + 1);
  const colIndex = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    rowPtr[i + 1] = i + 1;
    colIndex[i] = i;
  }
  return new CsrMatrix(n, n, rowPtr, colIndex, new Float64Array(n).fill(1));
}

/**
 * The symbolic part of J = M_out diag(stack) M_in on a pattern: the per-point products t[q] = sum_b
 * stack[r, b] M_in[k c + b, j] for each pair q = (r, j) (r an output entry at point k, j an unknown), and
 * each J entry as sum_p M_out[i, p] t[q(p, j)] in the order of M_out's row, the order the colored sweeps
 * add in (so that the values agree with them to the last bit when the sweeps use the same stacks).
 */
interface Symbolic {
  readonly inMatrix: CsrMatrix;
  readonly outMatrix: CsrMatrix;
  readonly pattern: CsrMatrix;
  /** Per pair q: its terms [tPtr[q], tPtr[q + 1]), each a stack index and an M_in value. */
  readonly tPtr: Int32Array;
  readonly tStack: Int32Array;
  readonly tValue: Float64Array;
  /** Per J entry s: its terms [jPtr[s], jPtr[s + 1]), each an M_out value and a pair q. */
  readonly jPtr: Int32Array;
  readonly jValue: Float64Array;
  readonly jPair: Int32Array;
  /** The products t (one per pair), reused by every assembly. */
  readonly t: Float64Array;
}

/** M_in's rows with duplicate columns summed (as its matvec sums them): unique columns and values per row. */
function mergedRows(matrix: CsrMatrix): { rowPtr: Int32Array; cols: Int32Array; values: Float64Array } {
  const { rows, rowPtr, colIndex, values } = matrix;
  const ptr = new Int32Array(rows + 1);
  const cols = new Int32Array(matrix.nnz);
  const merged = new Float64Array(matrix.nnz);
  let length = 0;
  for (let i = 0; i < rows; i++) {
    const start = length;
    for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
      const j = colIndex[p];
      let at = -1;
      for (let e = start; e < length; e++) {
        if (cols[e] === j) {
          at = e;
          break;
        }
      }
      if (at < 0) {
        cols[length] = j;
        merged[length] = 0 + values[p];
        length++;
      } else merged[at] += values[p];
    }
    ptr[i + 1] = length;
  }
  return { rowPtr: ptr, cols, values: merged };
}

// long: the two symbolic passes (pairs, then J's terms counted and filled) share their index arrays
function buildSymbolic(
  inMatrix: CsrMatrix,
  outMatrix: CsrMatrix,
  pattern: CsrMatrix,
  points: number,
  c: number,
  m: number,
): Symbolic | undefined {
  const unknowns = pattern.rows;
  const rowsIn = mergedRows(inMatrix);
  // pairs (r, j): for each output entry r at point k, the unknowns j reaching point k's inputs; a pair has
  // one term per input row of point k holding j, so m times point k's input entries bound both counts
  let bound = 0;
  for (let k = 0; k < points; k++) bound += m * (rowsIn.rowPtr[(k + 1) * c] - rowsIn.rowPtr[k * c]);
  const pairStart = new Int32Array(points * m + 1);
  const pairCols = new Int32Array(bound);
  const tPtr = new Int32Array(bound + 1);
  const tStack = new Int32Array(bound);
  const tValue = new Float64Array(bound);
  let pairCount = 0;
  let termCount = 0;
  const seen = new Int32Array(unknowns).fill(-1);
  const order: number[] = [];
  for (let k = 0; k < points; k++) {
    // the unknowns of point k, in order of first appearance over its input rows
    order.length = 0;
    for (let b = 0; b < c; b++) {
      const row = k * c + b;
      for (let e = rowsIn.rowPtr[row]; e < rowsIn.rowPtr[row + 1]; e++) {
        const j = rowsIn.cols[e];
        if (seen[j] !== k) {
          seen[j] = k;
          order.push(j);
        }
      }
    }
    for (let a = 0; a < m; a++) {
      const r = k * m + a;
      for (const j of order) {
        pairCols[pairCount] = j;
        for (let b = 0; b < c; b++) {
          const row = k * c + b;
          for (let e = rowsIn.rowPtr[row]; e < rowsIn.rowPtr[row + 1]; e++) {
            if (rowsIn.cols[e] !== j) continue;
            tStack[termCount] = r * c + b;
            tValue[termCount] = rowsIn.values[e];
            termCount++;
          }
        }
        tPtr[++pairCount] = termCount;
      }
      pairStart[r + 1] = pairCount;
    }
  }
  // J's terms: for row i, each M_out entry p (output entry r) times each pair (r, j), into slot (i, j)
  const { rowPtr, colIndex } = pattern;
  const slotOf = new Int32Array(unknowns).fill(-1);
  const counts = new Int32Array(pattern.nnz + 1);
  const forEachTerm = (visit: (slot: number, p: number, q: number) => void): boolean => {
    for (let i = 0; i < unknowns; i++) {
      for (let s = rowPtr[i]; s < rowPtr[i + 1]; s++) slotOf[colIndex[s]] = s;
      for (let p = outMatrix.rowPtr[i]; p < outMatrix.rowPtr[i + 1]; p++) {
        const r = outMatrix.colIndex[p];
        for (let q = pairStart[r]; q < pairStart[r + 1]; q++) {
          const slot = slotOf[pairCols[q]];
          if (slot < 0) return false; // the Jacobian reaches outside the given sparsity pattern
          visit(slot, p, q);
        }
      }
      for (let s = rowPtr[i]; s < rowPtr[i + 1]; s++) slotOf[colIndex[s]] = -1;
    }
    return true;
  };
  if (!forEachTerm((slot) => counts[slot + 1]++)) return undefined;
  const jPtr = new Int32Array(pattern.nnz + 1);
  for (let s = 0; s < pattern.nnz; s++) jPtr[s + 1] = jPtr[s] + counts[s + 1];
  const fill = jPtr.slice(0, pattern.nnz);
  const jValue = new Float64Array(jPtr[pattern.nnz]);
  const jPair = new Int32Array(jPtr[pattern.nnz]);
  forEachTerm((slot, p, q) => {
    const at = fill[slot]++;
    jValue[at] = outMatrix.values[p];
    jPair[at] = q;
  });
  return {
    inMatrix,
    outMatrix,
    pattern,
    tPtr: tPtr.slice(0, pairCount + 1),
    tStack: tStack.slice(0, termCount),
    tValue: tValue.slice(0, termCount),
    jPtr,
    jValue,
    jPair,
    t: new Float64Array(pairCount),
  };
}

/** The numeric assembly: the pair products t from the stack, then J's entries from t. */
function refill(symbolic: Symbolic, stack: Float64Array, values: Float64Array): void {
  const { tPtr, tStack, tValue, jPtr, jValue, jPair, t } = symbolic;
  const pairs = t.length;
  let start = tPtr[0];
  for (let q = 0; q < pairs; q++) {
    const end = tPtr[q + 1];
    let sum = 0;
    for (let e = start; e < end; e++) sum += stack[tStack[e]] * tValue[e];
    t[q] = sum;
    start = end;
  }
  const entries = values.length;
  start = jPtr[0];
  for (let s = 0; s < entries; s++) {
    const end = jPtr[s + 1];
    let sum = 0;
    for (let e = start; e < end; e++) sum += jValue[e] * t[jPair[e]];
    values[s] = sum;
    start = end;
  }
}

/**
 * @internal Assembles dF/du from the per-point stacks of a StackPlan, on a given sparsity pattern. The
 * symbolic part is kept while the matrices and the pattern stay the same objects.
 *
 * @example
 * const assembler = new StackAssembler(plan, unknowns);
 * assembler.assemble(pattern, values); // true: values hold J on the pattern
 */
export class StackAssembler {
  private symbolic: Symbolic | undefined = undefined;
  /** Set when this residual's Jacobian reaches outside the pattern (the colored sweeps then take over). */
  private outside: { inMatrix: CsrMatrix; outMatrix: CsrMatrix; pattern: CsrMatrix } | undefined = undefined;
  /** Set when the block gave no per-point stack: the colored sweeps build every Jacobian. */
  private declined = false;
  private identityIn: CsrMatrix | undefined = undefined;
  private identityOut: CsrMatrix | undefined = undefined;
  /** Assemblies so far. */
  assemblies = 0;

  constructor(
    readonly plan: StackPlan,
    private readonly unknowns: number,
  ) {}

  private matrices(): { inMatrix: CsrMatrix; outMatrix: CsrMatrix } | undefined {
    const { before, after, points, inComponents, outComponents } = this.plan;
    const inRows = points * inComponents;
    const outCols = points * outComponents;
    let inMatrix: CsrMatrix;
    if (before.matrix === undefined) {
      if (inRows !== this.unknowns) return undefined;
      this.identityIn ??= identity(inRows);
      inMatrix = this.identityIn;
    } else {
      const saved = before.matrix.saved;
      if (!(saved instanceof SparseMatrix)) return undefined;
      inMatrix = saved.csr;
    }
    let outMatrix: CsrMatrix;
    if (after.matrix === undefined) {
      if (outCols !== this.unknowns) return undefined;
      this.identityOut ??= identity(outCols);
      outMatrix = this.identityOut;
    } else {
      const saved = after.matrix.saved;
      if (!(saved instanceof SparseMatrix)) return undefined;
      outMatrix = saved.csr;
    }
    if (inMatrix.rows !== inRows || inMatrix.cols !== this.unknowns) return undefined;
    if (outMatrix.cols !== outCols || outMatrix.rows !== this.unknowns) return undefined;
    return { inMatrix, outMatrix };
  }

  /** The per-point stack of the plan's output along its input, at the values the tape holds. */
  private stack(): Float64Array | undefined {
    const { block, input, output, points, inComponents, outComponents } = this.plan;
    const jacobianInputs: JacobianValue[] = block.dependencies.map((_, d) =>
      d === input ? IDENTITY : undefined,
    );
    const inputs = block.dependencies.map((d) => d.saved);
    const jacobians = block.evaluateJacobian({
      inputs,
      outputs: block.outputs.map((o) => o.saved),
      jacobianInputs,
      control: inputs[input],
    });
    const jacobian = jacobians?.[output];
    if (!(jacobian instanceof PointwiseJacobian)) return undefined;
    const stack = jacobian.stack.data;
    if (jacobian.points !== points || stack.length !== points * inComponents * outComponents)
      return undefined;
    return stack;
  }

  /**
   * Writes J on `pattern` into `values` (length pattern.nnz) and returns true, or returns false (values
   * untouched) when this residual's Jacobian cannot be assembled from stacks here: the map gave no stack,
   * or J reaches outside the pattern.
   */
  assemble(pattern: CsrMatrix, values: Float64Array): boolean {
    const matrices = this.matrices();
    if (matrices === undefined) return false;
    const { inMatrix, outMatrix } = matrices;
    const outside = this.outside;
    if (
      outside !== undefined &&
      outside.inMatrix === inMatrix &&
      outside.outMatrix === outMatrix &&
      outside.pattern === pattern
    )
      return false;
    let symbolic = this.symbolic;
    if (
      symbolic === undefined ||
      symbolic.inMatrix !== inMatrix ||
      symbolic.outMatrix !== outMatrix ||
      symbolic.pattern !== pattern
    ) {
      const { points, inComponents, outComponents } = this.plan;
      symbolic = buildSymbolic(inMatrix, outMatrix, pattern, points, inComponents, outComponents);
      if (symbolic === undefined) {
        this.outside = { inMatrix, outMatrix, pattern };
        return false;
      }
      this.symbolic = symbolic;
    }
    if (this.declined) return false;
    const stack = this.stack();
    if (stack === undefined) {
      // the block gives no per-point stack for this input (a structural answer): stop asking
      this.declined = true;
      return false;
    }
    refill(symbolic, stack, values);
    let scale = 1;
    for (const factor of this.plan.before.factors) scale *= factor();
    for (const factor of this.plan.after.factors) scale *= factor();
    if (scale !== 1) for (let s = 0; s < values.length; s++) values[s] *= scale;
    this.assemblies++;
    return true;
  }
}
