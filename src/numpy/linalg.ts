/**
 * @file Linear algebra in `tsadjoint/numpy`: matmul, dot, inner, outer, vdot, tensordot, einsum, trace, and the
 * `linalg` namespace (inv, det, slogdet, cholesky, solve_triangular). NDArray (and AdjFloat, where NumPy takes a
 * scalar) operands are recorded; nested JS arrays and numbers are converted to constant arrays.
 */
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import { DenseSolveBlock } from "../ops/dense-solve.js";
import { broadcastShapesFor } from "../ops/kernels/broadcast.js";
import {
  cholesky as choleskyKernel,
  det as detKernel,
  dot as dotKernel,
  einsum as einsumKernel,
  inner as innerKernel,
  matmul as matmulKernel,
  outer as outerKernel,
  slogdet as slogdetKernel,
  solve as solveKernel,
  solveTriangular as solveTriangularKernel,
  tensordot as tensordotKernel,
  trace as traceKernel,
  vdot as vdotKernel,
} from "../ops/kernels/linalg.js";
import {
  CholeskyBlock,
  type ContractedAxes,
  ContractionBlock,
  type ContractionKind,
  type ContractionSpec,
  DetBlock,
  einsumSpec,
  InvBlock,
  inverseOrThrow,
  MatmulBlock,
  SlogdetBlock,
  SolveTriangularBlock,
  TraceBlock,
  tensordotSpec,
  withOperation,
} from "../ops/linalg.js";
import { checkedTape, onTape, tapeOnly } from "../ops/tape-option.js";
import { checkNumber, checkOptions, isPlainObject } from "../options.js";
import type { Block } from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { record } from "../tape/record.js";
import type { TapeOption } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import {
  array,
  asNDArray,
  NDArray,
  type NestedNumberArray,
  normalizeAxis,
  type TypedNumberArray,
} from "../values/ndarray.js";
import { norm } from "./reduce.js";

/** An array argument: an NDArray (recorded), or nested numbers / a typed array (converted to a constant). */
export type LinalgArray = NDArray | NestedNumberArray | TypedNumberArray;
/** A contraction argument: an array argument, a number (a constant 0-d array) or an AdjFloat (a recorded scalar). */
export type LinalgOperand = LinalgArray | number | AdjFloat;
/** A plain (never recorded) argument: numbers, nested numbers or a typed array. */
export type PlainOperand = number | NestedNumberArray | TypedNumberArray;

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return typeof value;
}

/**
 * Whether `value` is a JS array or a typed array: what `array()` converts (it checks the elements itself and
 * throws on anything but numbers, so the guard only has to tell containers apart).
 */
function isNumberContainer(value: unknown): value is NestedNumberArray | TypedNumberArray {
  return Array.isArray(value) || ArrayBuffer.isView(value);
}

/** `value` as an NDArray: NDArrays as they are, numbers and nested / typed arrays converted to constants. */
function toArray(value: unknown, operation: string): NDArray {
  if (value instanceof NDArray) return value;
  if (typeof value === "number") return asNDArray(value);
  if (isNumberContainer(value)) return array(value);
  if (value instanceof AdjFloat) {
    throw new InvalidArgumentError(
      operation,
      "expected an array, got an AdjFloat (a scalar); use np.multiply to scale by a scalar",
    );
  }
  throw new InvalidArgumentError(
    operation,
    `expected an NDArray or nested arrays of numbers, got ${describeValue(value)}; convert with np.array(...)`,
  );
}

/** `value` as a contraction operand: an AdjFloat stays an AdjFloat (a 0-d operand), the rest become arrays. */
function toOperand(value: unknown, operation: string): NDArray | AdjFloat {
  return value instanceof AdjFloat ? value : toArray(value, operation);
}

function shapeOf(operand: NDArray | AdjFloat): readonly number[] {
  return operand instanceof AdjFloat ? [] : operand.shape;
}

function rawOf(operand: NDArray | AdjFloat): NDArray {
  return operand instanceof AdjFloat ? asNDArray(operand.value) : operand;
}

/** Records a contraction block for `operands` producing `result` (when annotating) and returns `result`. */
function recordContraction<T extends NDArray | AdjFloat>(
  result: T,
  kind: ContractionKind,
  spec: ContractionSpec,
  subscripts: string | undefined,
  axes: ContractedAxes | undefined,
  operands: readonly (NDArray | AdjFloat)[],
): T {
  const build = (dependencies: BlockVariable[], outputs: BlockVariable[]): ContractionBlock =>
    new ContractionBlock(kind, spec, subscripts, axes, dependencies, outputs);
  return record(operands, [result], build)[0];
}

/** Records a one-input block built by `create` (when annotating) and returns `result`. */
function recordUnary(
  result: NDArray,
  input: NDArray,
  create: (dependencies: BlockVariable[], outputs: BlockVariable[]) => Block,
): NDArray {
  return record([input], [result], create)[0];
}

// ---------------------------------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------------------------------

/**
 * Matrix product with NumPy `matmul` semantics: a 1-D first operand is a row vector and a 1-D second operand a
 * column vector (the added axis is removed from the result); axes before the last two are batch axes and
 * broadcast. Derivative: d(a @ b) = da @ b + a @ db (the adjoint sums broadcast batch axes).
 *
 * @example
 * np.matmul(np.array([[1, 2], [3, 4]]), np.array([1, 1])); // array([3, 7])
 * np.matmul(np.zeros([5, 2, 3]), np.zeros([3, 4])).shape; // [5, 2, 4]
 */
export function matmul(a: LinalgArray, b: LinalgArray, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.matmul", options), () => matmulOn(a, b));
}

function matmulOn(a: LinalgArray, b: LinalgArray): NDArray {
  const operation = "np.matmul";
  const x = toArray(a, operation);
  const y = toArray(b, operation);
  const shapes = [x.shape, y.shape];
  if (x.ndim === 0 || y.ndim === 0) {
    throw new InvalidArgumentError(
      operation,
      `expected arrays of at least 1 dimension, got shapes ${shapes.map((s) => `[${s.join(", ")}]`).join(" and ")}; use np.multiply to scale by a scalar`,
    );
  }
  const k = x.shape[x.ndim - 1];
  const bAxis = y.ndim === 1 ? 0 : y.ndim - 2;
  if (y.shape[bAxis] !== k) {
    throw new ShapeMismatchError(
      operation,
      shapes,
      `the last axis of the first array (${k}) must equal the ${y.ndim === 1 ? "length" : "second-to-last axis"} of the second (${y.shape[bAxis]})`,
    );
  }
  const batchA = x.ndim > 2 ? x.shape.slice(0, -2) : [];
  const batchB = y.ndim > 2 ? y.shape.slice(0, -2) : [];
  try {
    broadcastShapesFor(operation, [batchA, batchB]);
  } catch {
    throw new ShapeMismatchError(
      operation,
      shapes,
      `the batch axes (all but the last two) [${batchA.join(", ")}] and [${batchB.join(", ")}] do not broadcast; make them equal or 1`,
    );
  }
  const result = matmulKernel(x, y);
  return record([x, y], [result], (dependencies, outputs) => new MatmulBlock(dependencies, outputs))[0];
}

/** Checks that axis `axisA` of `a` and `axisB` of `b` have equal lengths. */
function checkPaired(
  operation: string,
  a: readonly number[],
  b: readonly number[],
  axesA: readonly number[],
  axesB: readonly number[],
  hint: string,
): void {
  for (let i = 0; i < axesA.length; i++) {
    if (a[axesA[i]] !== b[axesB[i]]) {
      throw new ShapeMismatchError(
        operation,
        [a, b],
        `${hint}: axis ${axesA[i]} of the first (${a[axesA[i]]}) and axis ${axesB[i]} of the second (${b[axesB[i]]}) differ`,
      );
    }
  }
}

/**
 * NumPy `dot`: a scalar product if either operand is 0-d, the inner product of two 1-D arrays (a 0-d array),
 * the matrix product for 2-D arrays, and for N-D a sum product over the last axis of `a` and the
 * second-to-last of `b` (the last if `b` is 1-D). Bilinear: d(dot(a, b)) = dot(da, b) + dot(a, db).
 *
 * @example
 * np.dot(np.array([1, 2]), np.array([3, 4])); // array(11)
 */
export function dot(a: LinalgOperand, b: LinalgOperand, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.dot", options), () => dotOn(a, b));
}

function dotOn(a: LinalgOperand, b: LinalgOperand): NDArray {
  const operation = "np.dot";
  const x = toOperand(a, operation);
  const y = toOperand(b, operation);
  const shapeA = shapeOf(x);
  const shapeB = shapeOf(y);
  let axes: ContractedAxes = [[], []];
  if (shapeA.length > 0 && shapeB.length > 0) {
    axes = [[shapeA.length - 1], [shapeB.length === 1 ? 0 : shapeB.length - 2]];
    checkPaired(operation, shapeA, shapeB, axes[0], axes[1], "shapes not aligned");
  }
  const spec = tensordotSpec(shapeA.length, shapeB.length, axes, operation);
  const result = dotKernel(rawOf(x), rawOf(y));
  return recordContraction(result, "dot", spec, undefined, undefined, [x, y]);
}

/**
 * NumPy `inner`: the sum product over the last axes of `a` and `b` (a scalar product if either is 0-d); the
 * result has `a`'s other axes then `b`'s. Bilinear: d(inner(a, b)) = inner(da, b) + inner(a, db).
 *
 * @example
 * np.inner(np.array([[1, 2], [3, 4]]), np.array([1, 1])); // array([3, 7])
 */
export function inner(a: LinalgOperand, b: LinalgOperand, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.inner", options), () => innerOn(a, b));
}

function innerOn(a: LinalgOperand, b: LinalgOperand): NDArray {
  const operation = "np.inner";
  const x = toOperand(a, operation);
  const y = toOperand(b, operation);
  const shapeA = shapeOf(x);
  const shapeB = shapeOf(y);
  let axes: ContractedAxes = [[], []];
  if (shapeA.length > 0 && shapeB.length > 0) {
    axes = [[shapeA.length - 1], [shapeB.length - 1]];
    checkPaired(operation, shapeA, shapeB, axes[0], axes[1], "the last axes must have the same length");
  }
  const spec = tensordotSpec(shapeA.length, shapeB.length, axes, operation);
  const result = innerKernel(rawOf(x), rawOf(y));
  return recordContraction(result, "inner", spec, undefined, undefined, [x, y]);
}

/**
 * NumPy `outer`: `out[i, j] = a.flat[i] * b.flat[j]` (inputs flattened). Bilinear.
 *
 * @example
 * np.outer(np.array([1, 2]), np.array([3, 4])); // array([[3, 4], [6, 8]])
 */
export function outer(a: LinalgOperand, b: LinalgOperand, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.outer", options), () => outerOn(a, b));
}

function outerOn(a: LinalgOperand, b: LinalgOperand): NDArray {
  const operation = "np.outer";
  const x = toOperand(a, operation);
  const y = toOperand(b, operation);
  const result = outerKernel(rawOf(x), rawOf(y));
  return recordContraction(result, "outer", { terms: ["a", "b"], output: "ab" }, undefined, undefined, [
    x,
    y,
  ]);
}

/**
 * NumPy `vdot` for real arrays: the sum of the elementwise product of the flattened inputs (equal sizes).
 * Returns an AdjFloat when either operand is an NDArray or an AdjFloat (recorded while annotating), and a plain
 * number for plain inputs. Derivative: d vdot(a, b) = vdot(da, b) + vdot(a, db).
 *
 * @example
 * np.vdot(np.array([[1, 2], [3, 4]]), np.array([[1, 1], [1, 1]])); // AdjFloat(10)
 * np.vdot([1, 2], [3, 4]); // 11
 */
export function vdot(a: PlainOperand, b: PlainOperand, options?: TapeOption): number;
export function vdot(a: LinalgOperand, b: LinalgOperand, options?: TapeOption): AdjFloat;
export function vdot(a: LinalgOperand, b: LinalgOperand, options?: TapeOption): AdjFloat | number {
  return onTape(tapeOnly("np.vdot", options), () => vdotOn(a, b));
}

function vdotOn(a: LinalgOperand, b: LinalgOperand): AdjFloat | number {
  const operation = "np.vdot";
  const x = toOperand(a, operation);
  const y = toOperand(b, operation);
  const sizeA = x instanceof AdjFloat ? 1 : x.size;
  const sizeB = y instanceof AdjFloat ? 1 : y.size;
  if (sizeA !== sizeB) {
    throw new ShapeMismatchError(
      operation,
      [shapeOf(x), shapeOf(y)],
      `np.vdot needs arrays of the same size, got ${sizeA} and ${sizeB} elements`,
    );
  }
  const value = vdotKernel(rawOf(x), rawOf(y));
  const plain = (v: unknown) => !(v instanceof NDArray) && !(v instanceof AdjFloat);
  if (plain(a) && plain(b)) return value;
  return recordContraction(
    new AdjFloat(value),
    "vdot",
    { terms: ["a", "a"], output: "" },
    undefined,
    undefined,
    [x, y],
  );
}

/** tensordot axes: N (the last N axes of `a` with the first N of `b`) or explicit `[axesA, axesB]`. */
export type TensordotAxes = number | readonly [number | readonly number[], number | readonly number[]];

/**
 * NumPy `tensordot`: contracts `axes = N` (the last N axes of `a` with the first N of `b`, default 2) or the
 * explicitly paired `axes = [axesA, axesB]`; the result has `a`'s free axes then `b`'s. Bilinear.
 *
 * @example
 * np.tensordot(np.zeros([2, 3, 4]), np.zeros([3, 4, 5])).shape; // [2, 5]
 * np.tensordot(np.zeros([2, 3]), np.zeros([4, 2]), [[0], [1]]).shape; // [3, 4]
 */
export function tensordot(
  a: LinalgOperand,
  b: LinalgOperand,
  axes: TensordotAxes = 2,
  options?: TapeOption,
): NDArray {
  return onTape(tapeOnly("np.tensordot", options), () => tensordotOn(a, b, axes));
}

function tensordotOn(a: LinalgOperand, b: LinalgOperand, axes: TensordotAxes): NDArray {
  const operation = "np.tensordot";
  const x = toOperand(a, operation);
  const y = toOperand(b, operation);
  const shapeA = shapeOf(x);
  const shapeB = shapeOf(y);
  let axesA: number[];
  let axesB: number[];
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > shapeA.length || axes > shapeB.length) {
      throw new InvalidArgumentError(
        operation,
        `cannot contract ${axes} axes of arrays with ${shapeA.length} and ${shapeB.length} axes; give 0..${Math.min(shapeA.length, shapeB.length)}`,
      );
    }
    axesA = Array.from({ length: axes }, (_, i) => shapeA.length - axes + i);
    axesB = Array.from({ length: axes }, (_, i) => i);
  } else {
    if (!Array.isArray(axes) || axes.length !== 2) {
      throw new InvalidArgumentError(
        operation,
        `axes must be a number or a pair [axesA, axesB], got ${describeValue(axes)}`,
      );
    }
    const listA = typeof axes[0] === "number" ? [axes[0]] : axes[0];
    const listB = typeof axes[1] === "number" ? [axes[1]] : axes[1];
    if (!Array.isArray(listA) || !Array.isArray(listB)) {
      throw new InvalidArgumentError(operation, "axes must be a pair of axis lists such as [[1], [0]]");
    }
    if (listA.length !== listB.length) {
      throw new InvalidArgumentError(
        operation,
        `the axes lists must have the same length, got ${listA.length} and ${listB.length}`,
      );
    }
    axesA = listA.map((axis) => normalizeAxis(axis, shapeA.length, operation));
    axesB = listB.map((axis) => normalizeAxis(axis, shapeB.length, operation));
    if (new Set(axesA).size !== axesA.length || new Set(axesB).size !== axesB.length) {
      throw new InvalidArgumentError(operation, "an axis is repeated in axes");
    }
  }
  checkPaired(operation, shapeA, shapeB, axesA, axesB, "contracted axes must have the same lengths");
  const pair: ContractedAxes = [axesA, axesB];
  const spec = tensordotSpec(shapeA.length, shapeB.length, pair, operation);
  const result = tensordotKernel(rawOf(x), rawOf(y), pair);
  return recordContraction(result, "tensordot", spec, undefined, pair, [x, y]);
}

/**
 * Einstein summation (NumPy `einsum`): explicit (`"ij,jk->ik"`) and implicit (`"ij,jk"`) forms, any number of
 * operands, repeated subscripts within an operand (diagonals, traces), `...` and size-1 broadcasting.
 * Multilinear: the derivative for operand i is an einsum of the output's seed with the other operands.
 *
 * @example
 * np.einsum("ij,jk->ik", a, b); // a @ b
 * np.einsum("ii->", a); // trace
 * np.einsum("...ij,...jk->...ik", np.zeros([5, 2, 3]), np.zeros([3, 4])).shape; // [5, 2, 4]
 */
export function einsum(subscripts: string, ...operands: (LinalgOperand | TapeOption)[]): NDArray {
  const last = operands[operands.length - 1];
  if (last !== undefined && isPlainObject(last)) {
    const tape = tapeOnly("np.einsum", last);
    return onTape(tape, () => einsumOn(subscripts, operands.slice(0, -1)));
  }
  return einsumOn(subscripts, operands);
}

/** einsum of `operands` (an options object among them is not an operand: `toOperand` rejects it). */
function einsumOn(subscripts: string, operands: readonly (LinalgOperand | TapeOption)[]): NDArray {
  const operation = "np.einsum";
  if (typeof subscripts !== "string") {
    throw new InvalidArgumentError(operation, "the first argument must be the subscripts string");
  }
  if (operands.length === 0) throw new InvalidArgumentError(operation, "needs at least one operand");
  const values = operands.map((operand) => toOperand(operand, operation));
  const spec = einsumSpec(subscripts, values.map(shapeOf), operation);
  const result = withOperation(operation, () => einsumKernel(subscripts, ...values.map(rawOf)));
  return recordContraction(result, "einsum", spec, subscripts, undefined, values);
}

/**
 * NumPy `trace`: the sum along the diagonal (with `offset`) of the 2-D sub-arrays spanned by `axis1` and
 * `axis2`; those axes are removed. Linear: its adjoint puts the seed on the diagonal.
 *
 * @example
 * np.trace(np.array([[1, 2], [3, 4]])); // array(5)
 * np.trace(np.zeros([2, 3, 3]), 0, 1, 2).shape; // [2]
 */
export function trace(a: LinalgArray, offset = 0, axis1 = 0, axis2 = 1, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.trace", options), () => traceOn(a, offset, axis1, axis2));
}

function traceOn(a: LinalgArray, offset: number, axis1: number, axis2: number): NDArray {
  const operation = "np.trace";
  const x = toArray(a, operation);
  if (x.ndim < 2) {
    throw new ShapeMismatchError(operation, [x.shape], "np.trace needs an array of at least 2 dimensions");
  }
  checkNumber(operation, "offset", offset, { integer: true });
  const first = normalizeAxis(axis1, x.ndim, operation);
  const second = normalizeAxis(axis2, x.ndim, operation);
  if (first === second) {
    throw new InvalidArgumentError(operation, `axis1 and axis2 must differ, both are axis ${first}`);
  }
  const result = traceKernel(x, offset, first, second);
  return recordUnary(
    result,
    x,
    (dependencies, outputs) => new TraceBlock(offset, first, second, dependencies, outputs),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// np.linalg
// ---------------------------------------------------------------------------------------------------------------

function squareMatrices(value: LinalgArray, operation: string): NDArray {
  const x = toArray(value, operation);
  if (x.ndim < 2 || x.shape[x.ndim - 1] !== x.shape[x.ndim - 2]) {
    throw new ShapeMismatchError(
      operation,
      [x.shape],
      `${operation} needs square matrices in the last two axes (shape [..., n, n])`,
    );
  }
  return x;
}

/**
 * Inverse of every square matrix in the last two axes. Throws an InvalidArgumentError naming
 * `np.linalg.inv` for a singular matrix. Derivative: d(A^-1) = -A^-1 dA A^-1.
 *
 * @example
 * np.linalg.inv(np.array([[2, 0], [0, 4]])); // array([[0.5, 0], [0, 0.25]])
 */
function inv(a: LinalgArray, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.linalg.inv", options), () => invOn(a));
}

function invOn(a: LinalgArray): NDArray {
  const operation = "np.linalg.inv";
  const x = squareMatrices(a, operation);
  const result = inverseOrThrow(x, operation, "it has no inverse");
  return recordUnary(result, x, (dependencies, outputs) => new InvBlock(dependencies, outputs));
}

/**
 * Determinant of every square matrix in the last two axes (the result has the batch shape; 0-d for one
 * matrix). Derivative: d(det A) = det(A) tr(A^-1 dA); derivatives at a singular matrix throw an
 * InvalidArgumentError (they are computed with A^-1).
 *
 * @example
 * np.linalg.det(np.array([[1, 2], [3, 4]])); // array(-2)
 */
function det(a: LinalgArray, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.linalg.det", options), () => detOn(a));
}

function detOn(a: LinalgArray): NDArray {
  const operation = "np.linalg.det";
  const x = squareMatrices(a, operation);
  return recordUnary(detKernel(x), x, (dependencies, outputs) => new DetBlock(dependencies, outputs));
}

/** The result of `np.linalg.slogdet`: a `[sign, logabsdet]` pair that also has those two named fields. */
export type SlogdetResult = readonly [NDArray, NDArray] & {
  /** The sign of the determinant (+1, -1, or 0 for a singular matrix); piecewise constant. */
  readonly sign: NDArray;
  /** log|det A| (-Infinity for a singular matrix); differentiable. */
  readonly logabsdet: NDArray;
};

/**
 * Sign and natural log of the absolute determinant of every square matrix in the last two axes, robust to
 * over- and underflow. Returns `[sign, logabsdet]` (also as `.sign` / `.logabsdet`). Derivative:
 * d log|det A| = tr(A^-1 dA); the sign has derivative zero.
 *
 * @example
 * const { sign, logabsdet } = np.linalg.slogdet(np.array([[1, 2], [3, 4]])); // -1, log(2)
 * const [s, logdet] = np.linalg.slogdet(a);
 */
function slogdet(a: LinalgArray, options?: TapeOption): SlogdetResult {
  return onTape(tapeOnly("np.linalg.slogdet", options), () => slogdetOn(a));
}

function slogdetOn(a: LinalgArray): SlogdetResult {
  const operation = "np.linalg.slogdet";
  const x = squareMatrices(a, operation);
  const { sign, logAbsDet } = slogdetKernel(x);
  record([x], [sign, logAbsDet], (dependencies, outputs) => new SlogdetBlock(dependencies, outputs));
  return Object.assign([sign, logAbsDet] as const, { sign, logabsdet: logAbsDet });
}

/**
 * Lower-triangular Cholesky factor L (L L^T = A) of every symmetric positive-definite matrix in the last two
 * axes; only the lower triangle of A is read. Throws an InvalidArgumentError naming `np.linalg.cholesky` when
 * a matrix is not positive definite. The input is treated as symmetric: derivatives are with respect to
 * symmetric perturbations (those of A -> cholesky((A + A^T) / 2)), so the adjoint is a symmetric matrix.
 * Derivative: dL = L Phi(L^-1 dA L^-T), Phi = lower triangle with the diagonal halved.
 *
 * @example
 * np.linalg.cholesky(np.array([[4, 2], [2, 5]])); // array([[2, 0], [1, 2]])
 */
function cholesky(a: LinalgArray, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.linalg.cholesky", options), () => choleskyOn(a));
}

function choleskyOn(a: LinalgArray): NDArray {
  const operation = "np.linalg.cholesky";
  const x = squareMatrices(a, operation);
  const result = withOperation(operation, () => choleskyKernel(x));
  return recordUnary(result, x, (dependencies, outputs) => new CholeskyBlock(dependencies, outputs));
}

/** Options of `np.linalg.solve_triangular` (SciPy's names). */
export interface SolveTriangularOptions extends TapeOption {
  /** Use the lower triangle of `a` (default false: the upper, as SciPy). */
  readonly lower?: boolean;
  /** Solve `a^T x = b`: 1, "T" or true (default 0 / "N" / false: `a x = b`). */
  readonly trans?: 0 | 1 | "N" | "T" | boolean;
  /** Take the diagonal of `a` as ones (it is not read). */
  readonly unit_diagonal?: boolean;
}

/**
 * Solves `a x = b` (or `a^T x = b`) for triangular `a` (SciPy's `scipy.linalg.solve_triangular`): only the chosen
 * triangle of `a` is read, and its derivative is the derivative with respect to that triangle. Batched over
 * leading axes: `b` is one vector `[n]` or columns `[..., n, k]`, batch axes broadcast. Throws an
 * InvalidArgumentError on a zero diagonal entry.
 * Derivative: dx = T^-1 (db - dT x), T = the triangle (transposed for trans).
 *
 * @example
 * np.linalg.solve_triangular(np.array([[2, 0], [1, 1]]), np.array([2, 3]), { lower: true }); // array([1, 2])
 */
function solve_triangular(a: LinalgArray, b: LinalgArray, options?: SolveTriangularOptions): NDArray {
  const checked = checkOptions("np.linalg.solve_triangular", options, [
    "lower",
    "trans",
    "unit_diagonal",
    "tape",
  ]);
  for (const key of ["lower", "unit_diagonal"] as const) {
    if (checked[key] !== undefined && typeof checked[key] !== "boolean") {
      throw new InvalidArgumentError(
        "np.linalg.solve_triangular",
        `${key} must be true or false, got ${describeValue(checked[key])}`,
      );
    }
  }
  const tape = checkedTape("np.linalg.solve_triangular", checked.tape);
  return onTape(tape, () => solveTriangularOn(a, b, checked));
}

function solveTriangularOn(a: LinalgArray, b: LinalgArray, options: SolveTriangularOptions): NDArray {
  const operation = "scipy.linalg.solve_triangular";
  const x = squareMatrices(a, operation);
  const y = toArray(b, operation);
  const n = x.shape[x.ndim - 1];
  const shapes = [x.shape, y.shape];
  if (y.ndim === 0 || (y.ndim === 1 ? y.shape[0] : y.shape[y.ndim - 2]) !== n) {
    throw new ShapeMismatchError(
      operation,
      shapes,
      `the right-hand side must be one vector [${n}] or columns [..., ${n}, k] for matrices of order ${n}`,
    );
  }
  try {
    broadcastShapesFor(operation, [x.shape.slice(0, -2), y.ndim > 1 ? y.shape.slice(0, -2) : []]);
  } catch {
    throw new ShapeMismatchError(operation, shapes, "the batch axes of a and b do not broadcast");
  }
  const trans = options.trans;
  if (trans !== undefined && ![0, 1, "N", "T", true, false].includes(trans)) {
    throw new InvalidArgumentError(
      operation,
      `trans must be 0, 1, "N", "T" or a boolean, got ${describeValue(trans)}`,
    );
  }
  const settings = {
    lower: options.lower ?? false,
    transpose: trans === 1 || trans === "T" || trans === true,
    unitDiagonal: options.unit_diagonal ?? false,
  };
  const result = withOperation(operation, () => solveTriangularKernel(x, y, settings));
  const build = (dependencies: BlockVariable[], outputs: BlockVariable[]): SolveTriangularBlock =>
    new SolveTriangularBlock(settings, dependencies, outputs);
  return record([x, y], [result], build)[0];
}

/**
 * Solves `a y = b` for square (batched) dense `a` with NumPy 2's conventions: a 1-D `b` is one vector
 * (result `[..., n]`), otherwise `b` is columns `[..., n, k]`; batch axes broadcast. Throws an
 * InvalidArgumentError naming `np.linalg.solve` for a singular matrix. Derivatives (all four modes):
 * ydot = a^-1 (bdot - adot y); bbar = a^-T ybar, abar = -bbar y^T; second order from the same rules.
 *
 * @example
 * np.linalg.solve(np.array([[3, 1], [1, 2]]), np.array([9, 8])); // array([2, 3])
 */
function solve(a: LinalgArray, b: LinalgArray, options?: TapeOption): NDArray {
  return onTape(tapeOnly("np.linalg.solve", options), () => solveOn(a, b));
}

function solveOn(a: LinalgArray, b: LinalgArray): NDArray {
  const operation = "np.linalg.solve";
  const x = squareMatrices(a, operation);
  const y = toArray(b, operation);
  const n = x.shape[x.ndim - 1];
  const shapes = [x.shape, y.shape];
  if (y.ndim === 0 || (y.ndim === 1 ? y.shape[0] : y.shape[y.ndim - 2]) !== n) {
    throw new ShapeMismatchError(
      operation,
      shapes,
      `b must be one vector [${n}] or columns [..., ${n}, k] for matrices of order ${n}`,
    );
  }
  try {
    broadcastShapesFor(operation, [x.shape.slice(0, -2), y.ndim > 1 ? y.shape.slice(0, -2) : []]);
  } catch {
    throw new ShapeMismatchError(
      operation,
      shapes,
      "the batch axes of a and b do not broadcast; make them equal or 1",
    );
  }
  const result = withOperation(operation, () => solveKernel(x, y));
  return record([x, y], [result], (dependencies, outputs) => new DenseSolveBlock(dependencies, outputs))[0];
}

/**
 * NumPy's `np.linalg` namespace: `solve`, `inv`, `det`, `slogdet`, `cholesky`, `norm` (the same function as
 * `np.norm`: NumPy's `ord`, `axis`, `keepdims`), and SciPy's `solve_triangular`.
 *
 * @example
 * const logdet = np.linalg.slogdet(a).logabsdet;
 * const L = np.linalg.cholesky(spd);
 * const y = np.linalg.solve(A, b);
 * np.linalg.norm(x, { axis: 1 });
 */
export const linalg = { solve, inv, det, slogdet, cholesky, solve_triangular, norm } as const;
