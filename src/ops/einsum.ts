/**
 * @file The einsum family of contractions (einsum, dot, inner, tensordot, outer, vdot) as one block: the contraction spec parsed once, and adjoints that are contractions again.
 */
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
import { asNDArray, contiguousStrides, NDArray, shapeSize, shapesEqual } from "../values/ndarray.js";
import { broadcastTo, sumToShape } from "./kernels/broadcast.js";
import {
  dot as dotKernel,
  einsum as einsumKernel,
  inner as innerKernel,
  outer as outerKernel,
  tensordot as tensordotKernel,
  vdot as vdotKernel,
} from "./kernels/linalg.js";
import { forEachRun } from "./kernels/strided.js";
import { plus, restore, view } from "./linalg-helpers.js";

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

/** The operands of a contraction as the tape holds them: arrays, or numbers (an AdjFloat's value, a 0-d operand). */
type Operands = readonly (number | NDArray)[];
/** A contraction's result: an array, or a number for `vdot` (an AdjFloat). */
type Contracted = readonly [number | NDArray];

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
  const { terms, ellipsis } = resolveTerms(subscripts, text, left.split(","), shapes, operation);
  const output =
    arrow >= 0
      ? explicitOutput(text.slice(arrow + 2), terms, ellipsis, operation)
      : implicitOutput(terms, ellipsis);
  checkSubscriptSizes(terms, shapes, operation);
  return { terms, output };
}

/**
 * The operand terms with `...` replaced by letters `text` does not use (the trailing ones for an operand with
 * fewer `...` axes), and those letters (`ellipsis`, as many as the most `...` axes of an operand).
 */
function resolveTerms(
  subscripts: string,
  text: string,
  rawTerms: readonly string[],
  shapes: readonly (readonly number[])[],
  operation: string,
): { terms: string[]; ellipsis: string } {
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
  return { terms, ellipsis };
}

/** The output subscripts written after `->` (`...` resolved), checked: no repeats, each in some operand. */
function explicitOutput(
  written: string,
  terms: readonly string[],
  ellipsis: string,
  operation: string,
): string {
  const outTerm = parseTerm(written, operation);
  if (outTerm.ellipsisAt < 0 && ellipsis.length > 0) {
    throw new InvalidArgumentError(
      operation,
      `the inputs have ${ellipsis.length} axes under '...' but the output '${written}' has no '...'`,
    );
  }
  const output =
    outTerm.ellipsisAt < 0
      ? outTerm.labels
      : outTerm.labels.slice(0, outTerm.ellipsisAt) + ellipsis + outTerm.labels.slice(outTerm.ellipsisAt);
  for (let d = 0; d < output.length; d++) {
    const label = output[d];
    if (output.indexOf(label) !== d) {
      throw new InvalidArgumentError(operation, `output subscript '${label}' appears more than once`);
    }
    if (!terms.some((term) => term.includes(label))) {
      throw new InvalidArgumentError(operation, `output subscript '${label}' does not appear in the inputs`);
    }
  }
  return output;
}

/** The implicit output: the `...` axes, then the letters used once, sorted by character code. */
function implicitOutput(terms: readonly string[], ellipsis: string): string {
  const all = terms.join("");
  const once = Array.from(new Set(all))
    .filter((label) => !ellipsis.includes(label) && all.indexOf(label) === all.lastIndexOf(label))
    .sort((x, y) => x.charCodeAt(0) - y.charCodeAt(0));
  return ellipsis + once.join("");
}

/** Checks a letter's sizes: equal within an operand; equal or 1 across operands. */
function checkSubscriptSizes(
  terms: readonly string[],
  shapes: readonly (readonly number[])[],
  operation: string,
): void {
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
 * recordBlock(new ContractionBlock("einsum", spec, "ij,jk->ik", undefined, deps, [output]));
 */
export class ContractionBlock extends Block<Operands, Contracted> {
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
  private operand(raw: number | NDArray): NDArray {
    const array = asNDArray(raw);
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

  recompute({ inputs }: RecomputeContext<Operands>): Contracted {
    return [this.contract(inputs.map((raw) => this.operand(raw)))];
  }

  override evaluateTlm({ inputs, tlmInputs }: TlmContext<Operands, Contracted>): Seeds<Contracted> {
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

  override evaluateAdj({
    inputs,
    adjInputs: [seed],
    needed,
  }: AdjContext<Operands, Contracted>): Seeds<Operands> {
    if (seed === undefined) return inputs.map(() => undefined);
    const zbar = asNDArray(seed);
    const operands = inputs.map((raw) => this.operand(raw));
    return inputs.map((raw, i) => (needed[i] ? restore(this.adjointOf(i, zbar, operands), raw) : undefined));
  }

  override evaluateHessian({
    inputs,
    adjInputs: [seed],
    hessianInputs: [second],
    tlmInputs,
    needed,
  }: HessianContext<Operands, Contracted>): Seeds<Operands> {
    const zbar = seed === undefined ? undefined : asNDArray(seed);
    const zhat = second === undefined ? undefined : asNDArray(second);
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
