/**
 * @file Linear algebra operation blocks (matmul, the einsum family of contractions, trace, inv, det, slogdet,
 * cholesky, solve_triangular): recompute, tangent-linear, adjoint and Hessian rules side by side.
 */
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type TlmContext,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { contiguousStrides, NDArray, shapeSize, shapesEqual } from "../values/ndarray.js";
import { broadcastTo, sumToShape } from "./kernels/broadcast.js";
import { add } from "./kernels/elementwise.js";
import {
  cholesky as choleskyKernel,
  det as detKernel,
  dot as dotKernel,
  einsum as einsumKernel,
  inner as innerKernel,
  luFactor,
  luSolve,
  matmul as matmulKernel,
  outer as outerKernel,
  slogdet as slogdetKernel,
  solveTriangular as solveTriangularKernel,
  tensordot as tensordotKernel,
  trace as traceKernel,
  vdot as vdotKernel,
} from "./kernels/linalg.js";
import { matrixTranspose, scatterDiagonal } from "./kernels/shape.js";
import { forEachRun } from "./kernels/strided.js";

// ---------------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------------

/** A raw operand as an array: a number (an AdjFloat's raw value) becomes a 0-d array. */
function asArray(raw: unknown): NDArray {
  return typeof raw === "number" ? new NDArray(new Float64Array([raw]), []) : (raw as NDArray);
}

/** x + y where `undefined` means zero. */
function plus(x: NDArray | undefined, y: NDArray | undefined): NDArray | undefined {
  if (x === undefined) return y;
  if (y === undefined) return x;
  return add(x, y);
}

/** The array `value` with the raw type and shape of `like` (a number for a number; a reshape otherwise). */
function restore(value: NDArray, like: unknown): unknown {
  if (typeof like === "number") {
    let total = 0;
    const data = value.data;
    for (let i = 0; i < data.length; i++) total += data[i];
    return total;
  }
  return view(value, (like as NDArray).shape);
}

/** The same elements viewed with another shape (no copy; arrays are immutable). */
function view(value: NDArray, shape: readonly number[]): NDArray {
  return shapesEqual(value.shape, shape) ? value : new NDArray(value.data, shape);
}

/** ` (batch index [i, j])` for the `index`-th matrix of a batch, or "" without batch axes. */
function batchLabel(batchShape: readonly number[], index: number): string {
  if (batchShape.length === 0) return "";
  const position: number[] = [];
  let rest = index;
  for (let d = batchShape.length - 1; d >= 0; d--) {
    position.unshift(rest % batchShape[d]);
    rest = Math.floor(rest / batchShape[d]);
  }
  return ` (batch index [${position.join(", ")}])`;
}

/**
 * Runs a kernel and re-labels its InvalidArgumentError with the public function's name (`np.linalg.inv`
 * instead of the kernel's `inv`), keeping the message.
 *
 * @example
 * const L = withOperation("np.linalg.cholesky", () => cholesky(a));
 */
export function withOperation<T>(operation: string, kernel: () => T): T {
  try {
    return kernel();
  } catch (error) {
    if (error instanceof InvalidArgumentError && error.operation !== operation) {
      const text = error.message.slice(error.operation.length + 2);
      throw new InvalidArgumentError(operation, text);
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// matmul
// ---------------------------------------------------------------------------------------------------------------

/** `a` as a stack of matrices: a 1-D left operand is a row [1, k], a 1-D right operand a column [k, 1]. */
function promoted(a: NDArray, left: boolean): NDArray {
  if (a.ndim !== 1) return a;
  return new NDArray(a.data, left ? [1, a.shape[0]] : [a.shape[0], 1]);
}

/** A seed of matmul's output shape viewed as `[...batch, m, n]` (the axes 1-D promotion removed put back). */
function promotedSeed(seed: NDArray, aNdim: number, bNdim: number): NDArray {
  const trailing = (aNdim > 1 ? 1 : 0) + (bNdim > 1 ? 1 : 0);
  const batch = seed.shape.slice(0, seed.ndim - trailing);
  const m = aNdim > 1 ? seed.shape[batch.length] : 1;
  const n = bNdim > 1 ? seed.shape[seed.ndim - 1] : 1;
  return view(seed, [...batch, m, n]);
}

/** abar = sum-to-shape(zbar b^T) (batch axes that `a` was broadcast along are summed). */
function matmulAdjointLeft(seed: NDArray, a: NDArray, b: NDArray): NDArray {
  const a2 = promoted(a, true);
  const product = matmulKernel(promotedSeed(seed, a.ndim, b.ndim), matrixTranspose(promoted(b, false)));
  const reduced = shapesEqual(product.shape, a2.shape) ? product : sumToShape(product, a2.shape);
  return view(reduced, a.shape);
}

/** bbar = sum-to-shape(a^T zbar). */
function matmulAdjointRight(seed: NDArray, a: NDArray, b: NDArray): NDArray {
  const b2 = promoted(b, false);
  const product = matmulKernel(matrixTranspose(promoted(a, true)), promotedSeed(seed, a.ndim, b.ndim));
  const reduced = shapesEqual(product.shape, b2.shape) ? product : sumToShape(product, b2.shape);
  return view(reduced, b.shape);
}

/**
 * z = a @ b with NumPy `matmul` semantics (1-D promotion, broadcast batch axes). Bilinear:
 * TLM: zdot = adot b + a bdot. Adjoint: abar = sum-to-shape(zbar b^T), bbar = sum-to-shape(a^T zbar).
 * Hessian: ahat = zhat b^T + zbar bdot^T, bhat = a^T zhat + adot^T zbar (each summed to the operand's shape).
 *
 * @example
 * getWorkingTape().addBlock(new MatmulBlock([a.blockVariable, b.blockVariable], [output]));
 */
export class MatmulBlock extends Block {
  override get name(): string {
    return "matmul";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [matmulKernel(inputs[0] as NDArray, inputs[1] as NDArray)];
  }

  override evaluateTlm({ inputs, tlmInputs }: TlmContext): readonly unknown[] {
    const a = inputs[0] as NDArray;
    const b = inputs[1] as NDArray;
    const adot = tlmInputs[0] as NDArray | undefined;
    const bdot = tlmInputs[1] as NDArray | undefined;
    return [
      plus(
        adot === undefined ? undefined : matmulKernel(adot, b),
        bdot === undefined ? undefined : matmulKernel(a, bdot),
      ),
    ];
  }

  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    const zbar = adjInputs[0] as NDArray | undefined;
    if (zbar === undefined) return [undefined, undefined];
    const a = inputs[0] as NDArray;
    const b = inputs[1] as NDArray;
    return [
      needed[0] ? matmulAdjointLeft(zbar, a, b) : undefined,
      needed[1] ? matmulAdjointRight(zbar, a, b) : undefined,
    ];
  }

  override evaluateHessian({
    inputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext): readonly unknown[] {
    const a = inputs[0] as NDArray;
    const b = inputs[1] as NDArray;
    const zbar = adjInputs[0] as NDArray | undefined;
    const zhat = hessianInputs[0] as NDArray | undefined;
    const adot = tlmInputs[0] as NDArray | undefined;
    const bdot = tlmInputs[1] as NDArray | undefined;
    // ahat = zhat b^T + zbar bdot^T; bhat = a^T zhat + adot^T zbar
    const ahat = needed[0]
      ? plus(
          zhat === undefined ? undefined : matmulAdjointLeft(zhat, a, b),
          zbar === undefined || bdot === undefined ? undefined : matmulAdjointLeft(zbar, a, bdot),
        )
      : undefined;
    const bhat = needed[1]
      ? plus(
          zhat === undefined ? undefined : matmulAdjointRight(zhat, a, b),
          zbar === undefined || adot === undefined ? undefined : matmulAdjointRight(zbar, adot, b),
        )
      : undefined;
    return [ahat, bhat];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Contractions: einsum, dot, inner, tensordot, outer, vdot
// ---------------------------------------------------------------------------------------------------------------

/**
 * The Einstein-summation form of a contraction: one subscript string per operand (letters only; a letter
 * repeated within a term selects a diagonal) and the output's subscripts (letters only, no repeats).
 * Size-1 axes broadcast as in `einsum`.
 */
export interface ContractionSpec {
  /** Subscripts of each operand (one letter per axis of the operand as the contraction sees it). */
  readonly terms: readonly string[];
  /** Subscripts of the output. */
  readonly output: string;
}

/** Which kernel computes a contraction's value (its derivatives always use `einsum` on the spec). */
export type ContractionKind = "einsum" | "dot" | "inner" | "tensordot" | "outer" | "vdot";

/** Explicit tensordot axes, already normalized: contracted axes of `a` paired in order with those of `b`. */
export type ContractedAxes = readonly [readonly number[], readonly number[]];

/** How the adjoint of one operand is computed: an einsum of the seed with the other operands, then fitted. */
interface AdjointPlan {
  /** The operand's subscripts (with repeats). */
  readonly labels: string;
  /** Its distinct subscripts in order of first appearance. */
  readonly own: string;
  /** The distinct subscripts that appear in the output or another operand (the einsum computes these). */
  readonly target: string;
  /** `output,other1,other2,...->target`. */
  readonly subscripts: string;
  /** True when the seed already is the einsum's result (a single operand whose output equals `target`). */
  readonly direct: boolean;
}

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * The spec of `tensordot(a, b, [axesA, axesB])`: `a`'s axes get the first letters, `b`'s free axes new ones;
 * the output is `a`'s free axes then `b`'s.
 *
 * @example
 * tensordotSpec(2, 2, [[1], [0]], "np.dot"); // { terms: ["ab", "bc"], output: "ac" }
 */
export function tensordotSpec(
  aNdim: number,
  bNdim: number,
  axes: ContractedAxes,
  operation: string,
): ContractionSpec {
  if (aNdim + bNdim > LETTERS.length) {
    throw new InvalidArgumentError(
      operation,
      `operands with ${aNdim} + ${bNdim} axes are more than the ${LETTERS.length} subscripts a contraction can name`,
    );
  }
  const [axesA, axesB] = axes;
  const aTerm = LETTERS.slice(0, aNdim);
  let next = aNdim;
  let bTerm = "";
  for (let d = 0; d < bNdim; d++) {
    const paired = axesB.indexOf(d);
    bTerm += paired >= 0 ? aTerm[axesA[paired]] : LETTERS[next++];
  }
  let output = "";
  for (let d = 0; d < aNdim; d++) if (!axesA.includes(d)) output += aTerm[d];
  for (let d = 0; d < bNdim; d++) if (!axesB.includes(d)) output += bTerm[d];
  return { terms: [aTerm, bTerm], output };
}

function parseTerm(term: string, operation: string): { labels: string; ellipsisAt: number } {
  let labels = "";
  let ellipsisAt = -1;
  for (let i = 0; i < term.length; i++) {
    const ch = term[i];
    if (ch === ".") {
      if (term.slice(i, i + 3) !== "..." || ellipsisAt >= 0) {
        throw new InvalidArgumentError(
          operation,
          `invalid ellipsis in '${term}': use '...' at most once per term`,
        );
      }
      ellipsisAt = labels.length;
      i += 2;
    } else if (LETTERS.includes(ch)) {
      labels += ch;
    } else {
      throw new InvalidArgumentError(
        operation,
        `invalid subscript character '${ch}' in '${term}': subscripts are letters a-z, A-Z and '...'`,
      );
    }
  }
  return { labels, ellipsisAt };
}

/**
 * Parses einsum subscripts for operands of the given shapes into an explicit spec with `...` resolved to
 * letters the subscripts do not use (same semantics as the einsum kernel: implicit output = the `...` axes,
 * then the letters used once, sorted by character code). Checks sizes: a letter's sizes must agree (or be 1),
 * also within one operand.
 *
 * @example
 * einsumSpec("...ij,jk", [[5, 2, 3], [3, 4]]); // { terms: ["Aij", "jk"], output: "Aik" }
 */
export function einsumSpec(
  subscripts: string,
  shapes: readonly (readonly number[])[],
  operation = "np.einsum",
): ContractionSpec {
  const text = subscripts.replace(/\s+/g, "");
  const arrow = text.indexOf("->");
  if (arrow >= 0 && text.indexOf("->", arrow + 1) >= 0) {
    throw new InvalidArgumentError(operation, `more than one '->' in '${subscripts}'`);
  }
  const left = arrow >= 0 ? text.slice(0, arrow) : text;
  const rawTerms = left.split(",");
  if (rawTerms.length !== shapes.length) {
    throw new InvalidArgumentError(
      operation,
      `'${subscripts}' has ${rawTerms.length} operand terms but ${shapes.length} operands were given`,
    );
  }
  const parsed = rawTerms.map((term) => parseTerm(term, operation));
  let ellipsisDims = 0;
  const extras = parsed.map((term, i) => {
    const extra = shapes[i].length - term.labels.length;
    if (extra < 0 || (term.ellipsisAt < 0 && extra !== 0)) {
      throw new ShapeMismatchError(
        operation,
        [shapes[i]],
        `operand ${i} has ${shapes[i].length} axes but its subscripts '${rawTerms[i]}' name ${term.labels.length}`,
      );
    }
    if (term.ellipsisAt >= 0) ellipsisDims = Math.max(ellipsisDims, extra);
    return term.ellipsisAt >= 0 ? extra : 0;
  });
  const free = Array.from(LETTERS).filter((letter) => !text.includes(letter));
  if (ellipsisDims > free.length) {
    throw new InvalidArgumentError(
      operation,
      `'...' stands for more axes than there are unused subscript letters`,
    );
  }
  const ellipsis = free.slice(0, ellipsisDims).join("");
  const terms = parsed.map((term, i) => {
    if (term.ellipsisAt < 0) return term.labels;
    const mine = ellipsis.slice(ellipsisDims - extras[i]);
    return term.labels.slice(0, term.ellipsisAt) + mine + term.labels.slice(term.ellipsisAt);
  });
  let output: string;
  if (arrow >= 0) {
    const outTerm = parseTerm(text.slice(arrow + 2), operation);
    if (outTerm.ellipsisAt < 0 && ellipsisDims > 0) {
      throw new InvalidArgumentError(
        operation,
        `the inputs have ${ellipsisDims} axes under '...' but the output '${text.slice(arrow + 2)}' has no '...'`,
      );
    }
    output =
      outTerm.ellipsisAt < 0
        ? outTerm.labels
        : outTerm.labels.slice(0, outTerm.ellipsisAt) + ellipsis + outTerm.labels.slice(outTerm.ellipsisAt);
    for (let d = 0; d < output.length; d++) {
      const label = output[d];
      if (output.indexOf(label) !== d) {
        throw new InvalidArgumentError(operation, `output subscript '${label}' appears more than once`);
      }
      if (!terms.some((term) => term.includes(label))) {
        throw new InvalidArgumentError(
          operation,
          `output subscript '${label}' does not appear in the inputs`,
        );
      }
    }
  } else {
    const all = terms.join("");
    const once = Array.from(new Set(all))
      .filter((label) => !ellipsis.includes(label) && all.indexOf(label) === all.lastIndexOf(label))
      .sort((x, y) => x.charCodeAt(0) - y.charCodeAt(0));
    output = ellipsis + once.join("");
  }
  // sizes: equal within an operand; equal or 1 across operands
  const sizes = new Map<string, number>();
  for (let i = 0; i < terms.length; i++) {
    const term = terms[i];
    const shape = shapes[i];
    for (let d = 0; d < term.length; d++) {
      const label = term[d];
      const n = shape[d];
      const first = term.indexOf(label);
      if (first !== d && shape[first] !== n) {
        throw new ShapeMismatchError(
          operation,
          [shape],
          `subscript '${label}' is repeated in operand ${i} over axes of unequal sizes ${shape[first]} and ${n}`,
        );
      }
      const current = sizes.get(label);
      if (current === undefined || current === 1) sizes.set(label, n);
      else if (n !== 1 && n !== current) {
        throw new ShapeMismatchError(
          operation,
          shapes,
          `subscript '${label}' has size ${current} in one operand and ${n} in operand ${i}; make them equal (or 1)`,
        );
      }
    }
  }
  return { terms, output };
}

/**
 * A multilinear contraction z = C(x_1, ..., x_p) written as an einsum (einsum, dot, inner, tensordot, outer,
 * vdot). The value comes from the dedicated kernel; the derivatives from `einsum` on the spec.
 * TLM: zdot = sum_i C(x_1, .., xdot_i, .., x_p). Adjoint: xbar_i = einsum(zbar, x_j (j != i) -> x_i's subscripts),
 * summed over size-1 axes of x_i, broadcast over x_i's private summed axes and placed on its diagonals.
 * Hessian: xhat_i = xbar_i(zhat; x) + sum_{j != i} xbar_i(zbar; x with x_j replaced by xdot_j).
 * Operands may be numbers (an AdjFloat's raw value: a 0-d operand); `outer` and `vdot` flatten their operands.
 *
 * @example
 * getWorkingTape().addBlock(new ContractionBlock("einsum", spec, "ij,jk->ik", undefined, deps, [output]));
 */
export class ContractionBlock extends Block {
  private plans: (AdjointPlan | undefined)[] | undefined = undefined;
  private cachedSubscripts: string | undefined = undefined;

  constructor(
    /** The kernel that computes the value. */
    readonly kind: ContractionKind,
    /** The contraction as an einsum over the (flattened, for outer/vdot) operands. */
    readonly spec: ContractionSpec,
    /** For `einsum`: the subscripts as the user wrote them (the kernel computes the value from these). */
    readonly subscripts: string | undefined,
    /** For `tensordot`: the contracted axes. */
    readonly axes: ContractedAxes | undefined,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return this.kind;
  }

  /** `term1,term2,...->output`: the spec as explicit einsum subscripts. */
  get fullSubscripts(): string {
    this.cachedSubscripts ??= `${this.spec.terms.join(",")}->${this.spec.output}`;
    return this.cachedSubscripts;
  }

  /** A raw operand (or tangent) as the array the contraction reads. */
  private operand(raw: unknown): NDArray {
    const array = asArray(raw);
    if ((this.kind === "outer" || this.kind === "vdot") && array.ndim !== 1) {
      return new NDArray(array.data, [array.size]);
    }
    return array;
  }

  /** The value from the dedicated kernel. */
  private contract(operands: readonly NDArray[]): NDArray | number {
    switch (this.kind) {
      case "einsum":
        return einsumKernel(this.subscripts ?? this.fullSubscripts, ...operands);
      case "dot":
        return dotKernel(operands[0], operands[1]);
      case "inner":
        return innerKernel(operands[0], operands[1]);
      case "tensordot":
        return tensordotKernel(operands[0], operands[1], this.axes ?? 0);
      case "outer":
        return outerKernel(operands[0], operands[1]);
      case "vdot":
        return vdotKernel(operands[0], operands[1]);
    }
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [this.contract(inputs.map((raw) => this.operand(raw)))];
  }

  override evaluateTlm({ inputs, tlmInputs }: TlmContext): readonly unknown[] {
    // zdot = sum_i C(x_1, .., xdot_i, .., x_p)
    let total: NDArray | undefined;
    const operands = inputs.map((raw) => this.operand(raw));
    for (let i = 0; i < operands.length; i++) {
      const tangent = tlmInputs[i];
      if (tangent === undefined) continue;
      const replaced = operands.slice();
      replaced[i] = this.operand(tangent);
      total = plus(total, einsumKernel(this.fullSubscripts, ...replaced));
    }
    if (total === undefined) return [undefined];
    return [this.kind === "vdot" ? total.data[0] : total];
  }

  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    const seed = adjInputs[0];
    if (seed === undefined) return inputs.map(() => undefined);
    const zbar = asArray(seed);
    const operands = inputs.map((raw) => this.operand(raw));
    return inputs.map((raw, i) => (needed[i] ? restore(this.adjointOf(i, zbar, operands), raw) : undefined));
  }

  override evaluateHessian({
    inputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext): readonly unknown[] {
    const zbar = adjInputs[0] === undefined ? undefined : asArray(adjInputs[0]);
    const zhat = hessianInputs[0] === undefined ? undefined : asArray(hessianInputs[0]);
    const operands = inputs.map((raw) => this.operand(raw));
    const tangents = tlmInputs.map((tangent) => (tangent === undefined ? undefined : this.operand(tangent)));
    return inputs.map((raw, i) => {
      if (!needed[i]) return undefined;
      // xhat_i = xbar_i(zhat; x) + sum_{j != i} xbar_i(zbar; x with x_j -> xdot_j)
      let total = zhat === undefined ? undefined : this.adjointOf(i, zhat, operands);
      if (zbar !== undefined) {
        for (let j = 0; j < operands.length; j++) {
          const tangent = tangents[j];
          if (j === i || tangent === undefined) continue;
          const replaced = operands.slice();
          replaced[j] = tangent;
          total = plus(total, this.adjointOf(i, zbar, replaced));
        }
      }
      return total === undefined ? undefined : restore(total, raw);
    });
  }

  private planFor(i: number): AdjointPlan {
    this.plans ??= new Array<AdjointPlan | undefined>(this.spec.terms.length).fill(undefined);
    let plan = this.plans[i];
    if (plan === undefined) {
      const terms = this.spec.terms;
      const labels = terms[i];
      let own = "";
      for (const label of labels) if (!own.includes(label)) own += label;
      const others = terms.filter((_, j) => j !== i);
      const available = this.spec.output + others.join("");
      let target = "";
      for (const label of own) if (available.includes(label)) target += label;
      plan = {
        labels,
        own,
        target,
        subscripts: `${[this.spec.output, ...others].join(",")}->${target}`,
        direct: others.length === 0 && this.spec.output === target,
      };
      this.plans[i] = plan;
    }
    return plan;
  }

  /** J_i^T seed with the operands `operands`: an array of operand i's (contraction) shape. */
  private adjointOf(i: number, seed: NDArray, operands: readonly NDArray[]): NDArray {
    const plan = this.planFor(i);
    const others = operands.filter((_, j) => j !== i);
    const result = plan.direct ? seed : einsumKernel(plan.subscripts, seed, ...others);
    return fitToOperand(result, plan, operands[i].shape);
  }
}

/**
 * Turns the einsum result over `plan.target` into an array of the operand's shape: sums axes where the operand
 * has size 1 (it was broadcast), broadcasts over its private summed subscripts, and writes repeated subscripts
 * onto the diagonal.
 */
function fitToOperand(result: NDArray, plan: AdjointPlan, shape: readonly number[]): NDArray {
  const { labels, own, target } = plan;
  const localSize = (label: string): number => shape[labels.indexOf(label)];
  let fitted = result;
  // the operand's size-1 axes were broadcast: sum over them
  let needSum = false;
  const summedShape = new Array<number>(target.length);
  for (let d = 0; d < target.length; d++) {
    const size = localSize(target[d]) === 1 ? 1 : fitted.shape[d];
    if (size !== fitted.shape[d]) needSum = true;
    summedShape[d] = size;
  }
  if (needSum) fitted = sumToShape(fitted, summedShape);
  // private summed subscripts (and operand-only sizes): broadcast
  const ownShape = Array.from(own, localSize);
  if (own.length !== target.length || !shapesEqual(fitted.shape, ownShape)) {
    const inserted = Array.from(own, (label) => {
      const d = target.indexOf(label);
      return d < 0 ? 1 : fitted.shape[d];
    });
    fitted = broadcastTo(new NDArray(fitted.data, inserted), ownShape);
  }
  if (own.length === labels.length) return view(fitted, shape);
  // repeated subscripts: place the values on the diagonal
  const strides = contiguousStrides(shape);
  const outStrides = Array.from(own, (label) => {
    let stride = 0;
    for (let d = 0; d < labels.length; d++) if (labels[d] === label) stride += strides[d];
    return stride;
  });
  const out = new Float64Array(shapeSize(shape));
  const source = fitted.data;
  let position = 0;
  forEachRun(fitted.shape, [outStrides], null, (offsets, length, steps) => {
    let offset = offsets[0];
    const step = steps[0];
    for (let t = 0; t < length; t++, offset += step) out[offset] = source[position++];
  });
  return new NDArray(out, shape);
}

// ---------------------------------------------------------------------------------------------------------------
// trace
// ---------------------------------------------------------------------------------------------------------------

/**
 * z = trace(a, offset, axis1, axis2): the sum along a diagonal. Linear:
 * TLM: zdot = trace(adot). Adjoint: abar = zbar placed on the diagonal. Hessian: ahat = zhat on the diagonal.
 *
 * @example
 * getWorkingTape().addBlock(new TraceBlock(0, 0, 1, [a.blockVariable], [output]));
 */
export class TraceBlock extends Block {
  constructor(
    readonly offset: number,
    /** First axis of the 2-D sub-arrays (normalized, non-negative). */
    readonly axis1: number,
    /** Second axis of the 2-D sub-arrays (normalized, non-negative). */
    readonly axis2: number,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return "trace";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [traceKernel(inputs[0] as NDArray, this.offset, this.axis1, this.axis2)];
  }

  override evaluateTlm({ tlmInputs }: TlmContext): readonly unknown[] {
    const adot = tlmInputs[0] as NDArray | undefined;
    return [adot === undefined ? undefined : traceKernel(adot, this.offset, this.axis1, this.axis2)];
  }

  override evaluateAdj({ inputs, adjInputs }: AdjContext): readonly unknown[] {
    const zbar = adjInputs[0] as NDArray | undefined;
    return [zbar === undefined ? undefined : this.adjoint(zbar, inputs[0] as NDArray)];
  }

  override evaluateHessian({ inputs, hessianInputs }: HessianContext): readonly unknown[] {
    // linear: ahat = J^T zhat
    const zhat = hessianInputs[0] as NDArray | undefined;
    return [zhat === undefined ? undefined : this.adjoint(zhat, inputs[0] as NDArray)];
  }

  /** abar[..., i, i + offset, ...] = zbar[...] */
  private adjoint(seed: NDArray, a: NDArray): NDArray {
    const values = new NDArray(seed.data, [...seed.shape, 1]);
    return scatterDiagonal(a.shape, this.offset, this.axis1, this.axis2, values);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Batched square-matrix helpers (inv, det, slogdet, cholesky)
// ---------------------------------------------------------------------------------------------------------------

function identity(n: number): NDArray {
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return new NDArray(data, [n, n]);
}

/**
 * The inverse of every matrix in the last two axes, or an InvalidArgumentError naming `operation` when one is
 * singular (`purpose` says why the inverse was needed).
 *
 * @example
 * inverseOrThrow(a, "np.linalg.det", "the derivative of det needs A^-1");
 */
export function inverseOrThrow(a: NDArray, operation: string, purpose: string): NDArray {
  const factor = luFactor(a);
  for (let batch = 0; batch < factor.singular.length; batch++) {
    if (factor.singular[batch]) {
      throw new InvalidArgumentError(
        operation,
        `the matrix of shape [${a.shape.slice(-2).join(", ")}]${batchLabel(factor.batchShape, batch)} is singular: ${purpose}`,
      );
    }
  }
  return luSolve(factor, identity(factor.n));
}

/** Multiplies the b-th matrix of a batch by factors[b]. */
function scaleMatrices(x: NDArray, factors: Float64Array): NDArray {
  const block = x.size / Math.max(factors.length, 1);
  const out = new Float64Array(x.size);
  const data = x.data;
  for (let b = 0; b < factors.length; b++) {
    const factor = factors[b];
    const base = b * block;
    for (let k = 0; k < block; k++) out[base + k] = data[base + k] * factor;
  }
  return new NDArray(out, x.shape);
}

/** tr(X Y) for every pair of n x n matrices of two batches: sum_ij X_ij Y_ji. */
function traceOfProducts(x: NDArray, y: NDArray): Float64Array {
  const n = x.shape[x.ndim - 1];
  const block = n * n;
  const count = block === 0 ? 0 : x.size / block;
  const out = new Float64Array(count);
  const xs = x.data;
  const ys = y.data;
  for (let b = 0; b < count; b++) {
    const base = b * block;
    let total = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) total += xs[base + i * n + j] * ys[base + j * n + i];
    out[b] = total;
  }
  return out;
}

/** (X + X^T) / 2 for every matrix of a batch. */
function symmetrize(x: NDArray): NDArray {
  const n = x.shape[x.ndim - 1];
  const block = n * n;
  const out = new Float64Array(x.size);
  const data = x.data;
  for (let base = 0; base < out.length; base += block) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++)
        out[base + i * n + j] = 0.5 * (data[base + i * n + j] + data[base + j * n + i]);
    }
  }
  return new NDArray(out, x.shape);
}

/** Phi(X): the lower triangle of every matrix with its diagonal halved. Self-adjoint. */
function phi(x: NDArray): NDArray {
  const n = x.shape[x.ndim - 1];
  const block = n * n;
  const out = new Float64Array(x.size);
  const data = x.data;
  for (let base = 0; base < out.length; base += block) {
    for (let i = 0; i < n; i++) {
      const row = base + i * n;
      for (let j = 0; j < i; j++) out[row + j] = data[row + j];
      out[row + i] = 0.5 * data[row + i];
    }
  }
  return new NDArray(out, x.shape);
}

// ---------------------------------------------------------------------------------------------------------------
// inv
// ---------------------------------------------------------------------------------------------------------------

/**
 * Y = A^-1 for every matrix in the last two axes.
 * TLM: Ydot = -Y Adot Y. Adjoint: Abar = -Y^T Ybar Y^T.
 * Hessian: Ahat = -Y^T Yhat Y^T - (Ydot^T Ybar Y^T + Y^T Ybar Ydot^T), with Ydot = -Y Adot Y.
 *
 * @example
 * getWorkingTape().addBlock(new InvBlock([a.blockVariable], [output]));
 */
export class InvBlock extends Block {
  override get name(): string {
    return "inv";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [inverseOrThrow(inputs[0] as NDArray, "np.linalg.inv", "it has no inverse")];
  }

  override evaluateTlm({ outputs, tlmInputs }: TlmContext): readonly unknown[] {
    const adot = tlmInputs[0] as NDArray | undefined;
    if (adot === undefined) return [undefined];
    const y = outputs[0] as NDArray;
    return [negated(matmulKernel(matmulKernel(y, adot), y))];
  }

  override evaluateAdj({ outputs, adjInputs }: AdjContext): readonly unknown[] {
    const ybar = adjInputs[0] as NDArray | undefined;
    if (ybar === undefined) return [undefined];
    const yT = matrixTranspose(outputs[0] as NDArray);
    return [negated(matmulKernel(matmulKernel(yT, ybar), yT))];
  }

  override evaluateHessian({
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly unknown[] {
    const y = outputs[0] as NDArray;
    const yT = matrixTranspose(y);
    const ybar = adjInputs[0] as NDArray | undefined;
    const yhat = hessianInputs[0] as NDArray | undefined;
    const adot = tlmInputs[0] as NDArray | undefined;
    // Ahat = -(Y^T Yhat Y^T) - (Ydot^T Ybar Y^T + Y^T Ybar Ydot^T)
    let total = yhat === undefined ? undefined : matmulKernel(matmulKernel(yT, yhat), yT);
    if (ybar !== undefined && adot !== undefined) {
      const ydotT = matrixTranspose(negated(matmulKernel(matmulKernel(y, adot), y)));
      total = plus(total, matmulKernel(matmulKernel(ydotT, ybar), yT));
      total = plus(total, matmulKernel(matmulKernel(yT, ybar), ydotT));
    }
    return [total === undefined ? undefined : negated(total)];
  }
}

function negated(x: NDArray): NDArray {
  const out = new Float64Array(x.size);
  const data = x.data;
  for (let i = 0; i < out.length; i++) out[i] = -data[i];
  return new NDArray(out, x.shape);
}

// ---------------------------------------------------------------------------------------------------------------
// det and slogdet
// ---------------------------------------------------------------------------------------------------------------

/** Entry-by-entry product of two per-matrix factor arrays. */
function times(x: Float64Array, y: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = x[i] * y[i];
  return out;
}

/** (A^-1 Adot A^-1)^T for every matrix. */
function inverseDerivativeTransposed(inverse: NDArray, adot: NDArray): NDArray {
  return matrixTranspose(matmulKernel(matmulKernel(inverse, adot), inverse));
}

/**
 * d = det(A) for every matrix in the last two axes (output: the batch shape).
 * TLM: ddot = d tr(A^-1 Adot). Adjoint: Abar = dbar d A^-T.
 * Hessian: Ahat = dhat d A^-T + dbar (ddot A^-T - d (A^-1 Adot A^-1)^T).
 * The derivatives need A^-1: at a singular matrix they throw an InvalidArgumentError.
 *
 * @example
 * getWorkingTape().addBlock(new DetBlock([a.blockVariable], [output]));
 */
export class DetBlock extends Block {
  override get name(): string {
    return "det";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [detKernel(inputs[0] as NDArray)];
  }

  private inverse(a: NDArray): NDArray {
    return inverseOrThrow(a, "np.linalg.det", "the derivative of det is computed with A^-1");
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
    const adot = tlmInputs[0] as NDArray | undefined;
    if (adot === undefined) return [undefined];
    const d = outputs[0] as NDArray;
    const traces = traceOfProducts(this.inverse(inputs[0] as NDArray), adot);
    return [new NDArray(times(d.data, traces), d.shape)];
  }

  override evaluateAdj({ inputs, outputs, adjInputs }: AdjContext): readonly unknown[] {
    const dbar = adjInputs[0] as NDArray | undefined;
    if (dbar === undefined) return [undefined];
    const d = outputs[0] as NDArray;
    const inverseT = matrixTranspose(this.inverse(inputs[0] as NDArray));
    return [scaleMatrices(inverseT, times(dbar.data, d.data))];
  }

  override evaluateHessian({
    inputs,
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly unknown[] {
    const dbar = adjInputs[0] as NDArray | undefined;
    const dhat = hessianInputs[0] as NDArray | undefined;
    const adot = tlmInputs[0] as NDArray | undefined;
    if (dhat === undefined && (dbar === undefined || adot === undefined)) return [undefined];
    const d = (outputs[0] as NDArray).data;
    const inverse = this.inverse(inputs[0] as NDArray);
    const inverseT = matrixTranspose(inverse);
    // coefficient of A^-T: dhat d + dbar ddot, with ddot = d tr(A^-1 Adot)
    const coefficient = new Float64Array(d.length);
    if (dhat !== undefined) for (let b = 0; b < d.length; b++) coefficient[b] = dhat.data[b] * d[b];
    if (dbar === undefined || adot === undefined) return [scaleMatrices(inverseT, coefficient)];
    const traces = traceOfProducts(inverse, adot);
    const curvature = new Float64Array(d.length);
    for (let b = 0; b < d.length; b++) {
      coefficient[b] += dbar.data[b] * d[b] * traces[b];
      curvature[b] = -dbar.data[b] * d[b];
    }
    // ... - dbar d (A^-1 Adot A^-1)^T
    return [
      add(
        scaleMatrices(inverseT, coefficient),
        scaleMatrices(inverseDerivativeTransposed(inverse, adot), curvature),
      ),
    ];
  }
}

/**
 * (sign, l) = slogdet(A) with l = log|det A| for every matrix in the last two axes; outputs [sign, logabsdet].
 * The sign is piecewise constant (zero derivative). For l:
 * TLM: ldot = tr(A^-1 Adot). Adjoint: Abar = lbar A^-T. Hessian: Ahat = lhat A^-T - lbar (A^-1 Adot A^-1)^T.
 *
 * @example
 * getWorkingTape().addBlock(new SlogdetBlock([a.blockVariable], [signOutput, logOutput]));
 */
export class SlogdetBlock extends Block {
  override get name(): string {
    return "slogdet";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    const { sign, logAbsDet } = slogdetKernel(inputs[0] as NDArray);
    return [sign, logAbsDet];
  }

  private inverse(a: NDArray): NDArray {
    return inverseOrThrow(a, "np.linalg.slogdet", "the derivative of log|det| is computed with A^-1");
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
    const adot = tlmInputs[0] as NDArray | undefined;
    if (adot === undefined) return [undefined, undefined];
    const shape = (outputs[1] as NDArray).shape;
    return [undefined, new NDArray(traceOfProducts(this.inverse(inputs[0] as NDArray), adot), shape)];
  }

  override evaluateAdj({ inputs, adjInputs }: AdjContext): readonly unknown[] {
    const lbar = adjInputs[1] as NDArray | undefined;
    if (lbar === undefined) return [undefined];
    return [scaleMatrices(matrixTranspose(this.inverse(inputs[0] as NDArray)), lbar.data)];
  }

  override evaluateHessian({
    inputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly unknown[] {
    const lbar = adjInputs[1] as NDArray | undefined;
    const lhat = hessianInputs[1] as NDArray | undefined;
    const adot = tlmInputs[0] as NDArray | undefined;
    if (lhat === undefined && (lbar === undefined || adot === undefined)) return [undefined];
    const inverse = this.inverse(inputs[0] as NDArray);
    let total = lhat === undefined ? undefined : scaleMatrices(matrixTranspose(inverse), lhat.data);
    if (lbar !== undefined && adot !== undefined) {
      const factors = new Float64Array(lbar.size);
      for (let b = 0; b < factors.length; b++) factors[b] = -lbar.data[b];
      // - lbar (A^-1 Adot A^-1)^T
      total = plus(total, scaleMatrices(inverseDerivativeTransposed(inverse, adot), factors));
    }
    return [total];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// cholesky
// ---------------------------------------------------------------------------------------------------------------

/** L^-1 for lower-triangular L (batched). */
function lowerInverse(lower: NDArray): NDArray {
  const n = lower.shape[lower.ndim - 1];
  return solveTriangularKernel(lower, identity(n), { lower: true });
}

/** Ldot = L Phi(M sym(Adot) M^T) with M = L^-1. */
function choleskyTangent(lower: NDArray, lowerInv: NDArray, adot: NDArray): NDArray {
  const projected = matmulKernel(matmulKernel(lowerInv, symmetrize(adot)), matrixTranspose(lowerInv));
  return matmulKernel(lower, phi(projected));
}

/** P = M^T Phi(L^T Lbar) M (the adjoint before symmetrization), M = L^-1. */
function choleskyAdjointCore(lower: NDArray, lowerInv: NDArray, lbar: NDArray): NDArray {
  const middle = phi(matmulKernel(matrixTranspose(lower), lbar));
  return matmulKernel(matmulKernel(matrixTranspose(lowerInv), middle), lowerInv);
}

/**
 * L = cholesky(A), lower triangular with L L^T = A, for every matrix in the last two axes. The input is treated
 * as symmetric: the derivatives are those of A -> cholesky((A + A^T) / 2), i.e. with respect to symmetric
 * perturbations (the kernel itself reads only the lower triangle of A). With M = L^-1 and
 * Phi(X) = lower triangle of X with its diagonal halved:
 * TLM: Ldot = L Phi(M sym(Adot) M^T). Adjoint: Abar = sym(M^T Phi(L^T Lbar) M).
 * Hessian: Ahat = sym(M^T Phi(L^T Lhat) M) + sym(Pdot), where P = M^T Q M, Q = Phi(L^T Lbar),
 * Pdot = Mdot^T Q M + M^T Phi(Ldot^T Lbar) M + M^T Q Mdot, Mdot = -M Ldot M (the TLM of each step of the adjoint).
 *
 * @example
 * getWorkingTape().addBlock(new CholeskyBlock([a.blockVariable], [output]));
 */
export class CholeskyBlock extends Block {
  override get name(): string {
    return "cholesky";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [withOperation("np.linalg.cholesky", () => choleskyKernel(inputs[0] as NDArray))];
  }

  override evaluateTlm({ outputs, tlmInputs }: TlmContext): readonly unknown[] {
    const adot = tlmInputs[0] as NDArray | undefined;
    if (adot === undefined) return [undefined];
    const lower = outputs[0] as NDArray;
    return [choleskyTangent(lower, lowerInverse(lower), adot)];
  }

  override evaluateAdj({ outputs, adjInputs }: AdjContext): readonly unknown[] {
    const lbar = adjInputs[0] as NDArray | undefined;
    if (lbar === undefined) return [undefined];
    const lower = outputs[0] as NDArray;
    return [symmetrize(choleskyAdjointCore(lower, lowerInverse(lower), lbar))];
  }

  override evaluateHessian({
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly unknown[] {
    const lbar = adjInputs[0] as NDArray | undefined;
    const lhat = hessianInputs[0] as NDArray | undefined;
    const adot = tlmInputs[0] as NDArray | undefined;
    if (lhat === undefined && (lbar === undefined || adot === undefined)) return [undefined];
    const lower = outputs[0] as NDArray;
    const lowerInv = lowerInverse(lower);
    let total = lhat === undefined ? undefined : choleskyAdjointCore(lower, lowerInv, lhat);
    if (lbar !== undefined && adot !== undefined) {
      const ldot = choleskyTangent(lower, lowerInv, adot);
      const lowerInvT = matrixTranspose(lowerInv);
      // Mdot = -M Ldot M
      const mdot = negated(matmulKernel(matmulKernel(lowerInv, ldot), lowerInv));
      const q = phi(matmulKernel(matrixTranspose(lower), lbar));
      const qdot = phi(matmulKernel(matrixTranspose(ldot), lbar));
      // Pdot = Mdot^T Q M + M^T Qdot M + M^T Q Mdot
      let pdot = matmulKernel(matmulKernel(matrixTranspose(mdot), q), lowerInv);
      pdot = add(pdot, matmulKernel(matmulKernel(lowerInvT, qdot), lowerInv));
      pdot = add(pdot, matmulKernel(matmulKernel(lowerInvT, q), mdot));
      total = plus(total, pdot);
    }
    return [total === undefined ? undefined : symmetrize(total)];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// solve_triangular
// ---------------------------------------------------------------------------------------------------------------

/** Options of a triangular solve, as the block keeps them. */
export interface TriangularOptions {
  /** Use the lower triangle of `a` (otherwise the upper). */
  readonly lower: boolean;
  /** Solve a^T x = b. */
  readonly transpose: boolean;
  /** Take the diagonal of `a` as ones (it is not read). */
  readonly unitDiagonal: boolean;
}

/**
 * x = T^-1 b where T = op(tri(A)) is the triangle of A that is read (transposed when asked; the diagonal
 * excluded for a unit diagonal). Batched with broadcasting as `solve`; a 1-D b is one vector.
 * TLM: xdot = T^-1 (bdot - Tdot x). Adjoint: bbar = T^-T xbar, Abar = tri(op^T(-bbar x^T)).
 * Hessian: bhat = T^-T (xhat - Tdot^T bbar), Ahat = tri(op^T(-(bhat x^T + bbar xdot^T))).
 * (Products with x, bbar, ... are over the right-hand-side columns; batch axes broadcast and are summed back.)
 *
 * @example
 * getWorkingTape().addBlock(new SolveTriangularBlock(options, [a.blockVariable, b.blockVariable], [output]));
 */
export class SolveTriangularBlock extends Block {
  constructor(
    readonly options: TriangularOptions,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return "solve_triangular";
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [
      withOperation("scipy.linalg.solve_triangular", () =>
        solveTriangularKernel(inputs[0] as NDArray, inputs[1] as NDArray, {
          lower: this.options.lower,
          transpose: this.options.transpose,
          unitDiagonal: this.options.unitDiagonal,
        }),
      ),
    ];
  }

  /** T^-1 rhs (or T^-T rhs when `adjoint`) for a stack of columns rhs [..., n, k]. */
  private solveColumns(a: NDArray, rhs: NDArray, adjoint: boolean): NDArray {
    return withOperation("scipy.linalg.solve_triangular", () =>
      solveTriangularKernel(a, rhs, {
        lower: this.options.lower,
        transpose: this.options.transpose !== adjoint,
        unitDiagonal: this.options.unitDiagonal,
      }),
    );
  }

  /** The part of `a` that is read (the triangle, without the diagonal for a unit diagonal). */
  private triangle(a: NDArray): NDArray {
    const n = a.shape[a.ndim - 1];
    const block = n * n;
    const out = new Float64Array(a.size);
    const data = a.data;
    const lower = this.options.lower;
    const strict = this.options.unitDiagonal;
    for (let base = 0; base < out.length; base += block) {
      for (let i = 0; i < n; i++) {
        const from = lower ? 0 : strict ? i + 1 : i;
        const to = lower ? (strict ? i : i + 1) : n;
        for (let j = from; j < to; j++) out[base + i * n + j] = data[base + i * n + j];
      }
    }
    return new NDArray(out, a.shape);
  }

  /** The tangent of T: op(tri(Adot)). */
  private tangentOfT(adot: NDArray): NDArray {
    const part = this.triangle(adot);
    return this.options.transpose ? matrixTranspose(part) : part;
  }

  /** Abar from G = dJ/dT (batched like the output): tri(op^T(G)), summed to A's shape. */
  private matrixAdjoint(gradientOfT: NDArray, a: NDArray): NDArray {
    const g = this.options.transpose ? matrixTranspose(gradientOfT) : gradientOfT;
    return this.triangle(shapesEqual(g.shape, a.shape) ? g : sumToShape(g, a.shape));
  }

  /** xdot = T^-1 (bdot - Tdot x), in column form. */
  private tangentColumns(
    a: NDArray,
    columns: Columns,
    x: NDArray,
    adot: NDArray | undefined,
    bdot: NDArray | undefined,
  ): NDArray | undefined {
    let rhs = adot === undefined ? undefined : negated(matmulKernel(this.tangentOfT(adot), columns.of(x)));
    if (bdot !== undefined) rhs = rhs === undefined ? columns.of(bdot) : add(rhs, columns.of(bdot));
    return rhs === undefined ? undefined : this.solveColumns(a, rhs, false);
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
    const a = inputs[0] as NDArray;
    const columns = new Columns((inputs[1] as NDArray).ndim === 1);
    const xdot = this.tangentColumns(
      a,
      columns,
      outputs[0] as NDArray,
      tlmInputs[0] as NDArray | undefined,
      tlmInputs[1] as NDArray | undefined,
    );
    return [xdot === undefined ? undefined : columns.back(xdot)];
  }

  override evaluateAdj({ inputs, outputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    const xbar = adjInputs[0] as NDArray | undefined;
    if (xbar === undefined) return [undefined, undefined];
    const a = inputs[0] as NDArray;
    const b = inputs[1] as NDArray;
    const columns = new Columns(b.ndim === 1);
    // bbar = T^-T xbar; Abar = tri(op^T(-bbar x^T))
    const bbar = this.solveColumns(a, columns.of(xbar), true);
    const x = columns.of(outputs[0] as NDArray);
    return [
      needed[0] ? this.matrixAdjoint(negated(matmulKernel(bbar, matrixTranspose(x))), a) : undefined,
      needed[1] ? columns.reduced(bbar, b) : undefined,
    ];
  }

  override evaluateHessian({
    inputs,
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext): readonly unknown[] {
    const a = inputs[0] as NDArray;
    const b = inputs[1] as NDArray;
    const columns = new Columns(b.ndim === 1);
    const x = columns.of(outputs[0] as NDArray);
    const xbar = adjInputs[0] as NDArray | undefined;
    const xhat = hessianInputs[0] as NDArray | undefined;
    const adot = tlmInputs[0] as NDArray | undefined;
    const bdot = tlmInputs[1] as NDArray | undefined;
    // bhat = T^-T (xhat - Tdot^T bbar)
    const bbar = xbar === undefined ? undefined : this.solveColumns(a, columns.of(xbar), true);
    let rhs = xhat === undefined ? undefined : columns.of(xhat);
    if (bbar !== undefined && adot !== undefined) {
      const term = negated(matmulKernel(matrixTranspose(this.tangentOfT(adot)), bbar));
      rhs = rhs === undefined ? term : add(rhs, term);
    }
    const bhat = rhs === undefined ? undefined : this.solveColumns(a, rhs, true);
    let ahat: NDArray | undefined;
    if (needed[0]) {
      // Ahat = tri(op^T(-(bhat x^T + bbar xdot^T)))
      let gradient = bhat === undefined ? undefined : matmulKernel(bhat, matrixTranspose(x));
      const xdot =
        bbar === undefined ? undefined : this.tangentColumns(a, columns, outputs[0] as NDArray, adot, bdot);
      if (bbar !== undefined && xdot !== undefined) {
        gradient = plus(gradient, matmulKernel(bbar, matrixTranspose(xdot)));
      }
      ahat = gradient === undefined ? undefined : this.matrixAdjoint(negated(gradient), a);
    }
    return [ahat, needed[1] && bhat !== undefined ? columns.reduced(bhat, b) : undefined];
  }
}

/** Converts right-hand sides between their own shape and column form [..., n, k] (a 1-D b is one column). */
class Columns {
  constructor(readonly vector: boolean) {}

  /** `value` (shaped like b or x) as a stack of columns. */
  of(value: NDArray): NDArray {
    return this.vector ? view(value, [...value.shape, 1]) : value;
  }

  /** A column-form result back in the output's form. */
  back(value: NDArray): NDArray {
    return this.vector ? view(value, value.shape.slice(0, -1)) : value;
  }

  /** A column-form adjoint summed over broadcast batch axes to b's shape. */
  reduced(value: NDArray, b: NDArray): NDArray {
    const shaped = this.back(value);
    return shapesEqual(shaped.shape, b.shape) ? shaped : sumToShape(shaped, b.shape);
  }
}
