/** @file Elementwise operation blocks: one block class for unary and one for binary rules, all four modes. */
import { InvalidArgumentError } from "../errors.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
  type Values,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import {
  type FusedSecondOrder,
  fusedSecondOrder,
  type ScalarSweeps,
  scalarSweeps,
} from "../tape/capabilities.js";
import { recordOne, recordScalarBinary, recordScalarUnary, recordTwo } from "../tape/record.js";
import {
  binarySecondScalar,
  binaryTlmScalar,
  registerScalarBlockBuilders,
  unarySecondScalar,
} from "../tape/scalar-segment.js";
import { AdjFloat, registerAdjFloatArithmetic } from "../values/adj-float.js";
import { emptyArray, NDArray, shapeSize, shapesEqual } from "../values/ndarray.js";
import { type TransientAdjoint, takeArray, takeZeros, transientAdjoint } from "../values/pool.js";
import {
  type AdjointTarget,
  adjointInto,
  binaryValuesGrid,
  binaryValuesInto,
  type Grid,
  gridOf,
  partialTimesInto,
  type SecondOrderLoop,
  secondOrderInto,
  tlmBothInto,
  unaryFirstInto,
  unaryValuesInto,
} from "./elementwise-loops.js";
import {
  addRule,
  type BinaryRule,
  binaryRules,
  multiplyRule,
  powerRule,
  subtractRule,
  type UnaryRule,
  unaryRules,
} from "./elementwise-rules.js";
import { broadcastShapesFor, broadcastTo, sumToShape } from "./kernels/broadcast.js";
import { broadcastStrides } from "./kernels/strided.js";

/** A raw elementwise operand: a number (AdjFloat's raw value or a constant) or an array. */
type Operand = number | NDArray;
/** The values of a block over one operand (its input, or its output). */
type OneOperand = readonly [Operand];
/** The values of a block over two operands. */
type TwoOperands = readonly [Operand, Operand];

/**
 * The built-in rules: their formulas run only on numbers and create no arrays, so their blocks' adjoints may
 * compute into pooled buffers (a user rule's formulas are user code, which could keep an array it made).
 */
const builtinRules: ReadonlySet<object> = new Set<object>([
  ...Object.values(unaryRules),
  ...Object.values(binaryRules),
]);

/** A scalar slot's current value plus a contribution, as the sweeps' accumulation adds numbers. */
function addScalar(current: number | undefined, value: number): number {
  return current === undefined ? value : current + value;
}

/** Whether a slot or a seed can take the scalar path (empty or a number). */
function scalarSlot(value: unknown): value is number | undefined {
  return value === undefined || typeof value === "number";
}

/**
 * An operand of an array path as an array. The tape gives an array block arrays (a number there is a
 * 0-d array's value), so this only converts what a scalar-only check let through.
 */
function asArray(value: Operand): NDArray {
  return typeof value === "number" ? new NDArray(Float64Array.of(value), []) : value;
}

/** A seed of an array path as an array (`undefined` for zero). */
function asArraySeed(value: Operand | undefined): NDArray | undefined {
  return value === undefined ? undefined : asArray(value);
}

/**
 * Base of the elementwise blocks with one recorded input and one output. The two variables live in fields
 * and the dependency / output lists are built on demand, so a block keeps no arrays (most of a scalar
 * tape's memory otherwise).
 *
 * @example
 * class Twice extends OneInputBlock<readonly [number], readonly [number]> {
 *   recompute({ inputs: [x] }: RecomputeContext<readonly [number]>) { return [2 * x] as const; }
 * }
 */
export abstract class OneInputBlock<I extends Values = Values, O extends Values = Values> extends Block<
  I,
  O
> {
  constructor(
    protected input: BlockVariable,
    protected readonly output: BlockVariable,
  ) {
    super();
    output.block = this;
  }

  override get dependencies(): BlockVariable[] {
    return [this.input];
  }

  override get outputs(): BlockVariable[] {
    return [this.output];
  }

  override replaceDependency(_index: number, variable: BlockVariable): void {
    this.input = variable;
  }
}

/**
 * y = f(x) applied entry by entry, with the rule's f, f' and f''.
 * TLM: ydot = f'(x) xdot. Adjoint: xbar = f'(x) ybar. Hessian: xhat = f'(x) yhat + f''(x) ybar xdot.
 *
 * @example
 * np.sin(x); // records new UnaryElementwiseBlock(sinRule, x.blockVariable, output)
 */
export class UnaryElementwiseBlock
  extends OneInputBlock<OneOperand, OneOperand>
  implements FusedSecondOrder<OneOperand, OneOperand>, ScalarSweeps, TransientAdjoint
{
  /** @internal A built-in rule's derivative modes store nothing and return fresh arrays or views of their seeds (values/pool.ts). */
  [transientAdjoint](): boolean {
    return this.constructor === UnaryElementwiseBlock && builtinRules.has(this.rule);
  }
  /** Declares the FusedSecondOrder capability. */
  get [fusedSecondOrder](): true {
    return true;
  }
  /** @internal Declares the scalar fast paths. */
  get [scalarSweeps](): true {
    return true;
  }
  constructor(
    readonly rule: UnaryRule,
    input: BlockVariable,
    output: BlockVariable,
  ) {
    super(input, output);
  }

  /** @internal see ScalarSweeps */
  _soleOutput(): BlockVariable {
    return this.output;
  }

  /** @internal see ScalarSweeps (a subclass may override the modes: it takes the generic path) */
  _recomputeScalar(): boolean {
    const x = this.input.saved;
    if (typeof x !== "number" || this.constructor !== UnaryElementwiseBlock) return false;
    this.output.saved = this.rule.f(x);
    return true;
  }

  /** @internal see ScalarSweeps */
  _tlmScalar(epoch: number): boolean {
    const input = this.input;
    const x = input.saved;
    const y = this.output.saved;
    const xdot = input.forwardMark === epoch ? input.tlm : undefined;
    if (xdot === undefined) return true; // no tangent: the generic sweep skips the block
    if (typeof x !== "number" || typeof y !== "number" || typeof xdot !== "number") return false;
    if (this.constructor !== UnaryElementwiseBlock) return false;
    this.output.tlm = this.rule.df(x, y) * xdot;
    return true;
  }

  /** @internal see ScalarSweeps */
  _adjointScalar(epoch: number): boolean {
    const ybar = this.output.adj;
    if (ybar === undefined) return true;
    const input = this.input;
    const x = input.saved;
    const y = this.output.saved;
    if (typeof x !== "number" || typeof y !== "number" || typeof ybar !== "number") return false;
    if (!scalarSlot(input.adj) || this.constructor !== UnaryElementwiseBlock) return false;
    if (input.forwardMark === epoch) input.adj = addScalar(input.adj, this.rule.df(x, y) * ybar);
    return true;
  }

  /** @internal see ScalarSweeps */
  _secondOrderScalar(epoch: number): boolean {
    const output = this.output;
    const ybar = output.adj;
    const yhat = output.hessian;
    if (ybar === undefined && yhat === undefined) return true;
    const input = this.input;
    const x = input.saved;
    const y = output.saved;
    const xdot = input.forwardMark === epoch ? input.tlm : undefined;
    if (typeof x !== "number" || typeof y !== "number" || !scalarSlot(ybar) || !scalarSlot(yhat))
      return false;
    if (!scalarSlot(xdot) || !scalarSlot(input.adj) || !scalarSlot(input.hessian)) return false;
    if (this.constructor !== UnaryElementwiseBlock) return false;
    const rule = this.rule;
    const df = rule.df(x, y);
    const xhat = unarySecondScalar(rule, x, y, yhat === undefined ? 0 : df * yhat, ybar, xdot);
    if (input.forwardMark !== epoch) return true;
    if (ybar !== undefined) input.adj = addScalar(input.adj, df * ybar);
    input.hessian = addScalar(input.hessian, xhat);
    return true;
  }

  override get name(): string {
    return this.rule.name;
  }

  recompute({ inputs: [x] }: RecomputeContext<OneOperand>): OneOperand {
    return [typeof x === "number" ? this.rule.f(x) : unaryValues(this.rule, x)];
  }

  override evaluateTlm({
    inputs: [x],
    outputs: [y],
    tlmInputs: [xdot],
  }: TlmContext<OneOperand, OneOperand>): Seeds<OneOperand> {
    if (xdot === undefined) return [undefined];
    if (typeof x === "number" && typeof y === "number" && typeof xdot === "number")
      return [this.rule.df(x, y) * xdot];
    return [unaryFirst(this.rule, asArray(x), asArray(y), asArray(xdot))];
  }

  override evaluateAdj({
    inputs: [x],
    outputs: [y],
    adjInputs: [ybar],
  }: AdjContext<OneOperand, OneOperand>): Seeds<OneOperand> {
    if (ybar === undefined) return [undefined];
    if (typeof x === "number" && typeof y === "number" && typeof ybar === "number")
      return [this.rule.df(x, y) * ybar];
    return [unaryFirst(this.rule, asArray(x), asArray(y), asArray(ybar))];
  }

  override evaluateHessian(context: HessianContext<OneOperand, OneOperand>): Seeds<OneOperand> {
    const {
      inputs: [x],
      outputs: [y],
      adjInputs: [ybar],
      hessianInputs: [yhat],
      tlmInputs: [xdot],
    } = context;
    if (
      typeof x === "number" &&
      typeof y === "number" &&
      scalarSlot(ybar) &&
      scalarSlot(yhat) &&
      scalarSlot(xdot)
    ) {
      // this path skips a zero yhat (f' is not evaluated) and starts from +0: xhat = 0 + f' yhat
      const first = yhat === undefined || yhat === 0 ? 0 : 0 + this.rule.df(x, y) * yhat;
      return [unarySecondScalar(this.rule, x, y, first, ybar, xdot)];
    }
    return [this.arraySecondOrder(context, false)[1]];
  }

  /** Adjoint and second-order adjoint in one pass (the Hessian sweep's fast path): f' evaluated once. */
  evaluateAdjAndHessian(
    context: HessianContext<OneOperand, OneOperand>,
  ): readonly [Seeds<OneOperand>, Seeds<OneOperand>] {
    const {
      inputs: [x],
      outputs: [y],
      adjInputs: [ybar],
      hessianInputs: [yhat],
      tlmInputs: [xdot],
    } = context;
    if (
      typeof x === "number" &&
      typeof y === "number" &&
      scalarSlot(ybar) &&
      scalarSlot(yhat) &&
      scalarSlot(xdot)
    ) {
      const rule = this.rule;
      const df = rule.df(x, y);
      const xhat = unarySecondScalar(rule, x, y, yhat === undefined ? 0 : df * yhat, ybar, xdot);
      return [[ybar === undefined ? undefined : df * ybar], [xhat]];
    }
    const [xbar, xhat] = this.arraySecondOrder(context, context.adjNeeded?.[0] ?? true);
    return [[xbar], [xhat]];
  }

  /** The array path of the second-order modes: [xbar (only `withAdjoint`), xhat]. */
  private arraySecondOrder(
    {
      inputs: [x],
      outputs: [y],
      adjInputs: [ybar],
      hessianInputs: [yhat],
      tlmInputs: [xdot],
    }: HessianContext<OneOperand, OneOperand>,
    withAdjoint: boolean,
  ): [NDArray | undefined, NDArray] {
    return unarySecondOrder(
      this.rule,
      asArray(x),
      asArray(y),
      asArraySeed(ybar),
      asArraySeed(yhat),
      asArraySeed(xdot),
      withAdjoint,
    );
  }
}

/**
 * z = f(a, b) entry by entry, both operands recorded.
 * TLM: zdot = f_a adot + f_b bdot. Adjoint: abar = f_a zbar, bbar = f_b zbar.
 * Hessian: ahat = f_a zhat + zbar (f_aa adot + f_ab bdot), bhat = f_b zhat + zbar (f_ab adot + f_bb bdot).
 *
 * @example
 * np.multiply(x, y); // records new BinaryElementwiseBlock(multiplyRule, x.blockVariable, y.blockVariable, output)
 */
export class BinaryElementwiseBlock
  extends Block<TwoOperands, OneOperand>
  implements FusedSecondOrder<TwoOperands, OneOperand>, ScalarSweeps, TransientAdjoint
{
  /** @internal A built-in rule's derivative modes store nothing and return fresh arrays or views of their seeds (values/pool.ts). */
  [transientAdjoint](): boolean {
    return this.constructor === BinaryElementwiseBlock && builtinRules.has(this.rule);
  }
  /** Declares the FusedSecondOrder capability. */
  get [fusedSecondOrder](): true {
    return true;
  }
  /** @internal Declares the scalar fast paths. */
  get [scalarSweeps](): true {
    return true;
  }
  constructor(
    readonly rule: BinaryRule,
    private first: BlockVariable,
    private second: BlockVariable,
    private readonly output: BlockVariable,
  ) {
    super();
    output.block = this;
  }

  /** @internal see ScalarSweeps */
  _soleOutput(): BlockVariable {
    return this.output;
  }

  /** @internal see ScalarSweeps (a subclass may override the modes: it takes the generic path) */
  _recomputeScalar(): boolean {
    const a = this.first.saved;
    const b = this.second.saved;
    if (typeof a !== "number" || typeof b !== "number" || this.constructor !== BinaryElementwiseBlock)
      return false;
    this.output.saved = this.rule.f(a, b);
    return true;
  }

  /** @internal see ScalarSweeps */
  _tlmScalar(epoch: number): boolean {
    const first = this.first;
    const second = this.second;
    const adot = first.forwardMark === epoch ? first.tlm : undefined;
    const bdot = second.forwardMark === epoch ? second.tlm : undefined;
    if (adot === undefined && bdot === undefined) return true; // no tangent: the generic sweep skips it
    const a = first.saved;
    const b = second.saved;
    const z = this.output.saved;
    if (typeof a !== "number" || typeof b !== "number" || typeof z !== "number") return false;
    if (!scalarSlot(adot) || !scalarSlot(bdot) || this.constructor !== BinaryElementwiseBlock) return false;
    this.output.tlm = binaryTlmScalar(this.rule, a, b, z, adot, bdot);
    return true;
  }

  /** @internal see ScalarSweeps */
  _adjointScalar(epoch: number): boolean {
    const zbar = this.output.adj;
    if (zbar === undefined) return true;
    const first = this.first;
    const second = this.second;
    const a = first.saved;
    const b = second.saved;
    const z = this.output.saved;
    if (typeof a !== "number" || typeof b !== "number" || typeof z !== "number" || typeof zbar !== "number")
      return false;
    if (!scalarSlot(first.adj) || !scalarSlot(second.adj) || this.constructor !== BinaryElementwiseBlock)
      return false;
    // as the generic path: both partials first, then the first dependency, then the second (which may
    // be the same variable)
    const needA = first.forwardMark === epoch;
    const needB = second.forwardMark === epoch;
    const abar = needA ? this.rule.da(a, b, z) * zbar : 0;
    const bbar = needB ? this.rule.db(a, b, z) * zbar : 0;
    if (needA) first.adj = addScalar(first.adj, abar);
    if (needB) second.adj = addScalar(second.adj, bbar);
    return true;
  }

  /** @internal see ScalarSweeps */
  _secondOrderScalar(epoch: number): boolean {
    const output = this.output;
    const zbar = output.adj;
    const zhat = output.hessian;
    if (zbar === undefined && zhat === undefined) return true;
    const first = this.first;
    const second = this.second;
    const a = first.saved;
    const b = second.saved;
    const z = output.saved;
    if (typeof a !== "number" || typeof b !== "number" || typeof z !== "number") return false;
    const adot = first.forwardMark === epoch ? first.tlm : undefined;
    const bdot = second.forwardMark === epoch ? second.tlm : undefined;
    if (!scalarSlot(zbar) || !scalarSlot(zhat) || !scalarSlot(adot) || !scalarSlot(bdot)) return false;
    if (!scalarSlot(first.adj) || !scalarSlot(second.adj)) return false;
    if (!scalarSlot(first.hessian) || !scalarSlot(second.hessian)) return false;
    if (this.constructor !== BinaryElementwiseBlock) return false;
    const rule = this.rule;
    const da = rule.da(a, b, z);
    const db = rule.db(a, b, z);
    const hat = zhat ?? 0;
    const ahat = binarySecondScalar(rule, 0, a, b, z, da * hat, zbar ?? 0, adot ?? 0, bdot ?? 0);
    const bhat = binarySecondScalar(rule, 1, a, b, z, db * hat, zbar ?? 0, adot ?? 0, bdot ?? 0);
    const needA = first.forwardMark === epoch;
    const needB = second.forwardMark === epoch;
    if (zbar !== undefined) {
      if (needA) first.adj = addScalar(first.adj, da * zbar);
      if (needB) second.adj = addScalar(second.adj, db * zbar);
    }
    if (needA) first.hessian = addScalar(first.hessian, ahat);
    if (needB) second.hessian = addScalar(second.hessian, bhat);
    return true;
  }

  // the variables live in fields: no arrays kept per block (the lists are built on demand)
  override get dependencies(): BlockVariable[] {
    return [this.first, this.second];
  }

  override get outputs(): BlockVariable[] {
    return [this.output];
  }

  override replaceDependency(index: number, variable: BlockVariable): void {
    if (index === 0) this.first = variable;
    else this.second = variable;
  }

  override get name(): string {
    return this.rule.name;
  }

  recompute({ inputs: [a, b] }: RecomputeContext<TwoOperands>): OneOperand {
    if (typeof a === "number" && typeof b === "number") return [this.rule.f(a, b)];
    return [binaryValues(this.rule, a, b)];
  }

  override evaluateTlm({
    inputs: [a, b],
    outputs: [z],
    tlmInputs: [adot, bdot],
  }: TlmContext<TwoOperands, OneOperand>): Seeds<OneOperand> {
    if (
      typeof a === "number" &&
      typeof b === "number" &&
      typeof z === "number" &&
      scalarSlot(adot) &&
      scalarSlot(bdot)
    ) {
      if (adot === undefined && bdot === undefined) return [undefined];
      return [binaryTlmScalar(this.rule, a, b, z, adot, bdot)];
    }
    return [binaryTlm(this.rule, a, b, asArray(z), adot, bdot)];
  }

  override evaluateAdj({
    inputs: [a, b],
    outputs: [z],
    adjInputs: [zbar],
    needed,
  }: AdjContext<TwoOperands, OneOperand>): Seeds<TwoOperands> {
    if (zbar === undefined) return [undefined, undefined];
    if (typeof a === "number" && typeof b === "number" && typeof z === "number" && typeof zbar === "number") {
      return [
        needed[0] ? this.rule.da(a, b, z) * zbar : undefined,
        needed[1] ? this.rule.db(a, b, z) * zbar : undefined,
      ];
    }
    return binaryAdjoint(this.rule, a, b, asArray(z), asArray(zbar), needed[0], needed[1]);
  }

  override evaluateHessian(context: HessianContext<TwoOperands, OneOperand>): Seeds<TwoOperands> {
    const {
      inputs: [a, b],
      outputs: [z],
      adjInputs: [zbar],
      hessianInputs: [zhat],
      tlmInputs: [adot, bdot],
    } = context;
    if (
      typeof a === "number" &&
      typeof b === "number" &&
      typeof z === "number" &&
      scalarSlot(zbar) &&
      scalarSlot(zhat) &&
      scalarSlot(adot) &&
      scalarSlot(bdot)
    ) {
      // this path skips a zero zhat (the partials are not evaluated): ahat starts from 0, not f_a * 0
      const rule = this.rule;
      const hat = zhat ?? 0;
      const bar = zbar ?? 0;
      const ad = adot ?? 0;
      const bd = bdot ?? 0;
      return [
        binarySecondScalar(rule, 0, a, b, z, hat !== 0 ? rule.da(a, b, z) * hat : 0, bar, ad, bd),
        binarySecondScalar(rule, 1, a, b, z, hat !== 0 ? rule.db(a, b, z) * hat : 0, bar, ad, bd),
      ];
    }
    const [, , ahat, bhat] = this.arraySecondOrder(context, false);
    return [ahat, bhat];
  }

  /** The array path of the second-order modes: [abar, bbar, ahat, bhat] (adjoints only `withAdjoint`). */
  private arraySecondOrder(
    {
      inputs: [a, b],
      outputs: [z],
      adjInputs: [zbar],
      hessianInputs: [zhat],
      tlmInputs: [adot, bdot],
      needed,
      adjNeeded,
    }: HessianContext<TwoOperands, OneOperand>,
    withAdjoint: boolean,
  ): SecondOrderResult {
    const seeds: SecondOrderSeeds = {
      zbar: asArraySeed(zbar),
      zhat: asArraySeed(zhat),
      adot,
      bdot,
      needA: needed[0],
      needB: needed[1],
    };
    return binarySecondOrder(
      this.rule,
      a,
      b,
      asArray(z),
      seeds,
      withAdjoint && (adjNeeded?.[0] ?? true),
      withAdjoint && (adjNeeded?.[1] ?? true),
    );
  }

  /** Adjoint and second-order adjoint in one pass (the Hessian sweep's fast path): f_a, f_b evaluated once. */
  evaluateAdjAndHessian(
    context: HessianContext<TwoOperands, OneOperand>,
  ): readonly [Seeds<TwoOperands>, Seeds<TwoOperands>] {
    const {
      inputs: [a, b],
      outputs: [z],
      adjInputs: [zbar],
      hessianInputs: [zhat],
      tlmInputs: [adot, bdot],
      needed,
    } = context;
    if (
      typeof a === "number" &&
      typeof b === "number" &&
      typeof z === "number" &&
      scalarSlot(zbar) &&
      scalarSlot(zhat) &&
      scalarSlot(adot) &&
      scalarSlot(bdot)
    ) {
      const rule = this.rule;
      const da = rule.da(a, b, z);
      const db = rule.db(a, b, z);
      const hat = zhat ?? 0;
      const hessian: Seeds<TwoOperands> = [
        binarySecondScalar(rule, 0, a, b, z, da * hat, zbar ?? 0, adot ?? 0, bdot ?? 0),
        binarySecondScalar(rule, 1, a, b, z, db * hat, zbar ?? 0, adot ?? 0, bdot ?? 0),
      ];
      if (zbar === undefined) return [[undefined, undefined], hessian];
      return [[needed[0] ? da * zbar : undefined, needed[1] ? db * zbar : undefined], hessian];
    }
    const [abar, bbar, ahat, bhat] = this.arraySecondOrder(context, true);
    return [
      [abar, bbar],
      [ahat, bhat],
    ];
  }
}

/**
 * z = f(a, b) entry by entry with one operand a constant (kept in the block, not a dependency); the one
 * dependency is the other operand. Rules as for BinaryElementwiseBlock, with the constant's tangent zero:
 * TLM: zdot = f_v vdot. Adjoint: vbar = f_v zbar. Hessian: vhat = f_v zhat + zbar f_vv vdot.
 *
 * @example
 * np.multiply(x, 3); // records new BinaryConstantBlock(multiplyRule, 3, false, x.blockVariable, output)
 */
export class BinaryConstantBlock
  extends OneInputBlock<OneOperand, OneOperand>
  implements FusedSecondOrder<OneOperand, OneOperand>, ScalarSweeps, TransientAdjoint
{
  /** @internal A built-in rule's derivative modes store nothing and return fresh arrays or views of their seeds (values/pool.ts). */
  [transientAdjoint](): boolean {
    return this.constructor === BinaryConstantBlock && builtinRules.has(this.rule);
  }
  /** Declares the FusedSecondOrder capability. */
  get [fusedSecondOrder](): true {
    return true;
  }
  /** @internal Declares the scalar fast paths. */
  get [scalarSweeps](): true {
    return true;
  }
  constructor(
    readonly rule: BinaryRule,
    /** The constant operand's value. */
    readonly constant: number,
    /** Whether the constant is the first operand (a) rather than the second (b). */
    readonly constantIsFirst: boolean,
    input: BlockVariable,
    output: BlockVariable,
  ) {
    super(input, output);
  }

  /** @internal see ScalarSweeps */
  _soleOutput(): BlockVariable {
    return this.output;
  }

  /** @internal see ScalarSweeps (a subclass may override the modes: it takes the generic path) */
  _recomputeScalar(): boolean {
    const v = this.input.saved;
    if (typeof v !== "number" || this.constructor !== BinaryConstantBlock) return false;
    this.output.saved = this.constantIsFirst ? this.rule.f(this.constant, v) : this.rule.f(v, this.constant);
    return true;
  }

  /** @internal see ScalarSweeps */
  _tlmScalar(epoch: number): boolean {
    const input = this.input;
    const vdot = input.forwardMark === epoch ? input.tlm : undefined;
    if (vdot === undefined) return true; // no tangent: the generic sweep skips the block
    const v = input.saved;
    const z = this.output.saved;
    if (typeof v !== "number" || typeof z !== "number" || typeof vdot !== "number") return false;
    if (this.constructor !== BinaryConstantBlock) return false;
    this.output.tlm = this.first(v, z) * vdot;
    return true;
  }

  /** @internal see ScalarSweeps */
  _adjointScalar(epoch: number): boolean {
    const zbar = this.output.adj;
    if (zbar === undefined) return true;
    const input = this.input;
    const v = input.saved;
    const z = this.output.saved;
    if (typeof v !== "number" || typeof z !== "number" || typeof zbar !== "number") return false;
    if (!scalarSlot(input.adj) || this.constructor !== BinaryConstantBlock) return false;
    if (input.forwardMark === epoch) input.adj = addScalar(input.adj, this.first(v, z) * zbar);
    return true;
  }

  /** @internal see ScalarSweeps */
  _secondOrderScalar(epoch: number): boolean {
    const output = this.output;
    const zbar = output.adj;
    const zhat = output.hessian;
    if (zbar === undefined && zhat === undefined) return true;
    const input = this.input;
    const v = input.saved;
    const z = output.saved;
    const vdot = input.forwardMark === epoch ? input.tlm : undefined;
    if (typeof v !== "number" || typeof z !== "number" || !scalarSlot(zbar) || !scalarSlot(zhat))
      return false;
    if (!scalarSlot(vdot) || !scalarSlot(input.adj) || !scalarSlot(input.hessian)) return false;
    if (this.constructor !== BinaryConstantBlock) return false;
    const first = this.first(v, z);
    const vhat = this.secondScalar(v, z, first * (zhat ?? 0), zbar, vdot);
    if (input.forwardMark !== epoch) return true;
    if (zbar !== undefined) input.adj = addScalar(input.adj, first * zbar);
    input.hessian = addScalar(input.hessian, vhat);
    return true;
  }

  override get name(): string {
    return this.rule.name;
  }

  /** f_v: the first derivative with respect to the recorded operand. */
  private first(v: number, z: number): number {
    return this.constantIsFirst ? this.rule.db(this.constant, v, z) : this.rule.da(v, this.constant, z);
  }

  /** vhat at numbers: `first` (the f_v zhat term) + zbar f_vv vdot, the binary rule's Hessian with the constant's tangent zero. */
  private secondScalar(
    v: number,
    z: number,
    first: number,
    zbar: number | undefined,
    vdot: number | undefined,
  ): number {
    const bar = zbar ?? 0;
    const dot = vdot ?? 0;
    return this.constantIsFirst
      ? binarySecondScalar(this.rule, 1, this.constant, v, z, first, bar, 0, dot)
      : binarySecondScalar(this.rule, 0, v, this.constant, z, first, bar, dot, 0);
  }

  /** The operands in order (a, b), with `v` the recorded one. */
  private operands(v: Operand): [Operand, Operand] {
    return this.constantIsFirst ? [this.constant, v] : [v, this.constant];
  }

  recompute({ inputs: [v] }: RecomputeContext<OneOperand>): OneOperand {
    if (typeof v !== "number") return [binaryValues(this.rule, ...this.operands(v))];
    return [this.constantIsFirst ? this.rule.f(this.constant, v) : this.rule.f(v, this.constant)];
  }

  override evaluateTlm({
    inputs: [v],
    outputs: [z],
    tlmInputs: [vdot],
  }: TlmContext<OneOperand, OneOperand>): Seeds<OneOperand> {
    if (vdot === undefined) return [undefined];
    if (typeof v === "number" && typeof z === "number" && typeof vdot === "number")
      return [this.first(v, z) * vdot];
    const [a, b] = this.operands(v);
    const first = this.constantIsFirst;
    return [binaryTlm(this.rule, a, b, asArray(z), first ? undefined : vdot, first ? vdot : undefined)];
  }

  override evaluateAdj({
    inputs: [v],
    outputs: [z],
    adjInputs: [zbar],
  }: AdjContext<OneOperand, OneOperand>): Seeds<OneOperand> {
    if (zbar === undefined) return [undefined];
    if (typeof v === "number" && typeof z === "number" && typeof zbar === "number")
      return [this.first(v, z) * zbar];
    const [a, b] = this.operands(v);
    const first = this.constantIsFirst;
    const [abar, bbar] = binaryAdjoint(this.rule, a, b, asArray(z), asArray(zbar), !first, first);
    return [first ? bbar : abar];
  }

  override evaluateHessian(context: HessianContext<OneOperand, OneOperand>): Seeds<OneOperand> {
    const {
      inputs: [v],
      outputs: [z],
      adjInputs: [zbar],
      hessianInputs: [zhat],
      tlmInputs: [vdot],
    } = context;
    if (
      typeof v === "number" &&
      typeof z === "number" &&
      scalarSlot(zbar) &&
      scalarSlot(zhat) &&
      scalarSlot(vdot)
    ) {
      // this path skips a zero zhat (f_v is not evaluated): vhat starts from 0, not f_v * 0
      const hat = zhat ?? 0;
      return [this.secondScalar(v, z, hat !== 0 ? this.first(v, z) * hat : 0, zbar, vdot)];
    }
    const [, , ahat, bhat] = this.arraySecondOrder(context, false);
    return [this.constantIsFirst ? bhat : ahat];
  }

  /** The array path of the second-order modes: [abar, bbar, ahat, bhat] (adjoints only `withAdjoint`). */
  private arraySecondOrder(
    {
      inputs: [v],
      outputs: [z],
      adjInputs: [zbar],
      hessianInputs: [zhat],
      tlmInputs: [vdot],
      adjNeeded,
    }: HessianContext<OneOperand, OneOperand>,
    withAdjoint: boolean,
  ): SecondOrderResult {
    const [a, b] = this.operands(v);
    const first = this.constantIsFirst;
    const seeds: SecondOrderSeeds = {
      zbar: asArraySeed(zbar),
      zhat: asArraySeed(zhat),
      adot: first ? undefined : vdot,
      bdot: first ? vdot : undefined,
      needA: !first,
      needB: first,
    };
    const adjoint = withAdjoint && (adjNeeded?.[0] ?? true);
    return binarySecondOrder(this.rule, a, b, asArray(z), seeds, adjoint, adjoint);
  }

  /** Adjoint and second-order adjoint in one pass (the Hessian sweep's fast path): f_v evaluated once. */
  evaluateAdjAndHessian(
    context: HessianContext<OneOperand, OneOperand>,
  ): readonly [Seeds<OneOperand>, Seeds<OneOperand>] {
    const {
      inputs: [v],
      outputs: [z],
      adjInputs: [zbar],
      hessianInputs: [zhat],
      tlmInputs: [vdot],
    } = context;
    if (
      typeof v === "number" &&
      typeof z === "number" &&
      scalarSlot(zbar) &&
      scalarSlot(zhat) &&
      scalarSlot(vdot)
    ) {
      const first = this.first(v, z);
      const vhat = this.secondScalar(v, z, first * (zhat ?? 0), zbar, vdot);
      return [[zbar === undefined ? undefined : first * zbar], [vhat]];
    }
    const [abar, bbar, ahat, bhat] = this.arraySecondOrder(context, true);
    return this.constantIsFirst ? [[bbar], [bhat]] : [[abar], [ahat]];
  }
}

function shapeOf(value: Operand): readonly number[] {
  return typeof value === "number" ? [] : value.shape;
}

/** An operand's entries as a flat array (a number as one entry). */
function dataOf(value: Operand): Float64Array {
  return typeof value === "number" ? Float64Array.of(value) : value.data;
}

/**
 * The step of an operand in a flat loop over `size` output entries: 1 (one entry per output entry), 0 (one
 * value broadcast to every entry) or -1 (a partial broadcast, e.g. [n, 1] against [n, 2]).
 */
function flatStep(value: Operand, size: number): number {
  if (typeof value === "number") return 0;
  if (value.size === size) return 1;
  return value.size === 1 ? 0 : -1;
}

/** The output shape with size-1 axes dropped and contiguous axes merged: sizes and each array's strides. */
interface Coalesced {
  dims: number[];
  as: number[];
  bs: number[];
}

/**
 * Drops the size-1 axes of output `shape` (`size` entries) and merges adjacent axes that are contiguous for
 * the output and both operands (as forEachRun does).
 */
function coalesce(a: Operand, b: Operand, shape: readonly number[], size: number): Coalesced {
  const aStrides = broadcastStrides(shapeOf(a), shape);
  const bStrides = broadcastStrides(shapeOf(b), shape);
  const dims: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  const os: number[] = [];
  let outStride = size;
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    outStride /= n;
    if (n === 1) continue;
    const last = dims.length - 1;
    if (
      last >= 0 &&
      os[last] === outStride * n &&
      as[last] === aStrides[d] * n &&
      bs[last] === bStrides[d] * n
    ) {
      dims[last] *= n;
      os[last] = outStride;
      as[last] = aStrides[d];
      bs[last] = bStrides[d];
      continue;
    }
    dims.push(n);
    os.push(outStride);
    as.push(aStrides[d]);
    bs.push(bStrides[d]);
  }
  return { dims, as, bs };
}

/**
 * How the binary loops walk output `shape` (`size` entries) and the operands: one flat row when each operand
 * has the output's size or one entry; rows of a two-level walk when the broadcast coalesces to two axes
 * (each operand read in place with its own steps: the [n, 1] against [n, k] and [k] against [n, k]
 * patterns and their mixes); `null` for the general N-d broadcast (walked block by block, see
 * {@link runGrids}).
 */
function gridFor(a: Operand, b: Operand, shape: readonly number[], size: number): Grid | null {
  const sa = flatStep(a, size);
  const sb = flatStep(b, size);
  if ((sa >= 0 && sb >= 0) || size === 0) return gridOf(1, size, 0, Math.max(sa, 0), 0, Math.max(sb, 0));
  const { dims, as, bs } = coalesce(a, b, shape, size);
  if (dims.length === 1) return gridOf(1, dims[0], 0, as[0], 0, bs[0]);
  if (dims.length === 2) return gridOf(dims[0], dims[1], as[0], as[1], bs[0], bs[1]);
  return null;
}

/**
 * The general N-d broadcast (more than two axes after coalescing) walked block by block: the last two axes
 * form a two-level grid (operands read in place, stride 0 on their broadcast axes), the leading axes are
 * counted off one block at a time; `visit` gets each block's grid, in output order.
 */
function runGrids(a: Operand, b: Operand, shape: readonly number[], visit: (grid: Grid) => void): void {
  const size = shapeSize(shape);
  const { dims, as, bs } = coalesce(a, b, shape, size);
  const rank = dims.length;
  const rows = dims[rank - 2];
  const inner = dims[rank - 1];
  const block = rows * inner;
  const counter = new Array<number>(rank - 2).fill(0);
  for (let o0 = 0, a0 = 0, b0 = 0; o0 < size; o0 += block) {
    visit(gridOf(rows, inner, as[rank - 2], as[rank - 1], bs[rank - 2], bs[rank - 1], o0, a0, b0));
    // next block: an odometer over the leading axes
    for (let d = rank - 3; d >= 0; d--) {
      if (++counter[d] < dims[d]) {
        a0 += as[d];
        b0 += bs[d];
        break;
      }
      counter[d] = 0;
      a0 -= as[d] * (dims[d] - 1);
      b0 -= bs[d] * (dims[d] - 1);
    }
  }
}

/**
 * A seed of an operand laid out as the operand (it walks with it); a seed of another shape (not what the tape
 * gives) is broadcast to the operand's shape first.
 */
function seedData(seed: Operand, operand: Operand): Float64Array {
  if (typeof seed === "number") return Float64Array.of(seed);
  if (typeof operand === "number") return seed.size === 1 ? seed.data : broadcastTo(seed, []).data;
  return seed.size === operand.size ? seed.data : broadcastTo(seed, operand.shape).data;
}

/**
 * How an operand's adjoint-like result is gathered over `size` output entries: `scalar` (a number or a
 * one-entry operand broadcast: one running sum), `full` (one entry per output entry), `reduce` (a partial
 * broadcast summed straight into the operand's shape, possible on a grid), `temporary` (a partial
 * broadcast of the general N-d walk: full-size results summed back with sumToShape, as before).
 */
type Gather = "scalar" | "full" | "reduce" | "temporary";

function gatherOf(target: Operand, size: number, grid: Grid | null): Gather {
  if (typeof target === "number" || (target.size === 1 && size !== 1)) return "scalar";
  if (target.size === size) return "full";
  return grid === null ? "temporary" : "reduce";
}

/** The buffer a gathered result is written to. */
function gatherBuffer(gather: Gather, target: Operand, size: number): Float64Array {
  if (gather === "scalar") return new Float64Array(1);
  // pooled inside an adjoint sweep (values/pool.ts): zeroed for the sums, written entry by entry otherwise
  if (gather === "reduce") return takeZeros(typeof target !== "number" ? target.size : size);
  return takeArray(size);
}

/**
 * A gathered buffer as `target`'s raw type: the running sum as a number (or a one-entry array of target's
 * shape), the reduced entries in target's shape, or the full-size results summed back to it. The sums are
 * in entry order, as the full-size results summed back with sumToShape.
 */
function gathered(data: Float64Array, gather: Gather, target: Operand, shape: readonly number[]): Operand {
  if (typeof target === "number") return data[0];
  if (gather === "temporary") return sumToShape(new NDArray(data, shape), target.shape);
  return new NDArray(data, target.shape);
}

/** {@link gathered} of a buffer that may not have been computed. */
function gatheredIf(
  data: Float64Array | undefined,
  gather: Gather,
  target: Operand,
  shape: readonly number[],
): Operand | undefined {
  return data === undefined ? undefined : gathered(data, gather, target, shape);
}

/** y = f(x) entry by entry. */
function unaryValues(rule: UnaryRule, x: NDArray): NDArray {
  const input = x.data;
  // uninitialised (values/ndarray.ts): unaryValuesInto writes every entry
  const out = emptyArray(input.length);
  unaryValuesInto(rule, out, input, out.length);
  return new NDArray(out, x.shape);
}

/** f'(x) * seed entry by entry (the TLM and the adjoint of a unary rule are the same product). */
function unaryFirst(rule: UnaryRule, x: NDArray, y: NDArray, seed: NDArray): NDArray {
  const xs = x.data;
  const ys = y.data;
  const s = seed.data;
  const out = takeArray(xs.length);
  unaryFirstInto(rule, out, xs, ys, s, out.length);
  return new NDArray(out, x.shape);
}

/**
 * The adjoint (when `withAdjoint` and ybar is given) and the second-order adjoint of a unary rule, entry by
 * entry: xbar = f'(x) ybar, xhat = f'(x) yhat + f''(x) ybar xdot (f' evaluated once an entry). The array
 * path of both second-order modes.
 */
function unarySecondOrder(
  rule: UnaryRule,
  x: NDArray,
  y: NDArray,
  ybar: NDArray | undefined,
  yhat: NDArray | undefined,
  xdot: NDArray | undefined,
  withAdjoint: boolean,
): [NDArray | undefined, NDArray] {
  const xs = x.data;
  const ys = y.data;
  const bar = ybar?.data;
  const hat = yhat?.data;
  const dot = xdot?.data;
  const n = xs.length;
  // pooled inside a sweep ledger (values/pool.ts): every entry is written below
  const adjoint = withAdjoint && bar !== undefined ? takeArray(n) : undefined;
  const second = takeArray(n);
  const needFirst = adjoint !== undefined || hat !== undefined;
  for (let i = 0; i < n; i++) {
    const df = needFirst ? rule.df(xs[i], ys[i]) : 0;
    if (adjoint !== undefined && bar !== undefined) adjoint[i] = df * bar[i];
    let value = hat === undefined ? 0 : df * hat[i];
    if (bar !== undefined && dot !== undefined) value += rule.d2f(xs[i], ys[i]) * bar[i] * dot[i];
    second[i] = value;
  }
  return [adjoint === undefined ? undefined : new NDArray(adjoint, x.shape), new NDArray(second, x.shape)];
}

/**
 * z = f(a, b) entry by entry with broadcasting: same-shape and scalar operands in one flat loop, broadcasts
 * that coalesce to two axes read in place row by row, the general N-d broadcast block by block (no broadcast
 * copy, except power's rows: its operands are materialised so that its special exponents are chosen as in
 * the flat loop, keeping the values bit-identical).
 */
function binaryValues(rule: BinaryRule, a: Operand, b: Operand): NDArray {
  const shape =
    typeof a !== "number" && typeof b !== "number" && shapesEqual(a.shape, b.shape)
      ? a.shape
      : broadcastShapesFor(`np.${rule.name}`, [shapeOf(a), shapeOf(b)]);
  const n = shapeSize(shape);
  // uninitialised (values/ndarray.ts): the flat loop, the grid rows and the N-d blocks write every entry
  const out = emptyArray(n);
  const sa = flatStep(a, n);
  const sb = flatStep(b, n);
  if ((sa >= 0 && sb >= 0) || rule === powerRule) {
    const as = sa >= 0 ? dataOf(a) : broadcastTo(asArray(a), shape).data;
    const bs = sb >= 0 ? dataOf(b) : broadcastTo(asArray(b), shape).data;
    binaryValuesInto(rule, out, as, sa >= 0 ? sa : 1, bs, sb >= 0 ? sb : 1, n);
    return new NDArray(out, shape);
  }
  const as = dataOf(a);
  const bs = dataOf(b);
  const grid = gridFor(a, b, shape, n);
  if (grid !== null) binaryValuesGrid(rule, out, as, bs, grid);
  else runGrids(a, b, shape, (run) => binaryValuesGrid(rule, out, as, bs, run));
  return new NDArray(out, shape);
}

/** zdot over one grid: both tangents in one pass, or the one given. */
function tlmOnGrid(
  rule: BinaryRule,
  out: Float64Array,
  as: Float64Array,
  bs: Float64Array,
  zs: Float64Array,
  ad: Float64Array | undefined,
  bd: Float64Array | undefined,
  grid: Grid,
): void {
  if (ad !== undefined && bd !== undefined) tlmBothInto(rule, out, as, bs, zs, ad, bd, grid);
  else if (ad !== undefined) partialTimesInto(rule, 0, out, as, bs, zs, ad, grid);
  else if (bd !== undefined) partialTimesInto(rule, 1, out, as, bs, zs, bd, grid);
}

/** zdot = f_a adot + f_b bdot entry by entry, each tangent read in place with its operand. */
function binaryTlm(
  rule: BinaryRule,
  a: Operand,
  b: Operand,
  z: NDArray,
  adot: Operand | undefined,
  bdot: Operand | undefined,
): NDArray | undefined {
  if (adot === undefined && bdot === undefined) return undefined;
  const shape = z.shape;
  const zs = z.data;
  const n = zs.length;
  // f_a = 1 with a's tangent alone, full-size: zdot = 1 * adot is adot entry for entry (1 * x is x
  // exactly), so the tangent's buffer is shared (arrays are immutable), as binaryAdjoint shares zbar
  if (
    bdot === undefined &&
    adot !== undefined &&
    typeof adot !== "number" &&
    adot.size === n &&
    typeof a !== "number" &&
    a.size === n &&
    (rule === addRule || rule === subtractRule)
  )
    return new NDArray(adot.data, shape);
  if (
    adot === undefined &&
    bdot !== undefined &&
    typeof bdot !== "number" &&
    bdot.size === n &&
    typeof b !== "number" &&
    b.size === n &&
    rule === addRule
  )
    return new NDArray(bdot.data, shape);
  const as = dataOf(a);
  const bs = dataOf(b);
  const ad = adot === undefined ? undefined : seedData(adot, a);
  const bd = bdot === undefined ? undefined : seedData(bdot, b);
  // pooled inside a sweep ledger (values/pool.ts): the grids write every entry
  const out = takeArray(n);
  const grid = gridFor(a, b, shape, n);
  if (grid !== null) tlmOnGrid(rule, out, as, bs, zs, ad, bd, grid);
  else runGrids(a, b, shape, (run) => tlmOnGrid(rule, out, as, bs, zs, ad, bd, run));
  return new NDArray(out, shape);
}

/**
 * abar = sum-to-shape(f_a zbar), bbar = sum-to-shape(f_b zbar) in one pass, each summed straight into its
 * operand's shape (a full-size result only for the general N-d broadcast).
 */
function binaryAdjoint(
  rule: BinaryRule,
  a: Operand,
  b: Operand,
  z: NDArray,
  zbar: NDArray,
  needA: boolean,
  needB: boolean,
): [Operand | undefined, Operand | undefined] {
  const shape = z.shape;
  const zs = z.data;
  const n = zs.length;
  const bar = zbar.data;
  const grid = gridFor(a, b, shape, n);
  const gatherA = gatherOf(a, n, grid);
  const gatherB = gatherOf(b, n, grid);
  // a partial of 1 on a full-size operand: the adjoint is zbar itself (arrays are immutable, the buffer is shared)
  const sharedA = needA && gatherA === "full" && (rule === addRule || rule === subtractRule);
  const sharedB = needB && gatherB === "full" && rule === addRule;
  // x * x (one array both operands): f_a zbar = f_b zbar entry for entry, computed once and shared
  const mirror = rule === multiplyRule && a === b && needA && needB;
  const outA = needA && !sharedA ? gatherBuffer(gatherA, a, n) : undefined;
  const outB = needB && !sharedB && !mirror ? gatherBuffer(gatherB, b, n) : undefined;
  if (outA !== undefined || outB !== undefined) {
    const as = dataOf(a);
    const bs = dataOf(b);
    const targetA: AdjointTarget = { out: outA, reduce: gatherA === "scalar" || gatherA === "reduce" };
    const targetB: AdjointTarget = { out: outB, reduce: gatherB === "scalar" || gatherB === "reduce" };
    if (grid !== null) adjointInto(rule, as, bs, zs, bar, grid, targetA, targetB);
    else runGrids(a, b, shape, (run) => adjointInto(rule, as, bs, zs, bar, run, targetA, targetB));
  }
  const resultA = sharedA
    ? new NDArray(bar, shapeOf(a))
    : outA === undefined
      ? undefined
      : gathered(outA, gatherA, a, shape);
  if (mirror) return [resultA, resultA];
  return [
    resultA,
    sharedB
      ? new NDArray(bar, shapeOf(b))
      : outB === undefined
        ? undefined
        : gathered(outB, gatherB, b, shape),
  ];
}

/** Seeds of a binary rule's second-order modes (array path). */
interface SecondOrderSeeds {
  zbar: NDArray | undefined;
  zhat: NDArray | undefined;
  adot: Operand | undefined;
  bdot: Operand | undefined;
  needA: boolean;
  needB: boolean;
}

/** [abar, bbar, ahat, bhat], each summed back to its operand's shape (`undefined` where not computed). */
type SecondOrderResult = [Operand | undefined, Operand | undefined, Operand | undefined, Operand | undefined];

/**
 * The adjoints (a's when `adjointA`, b's when `adjointB`) and the second-order adjoint of a binary rule in one pass, each partial
 * derivative evaluated once per entry, each result summed straight into its operand's shape (a scalar
 * operand's terms into one running sum, no full-size temporary):
 * ahat = sum-to-shape(f_a zhat + zbar (f_aa adot + f_ab bdot)),
 * bhat = sum-to-shape(f_b zhat + zbar (f_ab adot + f_bb bdot)).
 */
function binarySecondOrder(
  rule: BinaryRule,
  a: Operand,
  b: Operand,
  z: NDArray,
  seeds: SecondOrderSeeds,
  adjointA: boolean,
  adjointB: boolean,
): SecondOrderResult {
  const shape = z.shape;
  const zs = z.data;
  const n = zs.length;
  const grid = gridFor(a, b, shape, n);
  const gatherA = gatherOf(a, n, grid);
  const gatherB = gatherOf(b, n, grid);
  const { needA, needB, adot, bdot } = seeds;
  const bar = seeds.zbar?.data;
  const hat = seeds.zhat?.data;
  // the branch-free multiply formulas where the flat loop (operands and tangents materialised) chose them
  const dense =
    hat !== undefined &&
    bar !== undefined &&
    adot !== undefined &&
    bdot !== undefined &&
    needA &&
    needB &&
    flatStep(a, n) !== 0 &&
    flatStep(b, n) !== 0 &&
    flatStep(adot, n) !== 0 &&
    flatStep(bdot, n) !== 0;
  // x * x with one tangent: ahat = bhat and abar = bbar entry for entry, computed once and shared
  const mirror = rule === multiplyRule && a === b && adot === bdot && needA && needB;
  // a partial of 1 on a full-size operand (add's a and b, subtract's a): abar = 1 * zbar is zbar and
  // ahat = (zhat !== 0 ? 1 * zhat : 0) is zhat entry for entry when zhat holds no -0, so their buffers are
  // shared (arrays are immutable), as binaryAdjoint shares zbar
  const oneA = needA && gatherA === "full" && (rule === addRule || rule === subtractRule);
  const oneB = needB && gatherB === "full" && rule === addRule;
  // x * x computes a's results for both operands: a's adjoint when either is asked for
  const withA = adjointA || (mirror && adjointB);
  const withB = adjointB;
  const shareA = withA && bar !== undefined;
  const shareB = withB && bar !== undefined;
  const shareHat = (oneA || oneB) && hat !== undefined && !hasNegativeZero(hat);
  const loop: SecondOrderLoop = {
    hat,
    bar,
    ad: adot === undefined ? undefined : seedData(adot, a),
    bd: bdot === undefined ? undefined : seedData(bdot, b),
    outA: needA && !(oneA && shareHat) ? gatherBuffer(gatherA, a, n) : undefined,
    outB: needB && !mirror && !(oneB && shareHat) ? gatherBuffer(gatherB, b, n) : undefined,
    adjA: withA && bar !== undefined && needA && !oneA ? gatherBuffer(gatherA, a, n) : undefined,
    adjB: withB && bar !== undefined && needB && !mirror && !oneB ? gatherBuffer(gatherB, b, n) : undefined,
    reduceA: gatherA === "scalar" || gatherA === "reduce",
    reduceB: gatherB === "scalar" || gatherB === "reduce",
    dense,
  };
  const as = dataOf(a);
  const bs = dataOf(b);
  if (loop.outA !== undefined || loop.outB !== undefined) {
    if (grid !== null) secondOrderInto(rule, as, bs, zs, loop, grid);
    else runGrids(a, b, shape, (run) => secondOrderInto(rule, as, bs, zs, loop, run));
  }
  const adjA = oneA && shareA ? new NDArray(bar, shapeOf(a)) : gatheredIf(loop.adjA, gatherA, a, shape);
  const outA = oneA && shareHat ? new NDArray(hat, shapeOf(a)) : gatheredIf(loop.outA, gatherA, a, shape);
  if (mirror) return [adjA, adjA, outA, outA];
  const adjB = oneB && shareB ? new NDArray(bar, shapeOf(b)) : gatheredIf(loop.adjB, gatherB, b, shape);
  const outB = oneB && shareHat ? new NDArray(hat, shapeOf(b)) : gatheredIf(loop.outB, gatherB, b, shape);
  return [adjA, adjB, outA, outB];
}

/** Whether any entry is -0 (a shared zhat must equal the loops' `zhat !== 0 ? 1 * zhat : 0`, which gives +0). */
function hasNegativeZero(data: Float64Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] === 0 && 1 / data[i] < 0) return true;
  return false;
}

/** What elementwise operations accept: numbers, AdjFloats and NDArrays. */
export type ElementwiseOperand = number | AdjFloat | NDArray;
/** @deprecated name kept for the scalar-only API; same as ElementwiseOperand. */
export type ScalarOperand = ElementwiseOperand;

function checkOperand(operation: string, value: unknown): void {
  if (typeof value !== "number" && !(value instanceof AdjFloat) && !(value instanceof NDArray)) {
    throw new InvalidArgumentError(
      `np.${operation}`,
      `expected a number, an AdjFloat or an NDArray, got ${value === null ? "null" : typeof value === "object" ? (value.constructor?.name ?? "an object") : typeof value}; ` +
        "convert plain arrays with np.array(...)",
    );
  }
}

/**
 * Applies a unary rule: a number gives a number (nothing recorded); an AdjFloat gives an AdjFloat and an
 * NDArray an NDArray, recording one block while annotation is on.
 *
 * @example
 * applyUnary(unaryRules.exp, new AdjFloat(1)); // AdjFloat(e)
 */
export function applyUnary(rule: UnaryRule, x: AdjFloat): AdjFloat;
export function applyUnary(rule: UnaryRule, x: ElementwiseOperand): ElementwiseOperand;
export function applyUnary(rule: UnaryRule, x: ElementwiseOperand): ElementwiseOperand {
  if (typeof x === "number") return rule.f(x);
  if (x instanceof NDArray) return recordOne(x, unaryValues(rule, x), unaryBlock, rule, undefined);
  checkOperand(rule.name, x);
  return recordScalarUnary(rule, x, new AdjFloat(rule.f(x.value)));
}

/**
 * Applies a binary rule with NumPy broadcasting: numbers give a number; otherwise the result is an NDArray
 * if either operand is one, else an AdjFloat, and one block is recorded while annotation is on (a number
 * operand is kept as a constant, not a dependency).
 *
 * @example
 * applyBinary(binaryRules.multiply, new AdjFloat(2), 3); // AdjFloat(6)
 */
export function applyBinary(rule: BinaryRule, a: AdjFloat, b: number | AdjFloat): AdjFloat;
export function applyBinary(
  rule: BinaryRule,
  a: ElementwiseOperand,
  b: ElementwiseOperand,
): ElementwiseOperand;
export function applyBinary(
  rule: BinaryRule,
  a: ElementwiseOperand,
  b: ElementwiseOperand,
): ElementwiseOperand {
  if (typeof a === "number") {
    if (typeof b === "number") return rule.f(a, b);
    checkOperand(rule.name, b);
    if (b instanceof AdjFloat)
      return recordScalarBinary(rule, b, undefined, a, true, new AdjFloat(rule.f(a, b.value)));
    return recordOne(b, binaryResult(rule, a, b.raw()), constantFirstBlock, rule, a);
  }
  checkOperand(rule.name, a);
  if (typeof b === "number") {
    if (a instanceof AdjFloat)
      return recordScalarBinary(rule, a, undefined, b, false, new AdjFloat(rule.f(a.value, b)));
    return recordOne(a, binaryResult(rule, a.raw(), b), constantSecondBlock, rule, b);
  }
  checkOperand(rule.name, b);
  if (a instanceof AdjFloat && b instanceof AdjFloat)
    return recordScalarBinary(rule, a, b, 0, false, new AdjFloat(rule.f(a.value, b.value)));
  return recordTwo(a, b, binaryResult(rule, a.raw(), b.raw()), binaryBlock, rule);
}

// the block builders of the recording calls, defined once (a closure per call would be garbage per block)
function unaryBlock(rule: UnaryRule, _: undefined, input: BlockVariable, output: BlockVariable): Block {
  return new UnaryElementwiseBlock(rule, input, output);
}
function constantFirstBlock(rule: BinaryRule, a: number, input: BlockVariable, output: BlockVariable): Block {
  return new BinaryConstantBlock(rule, a, true, input, output);
}
function constantSecondBlock(
  rule: BinaryRule,
  b: number,
  input: BlockVariable,
  output: BlockVariable,
): Block {
  return new BinaryConstantBlock(rule, b, false, input, output);
}
function binaryBlock(rule: BinaryRule, a: BlockVariable, b: BlockVariable, output: BlockVariable): Block {
  return new BinaryElementwiseBlock(rule, a, b, output);
}

/** z = f(a, b) for raw operands: an AdjFloat for two numbers, else an NDArray (not yet recorded). */
function binaryResult(rule: BinaryRule, a: Operand, b: Operand): AdjFloat | NDArray {
  if (typeof a === "number" && typeof b === "number") return new AdjFloat(rule.f(a, b));
  return binaryValues(rule, a, b);
}

// the per-operation blocks a scalar segment stands for (built when the tape's block list is read)
registerScalarBlockBuilders({
  unary: (rule: UnaryRule, input, output) => new UnaryElementwiseBlock(rule, input, output),
  binary: (rule: BinaryRule, a, b, output) => new BinaryElementwiseBlock(rule, a, b, output),
  constant: (rule: BinaryRule, constant, constantIsFirst, input, output) =>
    new BinaryConstantBlock(rule, constant, constantIsFirst, input, output),
});

// AdjFloat's methods (x.add(y), x.sin(), ...) record through these
registerAdjFloatArithmetic({
  binary: (name, a, b) => applyBinary(binaryRules[name], a, b),
  unary: (name, x) => applyUnary(unaryRules[name], x),
});
