/** @file Elementwise operation blocks: one block class for unary and one for binary rules, all four modes. */
import { InvalidArgumentError } from "../errors.js";
import { annotating } from "../tape/annotation.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type TlmContext,
} from "../tape/block.js";
import { BlockVariable } from "../tape/block-variable.js";
import {
  type FusedSecondOrder,
  fusedSecondOrder,
  type ScalarSweeps,
  scalarSweeps,
} from "../tape/capabilities.js";
import { getWorkingTape } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import { NDArray, shapeSize, shapesEqual } from "../values/ndarray.js";
import {
  binaryValuesInto,
  partialDotSum,
  partialTimesInto,
  type SecondOrderLoop,
  secondOrderInto,
  unaryFirstInto,
  unaryValuesInto,
} from "./elementwise-loops.js";
import { addRule, type BinaryRule, multiplyRule, subtractRule, type UnaryRule } from "./elementwise-rules.js";
import { broadcastShapesFor, broadcastTo, sumToShape } from "./kernels/broadcast.js";
import { broadcastPattern } from "./kernels/strided.js";

/** A scalar slot's current value plus a contribution, as the sweeps' accumulation adds numbers. */
function addScalar(current: unknown, value: number): number {
  return current === undefined ? value : (current as number) + value;
}

/** Whether a slot can take the scalar fast path (empty or a number). */
function scalarSlot(value: unknown): boolean {
  return value === undefined || typeof value === "number";
}

/**
 * Base of the elementwise blocks with one recorded input and one output. The two variables live in fields
 * and the dependency / output lists are built on demand, so a block keeps no arrays (most of a scalar
 * tape's memory otherwise).
 *
 * @example
 * class Twice extends OneInputBlock { recompute({ inputs }: RecomputeContext) { return [2 * (inputs[0] as number)]; } }
 */
export abstract class OneInputBlock extends Block {
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
export class UnaryElementwiseBlock extends OneInputBlock implements FusedSecondOrder, ScalarSweeps {
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
    let xhat = yhat === undefined ? 0 : df * (yhat as number);
    if (ybar !== undefined && xdot !== undefined && ybar !== 0 && xdot !== 0)
      xhat += rule.d2f(x, y) * (ybar as number) * (xdot as number);
    if (input.forwardMark !== epoch) return true;
    if (ybar !== undefined) input.adj = addScalar(input.adj, df * (ybar as number));
    input.hessian = addScalar(input.hessian, xhat);
    return true;
  }

  override get name(): string {
    return this.rule.name;
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    const x = inputs[0];
    return [typeof x === "number" ? this.rule.f(x) : unaryValues(this.rule, x as NDArray)];
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
    const xdot = tlmInputs[0];
    if (xdot === undefined) return [undefined];
    const x = inputs[0];
    if (typeof x !== "number")
      return [unaryFirst(this.rule, x as NDArray, outputs[0] as NDArray, xdot as NDArray)];
    return [this.rule.df(x, outputs[0] as number) * (xdot as number)];
  }

  override evaluateAdj({ inputs, outputs, adjInputs }: AdjContext): readonly unknown[] {
    const ybar = adjInputs[0];
    if (ybar === undefined) return [undefined];
    const x = inputs[0];
    if (typeof x !== "number")
      return [unaryFirst(this.rule, x as NDArray, outputs[0] as NDArray, ybar as NDArray)];
    return [this.rule.df(x, outputs[0] as number) * (ybar as number)];
  }

  override evaluateHessian({
    inputs,
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly unknown[] {
    const x = inputs[0];
    if (typeof x !== "number") {
      return [
        unaryHessian(
          this.rule,
          x as NDArray,
          outputs[0] as NDArray,
          adjInputs[0] as NDArray | undefined,
          hessianInputs[0] as NDArray | undefined,
          tlmInputs[0] as NDArray | undefined,
        ),
      ];
    }
    const y = outputs[0] as number;
    const ybar = (adjInputs[0] as number | undefined) ?? 0;
    const yhat = (hessianInputs[0] as number | undefined) ?? 0;
    const xdot = (tlmInputs[0] as number | undefined) ?? 0;
    let xhat = 0;
    if (yhat !== 0) xhat += this.rule.df(x, y) * yhat;
    if (ybar !== 0 && xdot !== 0) xhat += this.rule.d2f(x, y) * ybar * xdot;
    return [xhat];
  }

  /** Adjoint and second-order adjoint in one pass (the Hessian sweep's fast path): f' evaluated once. */
  evaluateAdjAndHessian({
    inputs,
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly [readonly unknown[], readonly unknown[]] {
    const rule = this.rule;
    const x = inputs[0];
    if (typeof x === "number") {
      const y = outputs[0] as number;
      const ybar = adjInputs[0] as number | undefined;
      const yhat = hessianInputs[0] as number | undefined;
      const xdot = tlmInputs[0] as number | undefined;
      const df = rule.df(x, y);
      let xhat = yhat === undefined ? 0 : df * yhat;
      if (ybar !== undefined && xdot !== undefined && ybar !== 0 && xdot !== 0)
        xhat += rule.d2f(x, y) * ybar * xdot;
      return [[ybar === undefined ? undefined : df * ybar], [xhat]];
    }
    const xs = (x as NDArray).data;
    const ys = (outputs[0] as NDArray).data;
    const bar = (adjInputs[0] as NDArray | undefined)?.data;
    const hat = (hessianInputs[0] as NDArray | undefined)?.data;
    const dot = (tlmInputs[0] as NDArray | undefined)?.data;
    const n = xs.length;
    const adjoint = bar === undefined ? undefined : new Float64Array(n);
    const second = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const df = rule.df(xs[i], ys[i]);
      if (adjoint !== undefined) adjoint[i] = df * (bar as Float64Array)[i];
      let value = hat === undefined ? 0 : df * hat[i];
      if (bar !== undefined && dot !== undefined) value += rule.d2f(xs[i], ys[i]) * bar[i] * dot[i];
      second[i] = value;
    }
    const shape = (x as NDArray).shape;
    return [[adjoint === undefined ? undefined : new NDArray(adjoint, shape)], [new NDArray(second, shape)]];
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
export class BinaryElementwiseBlock extends Block implements FusedSecondOrder, ScalarSweeps {
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
    let zdot = 0;
    if (adot !== undefined) zdot += this.rule.da(a, b, z) * (adot as number);
    if (bdot !== undefined) zdot += this.rule.db(a, b, z) * (bdot as number);
    this.output.tlm = zdot;
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
    const zhatSlot = output.hessian;
    if (zbar === undefined && zhatSlot === undefined) return true;
    const first = this.first;
    const second = this.second;
    const a = first.saved;
    const b = second.saved;
    const z = output.saved;
    if (typeof a !== "number" || typeof b !== "number" || typeof z !== "number") return false;
    const adotSlot = first.forwardMark === epoch ? first.tlm : undefined;
    const bdotSlot = second.forwardMark === epoch ? second.tlm : undefined;
    if (!scalarSlot(zbar) || !scalarSlot(zhatSlot) || !scalarSlot(adotSlot) || !scalarSlot(bdotSlot))
      return false;
    if (!scalarSlot(first.adj) || !scalarSlot(second.adj)) return false;
    if (!scalarSlot(first.hessian) || !scalarSlot(second.hessian)) return false;
    if (this.constructor !== BinaryElementwiseBlock) return false;
    const rule = this.rule;
    const zhat = (zhatSlot as number | undefined) ?? 0;
    const adot = (adotSlot as number | undefined) ?? 0;
    const bdot = (bdotSlot as number | undefined) ?? 0;
    const da = rule.da(a, b, z);
    const db = rule.db(a, b, z);
    let ahat = da * zhat;
    let bhat = db * zhat;
    if (zbar !== undefined && zbar !== 0) {
      const bar = zbar as number;
      if (adot !== 0) {
        ahat += bar * rule.daa(a, b, z) * adot;
        bhat += bar * rule.dab(a, b, z) * adot;
      }
      if (bdot !== 0) {
        ahat += bar * rule.dab(a, b, z) * bdot;
        bhat += bar * rule.dbb(a, b, z) * bdot;
      }
    }
    const needA = first.forwardMark === epoch;
    const needB = second.forwardMark === epoch;
    if (zbar !== undefined) {
      if (needA) first.adj = addScalar(first.adj, da * (zbar as number));
      if (needB) second.adj = addScalar(second.adj, db * (zbar as number));
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

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    const a = inputs[0];
    const b = inputs[1];
    if (typeof a === "number" && typeof b === "number") return [this.rule.f(a, b)];
    return [binaryValues(this.rule, a as Operand, b as Operand)];
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
    if (typeof outputs[0] !== "number") {
      return [
        binaryTlm(
          this.rule,
          inputs[0] as Operand,
          inputs[1] as Operand,
          outputs[0] as NDArray,
          tlmInputs[0] as Operand | undefined,
          tlmInputs[1] as Operand | undefined,
        ),
      ];
    }
    const a = inputs[0] as number;
    const b = inputs[1] as number;
    const z = outputs[0] as number;
    const adot = tlmInputs[0] as number | undefined;
    const bdot = tlmInputs[1] as number | undefined;
    if (adot === undefined && bdot === undefined) return [undefined];
    let zdot = 0;
    if (adot !== undefined) zdot += this.rule.da(a, b, z) * adot;
    if (bdot !== undefined) zdot += this.rule.db(a, b, z) * bdot;
    return [zdot];
  }

  override evaluateAdj({ inputs, outputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    const zbar = adjInputs[0] as number | undefined;
    if (zbar === undefined) return [undefined, undefined];
    if (typeof outputs[0] !== "number") {
      return binaryAdjoint(
        this.rule,
        inputs[0] as Operand,
        inputs[1] as Operand,
        outputs[0] as NDArray,
        zbar as unknown as NDArray,
        needed[0],
        needed[1],
      );
    }
    const a = inputs[0] as number;
    const b = inputs[1] as number;
    const z = outputs[0] as number;
    return [
      needed[0] ? this.rule.da(a, b, z) * zbar : undefined,
      needed[1] ? this.rule.db(a, b, z) * zbar : undefined,
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
    if (typeof outputs[0] !== "number") {
      const [, , ahat, bhat] = this.arraySecondOrder(
        inputs,
        outputs,
        adjInputs,
        hessianInputs,
        tlmInputs,
        needed,
        false,
      );
      return [ahat, bhat];
    }
    const a = inputs[0] as number;
    const b = inputs[1] as number;
    const z = outputs[0] as number;
    const zbar = (adjInputs[0] as number | undefined) ?? 0;
    const zhat = (hessianInputs[0] as number | undefined) ?? 0;
    const adot = (tlmInputs[0] as number | undefined) ?? 0;
    const bdot = (tlmInputs[1] as number | undefined) ?? 0;
    const rule = this.rule;
    let ahat = zhat !== 0 ? rule.da(a, b, z) * zhat : 0;
    let bhat = zhat !== 0 ? rule.db(a, b, z) * zhat : 0;
    if (zbar !== 0) {
      if (adot !== 0) {
        ahat += zbar * rule.daa(a, b, z) * adot;
        bhat += zbar * rule.dab(a, b, z) * adot;
      }
      if (bdot !== 0) {
        ahat += zbar * rule.dab(a, b, z) * bdot;
        bhat += zbar * rule.dbb(a, b, z) * bdot;
      }
    }
    return [ahat, bhat];
  }

  /** The array path of the second-order modes: [abar, bbar, ahat, bhat] (adjoints only `withAdjoint`). */
  private arraySecondOrder(
    inputs: readonly unknown[],
    outputs: readonly unknown[],
    adjInputs: readonly unknown[],
    hessianInputs: readonly unknown[],
    tlmInputs: readonly unknown[],
    needed: readonly boolean[],
    withAdjoint: boolean,
  ): SecondOrderResult {
    const seeds: SecondOrderSeeds = {
      zbar: adjInputs[0] as NDArray | undefined,
      zhat: hessianInputs[0] as NDArray | undefined,
      adot: tlmInputs[0] as Operand | undefined,
      bdot: tlmInputs[1] as Operand | undefined,
      needA: needed[0],
      needB: needed[1],
    };
    return binarySecondOrder(
      this.rule,
      inputs[0] as Operand,
      inputs[1] as Operand,
      outputs[0] as NDArray,
      seeds,
      withAdjoint,
    );
  }

  /** Adjoint and second-order adjoint in one pass (the Hessian sweep's fast path): f_a, f_b evaluated once. */
  evaluateAdjAndHessian(context: HessianContext): readonly [readonly unknown[], readonly unknown[]] {
    const { inputs, outputs, adjInputs, hessianInputs, tlmInputs, needed } = context;
    if (typeof outputs[0] !== "number") {
      const [abar, bbar, ahat, bhat] = this.arraySecondOrder(
        inputs,
        outputs,
        adjInputs,
        hessianInputs,
        tlmInputs,
        needed,
        true,
      );
      return [
        [abar, bbar],
        [ahat, bhat],
      ];
    }
    const rule = this.rule;
    const a = inputs[0] as number;
    const b = inputs[1] as number;
    const z = outputs[0] as number;
    const zbar = adjInputs[0] as number | undefined;
    const zhat = (hessianInputs[0] as number | undefined) ?? 0;
    const adot = (tlmInputs[0] as number | undefined) ?? 0;
    const bdot = (tlmInputs[1] as number | undefined) ?? 0;
    const da = rule.da(a, b, z);
    const db = rule.db(a, b, z);
    let ahat = da * zhat;
    let bhat = db * zhat;
    if (zbar !== undefined && zbar !== 0) {
      if (adot !== 0) {
        ahat += zbar * rule.daa(a, b, z) * adot;
        bhat += zbar * rule.dab(a, b, z) * adot;
      }
      if (bdot !== 0) {
        ahat += zbar * rule.dab(a, b, z) * bdot;
        bhat += zbar * rule.dbb(a, b, z) * bdot;
      }
    }
    const adjoint =
      zbar === undefined
        ? [undefined, undefined]
        : [needed[0] ? da * zbar : undefined, needed[1] ? db * zbar : undefined];
    return [adjoint, [ahat, bhat]];
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
export class BinaryConstantBlock extends OneInputBlock implements FusedSecondOrder, ScalarSweeps {
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
    const zhatSlot = output.hessian;
    if (zbar === undefined && zhatSlot === undefined) return true;
    const input = this.input;
    const v = input.saved;
    const z = output.saved;
    const vdotSlot = input.forwardMark === epoch ? input.tlm : undefined;
    if (typeof v !== "number" || typeof z !== "number" || !scalarSlot(zbar) || !scalarSlot(zhatSlot))
      return false;
    if (!scalarSlot(vdotSlot) || !scalarSlot(input.adj) || !scalarSlot(input.hessian)) return false;
    if (this.constructor !== BinaryConstantBlock) return false;
    const zhat = (zhatSlot as number | undefined) ?? 0;
    const vdot = (vdotSlot as number | undefined) ?? 0;
    const first = this.first(v, z);
    let vhat = first * zhat;
    if (zbar !== undefined && zbar !== 0 && vdot !== 0) vhat += (zbar as number) * this.second(v, z) * vdot;
    if (input.forwardMark !== epoch) return true;
    if (zbar !== undefined) input.adj = addScalar(input.adj, first * (zbar as number));
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

  /** f_vv: the second derivative with respect to the recorded operand. */
  private second(v: number, z: number): number {
    return this.constantIsFirst ? this.rule.dbb(this.constant, v, z) : this.rule.daa(v, this.constant, z);
  }

  /** The operands in order (a, b), with `v` the recorded one. */
  private operands(v: Operand): [Operand, Operand] {
    return this.constantIsFirst ? [this.constant, v] : [v, this.constant];
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    const v = inputs[0];
    if (typeof v !== "number") return [binaryValues(this.rule, ...this.operands(v as NDArray))];
    return [this.constantIsFirst ? this.rule.f(this.constant, v) : this.rule.f(v, this.constant)];
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
    const vdot = tlmInputs[0];
    if (vdot === undefined) return [undefined];
    const v = inputs[0];
    if (typeof v !== "number") {
      const [a, b] = this.operands(v as NDArray);
      const dot = vdot as Operand;
      const first = this.constantIsFirst;
      return [
        binaryTlm(this.rule, a, b, outputs[0] as NDArray, first ? undefined : dot, first ? dot : undefined),
      ];
    }
    return [this.first(v, outputs[0] as number) * (vdot as number)];
  }

  override evaluateAdj({ inputs, outputs, adjInputs }: AdjContext): readonly unknown[] {
    const zbar = adjInputs[0];
    if (zbar === undefined) return [undefined];
    const v = inputs[0];
    if (typeof v !== "number") {
      const [a, b] = this.operands(v as NDArray);
      const first = this.constantIsFirst;
      const [abar, bbar] = binaryAdjoint(
        this.rule,
        a,
        b,
        outputs[0] as NDArray,
        zbar as NDArray,
        !first,
        first,
      );
      return [first ? bbar : abar];
    }
    return [this.first(v, outputs[0] as number) * (zbar as number)];
  }

  override evaluateHessian({
    inputs,
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly unknown[] {
    const v = inputs[0];
    if (typeof v !== "number") {
      const [, , ahat, bhat] = this.arraySecondOrder(
        v as NDArray,
        outputs,
        adjInputs,
        hessianInputs,
        tlmInputs,
        false,
      );
      return [this.constantIsFirst ? bhat : ahat];
    }
    const z = outputs[0] as number;
    const zbar = (adjInputs[0] as number | undefined) ?? 0;
    const zhat = (hessianInputs[0] as number | undefined) ?? 0;
    const vdot = (tlmInputs[0] as number | undefined) ?? 0;
    let vhat = zhat !== 0 ? this.first(v, z) * zhat : 0;
    if (zbar !== 0 && vdot !== 0) vhat += zbar * this.second(v, z) * vdot;
    return [vhat];
  }

  /** The array path of the second-order modes: [abar, bbar, ahat, bhat] (adjoints only `withAdjoint`). */
  private arraySecondOrder(
    v: NDArray,
    outputs: readonly unknown[],
    adjInputs: readonly unknown[],
    hessianInputs: readonly unknown[],
    tlmInputs: readonly unknown[],
    withAdjoint: boolean,
  ): SecondOrderResult {
    const [a, b] = this.operands(v);
    const dot = tlmInputs[0] as Operand | undefined;
    const first = this.constantIsFirst;
    const seeds: SecondOrderSeeds = {
      zbar: adjInputs[0] as NDArray | undefined,
      zhat: hessianInputs[0] as NDArray | undefined,
      adot: first ? undefined : dot,
      bdot: first ? dot : undefined,
      needA: !first,
      needB: first,
    };
    return binarySecondOrder(this.rule, a, b, outputs[0] as NDArray, seeds, withAdjoint);
  }

  /** Adjoint and second-order adjoint in one pass (the Hessian sweep's fast path): f_v evaluated once. */
  evaluateAdjAndHessian(context: HessianContext): readonly [readonly unknown[], readonly unknown[]] {
    const { inputs, outputs, adjInputs, hessianInputs, tlmInputs } = context;
    const v = inputs[0];
    if (typeof v !== "number") {
      const [abar, bbar, ahat, bhat] = this.arraySecondOrder(
        v as NDArray,
        outputs,
        adjInputs,
        hessianInputs,
        tlmInputs,
        true,
      );
      return this.constantIsFirst ? [[bbar], [bhat]] : [[abar], [ahat]];
    }
    const z = outputs[0] as number;
    const zbar = adjInputs[0] as number | undefined;
    const zhat = (hessianInputs[0] as number | undefined) ?? 0;
    const vdot = (tlmInputs[0] as number | undefined) ?? 0;
    const first = this.first(v, z);
    let vhat = first * zhat;
    if (zbar !== undefined && zbar !== 0 && vdot !== 0) vhat += zbar * this.second(v, z) * vdot;
    return [[zbar === undefined ? undefined : first * zbar], [vhat]];
  }
}

/** A raw elementwise operand: a number (AdjFloat's raw value or a constant) or an array. */
type Operand = number | NDArray;

function shapeOf(value: Operand): readonly number[] {
  return typeof value === "number" ? [] : value.shape;
}

/**
 * A raw operand as a flat loop input for an output of `size` entries shaped `shape`: its entries and the
 * step (1: one entry per output entry, shared without a copy; 0: one value broadcast to every entry). Only a
 * partial broadcast (e.g. [n, 1] against [n, 2]) is materialised.
 */
function flatOf(value: Operand, shape: readonly number[], size: number): [Float64Array, number] {
  if (typeof value === "number") return [Float64Array.of(value), 0];
  if (value.size === size) return [value.data, 1];
  if (value.size === 1) return [value.data, 0];
  return [broadcastTo(value, shape).data, 1];
}

/** Whether `target` (an operand broadcast to `size` entries) receives a single summed value. */
function isScalarTarget(target: Operand, size: number): boolean {
  return typeof target === "number" || (target.size === 1 && size !== 1);
}

/** A summed adjoint as `target`'s raw type: a number, or an array of target's (size-1) shape. */
function scalarLike(total: number, target: Operand): Operand {
  return typeof target === "number" ? total : new NDArray(Float64Array.of(total), target.shape);
}

/** Sums `data` (shaped `shape`) down to the shape of `target`: the adjoint of broadcasting. */
function reducedTo(data: Float64Array, shape: readonly number[], target: Operand): Operand {
  if (typeof target === "number") {
    let total = 0;
    for (let i = 0; i < data.length; i++) total += data[i];
    return total;
  }
  const full = new NDArray(data, shape);
  return shapesEqual(shape, target.shape) ? full : sumToShape(full, target.shape);
}

/** y = f(x) entry by entry. */
function unaryValues(rule: UnaryRule, x: NDArray): NDArray {
  const input = x.data;
  const out = new Float64Array(input.length);
  unaryValuesInto(rule, out, input, out.length);
  return new NDArray(out, x.shape);
}

/** f'(x) * seed entry by entry (the TLM and the adjoint of a unary rule are the same product). */
function unaryFirst(rule: UnaryRule, x: NDArray, y: NDArray, seed: NDArray): NDArray {
  const xs = x.data;
  const ys = y.data;
  const s = seed.data;
  const out = new Float64Array(xs.length);
  unaryFirstInto(rule, out, xs, ys, s, out.length);
  return new NDArray(out, x.shape);
}

/** xhat = f'(x) yhat + f''(x) ybar xdot entry by entry. */
function unaryHessian(
  rule: UnaryRule,
  x: NDArray,
  y: NDArray,
  ybar: NDArray | undefined,
  yhat: NDArray | undefined,
  xdot: NDArray | undefined,
): NDArray {
  const xs = x.data;
  const ys = y.data;
  const out = new Float64Array(xs.length);
  if (yhat !== undefined) {
    const h = yhat.data;
    for (let i = 0; i < out.length; i++) out[i] = rule.df(xs[i], ys[i]) * h[i];
  }
  if (ybar !== undefined && xdot !== undefined) {
    const b = ybar.data;
    const d = xdot.data;
    for (let i = 0; i < out.length; i++) out[i] += rule.d2f(xs[i], ys[i]) * b[i] * d[i];
  }
  return new NDArray(out, x.shape);
}

/** z = f(a, b) entry by entry with broadcasting (same-shape and scalar operands read in place). */
function binaryValues(rule: BinaryRule, a: Operand, b: Operand): NDArray {
  const shape =
    typeof a !== "number" && typeof b !== "number" && shapesEqual(a.shape, b.shape)
      ? a.shape
      : broadcastShapesFor(`np.${rule.name}`, [shapeOf(a), shapeOf(b)]);
  const n = shapeSize(shape);
  const [as, sa] = flatOf(a, shape, n);
  const [bs, sb] = flatOf(b, shape, n);
  const out = new Float64Array(n);
  binaryValuesInto(rule, out, as, sa, bs, sb, n);
  return new NDArray(out, shape);
}

/** zdot = f_a adot + f_b bdot entry by entry, the tangents broadcast to z's shape. */
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
  const [as, sa] = flatOf(a, shape, n);
  const [bs, sb] = flatOf(b, shape, n);
  const out = new Float64Array(n);
  if (adot !== undefined) {
    const [d, sd] = flatOf(adot, shape, n);
    partialTimesInto(rule, 0, out, as, sa, bs, sb, zs, d, sd, n, false);
  }
  if (bdot !== undefined) {
    const [d, sd] = flatOf(bdot, shape, n);
    partialTimesInto(rule, 1, out, as, sa, bs, sb, zs, d, sd, n, adot !== undefined);
  }
  return new NDArray(out, shape);
}

/** f_wrt zbar summed back to the shape of operand `target` (0: a, 1: b). */
function operandAdjoint(
  rule: BinaryRule,
  wrt: 0 | 1,
  target: Operand,
  as: Float64Array,
  sa: number,
  bs: Float64Array,
  sb: number,
  z: NDArray,
  zbar: NDArray,
): Operand {
  const shape = z.shape;
  const zs = z.data;
  const n = zs.length;
  const bar = zbar.data;
  if (typeof target === "number" || isScalarTarget(target, n))
    return scalarLike(partialDotSum(rule, wrt, as, sa, bs, sb, zs, bar, n), target);
  if ((rule === addRule || (rule === subtractRule && wrt === 0)) && target.size === n) {
    // the partial is 1: the adjoint is zbar itself (arrays are immutable, the buffer is shared)
    return new NDArray(bar, target.shape);
  }
  if (rule === multiplyRule && target.size < n && (wrt === 0 ? sb : sa) === 1) {
    // a column-like operand ([n, 1] against [n, k]): f_wrt zbar summed group by group without the full product
    const pattern = broadcastPattern(target.shape, shape);
    if (pattern !== null && "trailing" in pattern) {
      const v = wrt === 0 ? bs : as;
      const g = pattern.trailing;
      const out = new Float64Array(target.size);
      for (let j = 0, i = 0; j < out.length; j++) {
        let total = 0;
        for (let t = 0; t < g; t++, i++) total += v[i] * bar[i];
        out[j] = 0 + total; // as the materialised product summed into zeros (sumToShape)
      }
      return new NDArray(out, target.shape);
    }
  }
  const out = new Float64Array(n);
  partialTimesInto(rule, wrt, out, as, sa, bs, sb, zs, bar, 1, n, false);
  return reducedTo(out, shape, target);
}

/** abar = sum-to-shape(f_a zbar), bbar = sum-to-shape(f_b zbar). */
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
  const n = z.data.length;
  const [as, sa] = flatOf(a, shape, n);
  const [bs, sb] = flatOf(b, shape, n);
  return [
    needA ? operandAdjoint(rule, 0, a, as, sa, bs, sb, z, zbar) : undefined,
    needB ? operandAdjoint(rule, 1, b, as, sa, bs, sb, z, zbar) : undefined,
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
 * The adjoint (when `withAdjoint`) and the second-order adjoint of a binary rule in one pass, each partial
 * derivative evaluated once per entry:
 * ahat = sum-to-shape(f_a zhat + zbar (f_aa adot + f_ab bdot)),
 * bhat = sum-to-shape(f_b zhat + zbar (f_ab adot + f_bb bdot)).
 */
function binarySecondOrder(
  rule: BinaryRule,
  a: Operand,
  b: Operand,
  z: NDArray,
  seeds: SecondOrderSeeds,
  withAdjoint: boolean,
): SecondOrderResult {
  const shape = z.shape;
  const zs = z.data;
  const n = zs.length;
  const [as, sa] = flatOf(a, shape, n);
  const [bs, sb] = flatOf(b, shape, n);
  const [ad, sad] = seeds.adot === undefined ? [undefined, 0] : flatOf(seeds.adot, shape, n);
  const [bd, sbd] = seeds.bdot === undefined ? [undefined, 0] : flatOf(seeds.bdot, shape, n);
  const bar = seeds.zbar?.data;
  const loop: SecondOrderLoop = {
    hat: seeds.zhat?.data,
    bar,
    ad,
    sad,
    bd,
    sbd,
    outA: seeds.needA ? new Float64Array(n) : undefined,
    outB: seeds.needB ? new Float64Array(n) : undefined,
    adjA: withAdjoint && bar !== undefined && seeds.needA ? new Float64Array(n) : undefined,
    adjB: withAdjoint && bar !== undefined && seeds.needB ? new Float64Array(n) : undefined,
  };
  secondOrderInto(rule, as, sa, bs, sb, zs, loop, n);
  return [
    loop.adjA === undefined ? undefined : reducedTo(loop.adjA, shape, a),
    loop.adjB === undefined ? undefined : reducedTo(loop.adjB, shape, b),
    loop.outA === undefined ? undefined : reducedTo(loop.outA, shape, a),
    loop.outB === undefined ? undefined : reducedTo(loop.outB, shape, b),
  ];
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
export function applyUnary(rule: UnaryRule, x: ElementwiseOperand): ElementwiseOperand {
  if (typeof x === "number") return rule.f(x);
  if (x instanceof NDArray) {
    const result = unaryValues(rule, x);
    if (annotating()) {
      const output = new BlockVariable(result);
      getWorkingTape().addBlock(new UnaryElementwiseBlock(rule, x.blockVariable, output));
      result._blockVariable = output;
    }
    return result;
  }
  checkOperand(rule.name, x);
  const value = rule.f(x.value);
  const result = new AdjFloat(value);
  if (!annotating()) return result;
  const output = new BlockVariable(value);
  getWorkingTape().addBlock(new UnaryElementwiseBlock(rule, x.blockVariable, output));
  result._blockVariable = output;
  return result;
}

/**
 * Applies a binary rule with NumPy broadcasting: numbers give a number; otherwise the result is an NDArray
 * if either operand is one, else an AdjFloat, and one block is recorded while annotation is on (a number
 * operand is kept as a constant, not a dependency).
 *
 * @example
 * applyBinary(binaryRules.multiply, new AdjFloat(2), 3); // AdjFloat(6)
 */
export function applyBinary(
  rule: BinaryRule,
  a: ElementwiseOperand,
  b: ElementwiseOperand,
): ElementwiseOperand {
  const aIsNumber = typeof a === "number";
  const bIsNumber = typeof b === "number";
  if (aIsNumber && bIsNumber) return rule.f(a, b);
  checkOperand(rule.name, a);
  checkOperand(rule.name, b);
  const aRaw = aIsNumber ? a : (a as AdjFloat | NDArray).raw();
  const bRaw = bIsNumber ? b : (b as AdjFloat | NDArray).raw();
  let result: AdjFloat | NDArray;
  if (typeof aRaw === "number" && typeof bRaw === "number") result = new AdjFloat(rule.f(aRaw, bRaw));
  else result = binaryValues(rule, aRaw, bRaw);
  if (!annotating()) return result;
  const output = new BlockVariable(result.raw());
  const tape = getWorkingTape();
  if (aIsNumber) tape.addBlock(new BinaryConstantBlock(rule, a, true, (b as AdjFloat).blockVariable, output));
  else if (bIsNumber)
    tape.addBlock(new BinaryConstantBlock(rule, b, false, (a as AdjFloat).blockVariable, output));
  else {
    tape.addBlock(
      new BinaryElementwiseBlock(rule, (a as AdjFloat).blockVariable, (b as AdjFloat).blockVariable, output),
    );
  }
  result._blockVariable = output;
  return result;
}
