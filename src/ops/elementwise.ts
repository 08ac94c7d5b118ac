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
import { getWorkingTape } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import type { BinaryRule, UnaryRule } from "./elementwise-rules.js";

/**
 * y = f(x) applied entry by entry, with the rule's f, f' and f''.
 * TLM: ydot = f'(x) xdot. Adjoint: xbar = f'(x) ybar. Hessian: xhat = f'(x) yhat + f''(x) ybar xdot.
 */
export class UnaryElementwiseBlock extends Block {
  constructor(
    readonly rule: UnaryRule,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return this.rule.name;
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [this.rule.f(inputs[0] as number)];
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
    const xdot = tlmInputs[0] as number | undefined;
    if (xdot === undefined) return [undefined];
    return [this.rule.df(inputs[0] as number, outputs[0] as number) * xdot];
  }

  override evaluateAdj({ inputs, outputs, adjInputs }: AdjContext): readonly unknown[] {
    const ybar = adjInputs[0] as number | undefined;
    if (ybar === undefined) return [undefined];
    return [this.rule.df(inputs[0] as number, outputs[0] as number) * ybar];
  }

  override evaluateHessian({
    inputs,
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly unknown[] {
    const x = inputs[0] as number;
    const y = outputs[0] as number;
    const ybar = (adjInputs[0] as number | undefined) ?? 0;
    const yhat = (hessianInputs[0] as number | undefined) ?? 0;
    const xdot = (tlmInputs[0] as number | undefined) ?? 0;
    let xhat = 0;
    if (yhat !== 0) xhat += this.rule.df(x, y) * yhat;
    if (ybar !== 0 && xdot !== 0) xhat += this.rule.d2f(x, y) * ybar * xdot;
    return [xhat];
  }
}

/**
 * z = f(a, b) entry by entry, both operands recorded.
 * TLM: zdot = f_a adot + f_b bdot. Adjoint: abar = f_a zbar, bbar = f_b zbar.
 * Hessian: ahat = f_a zhat + zbar (f_aa adot + f_ab bdot), bhat = f_b zhat + zbar (f_ab adot + f_bb bdot).
 */
export class BinaryElementwiseBlock extends Block {
  constructor(
    readonly rule: BinaryRule,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return this.rule.name;
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [this.rule.f(inputs[0] as number, inputs[1] as number)];
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
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
  }: HessianContext): readonly unknown[] {
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
}

/**
 * z = f(a, b) entry by entry with one operand a constant (kept in the block, not a dependency); the one
 * dependency is the other operand. Rules as for BinaryElementwiseBlock, with the constant's tangent zero:
 * TLM: zdot = f_v vdot. Adjoint: vbar = f_v zbar. Hessian: vhat = f_v zhat + zbar f_vv vdot.
 */
export class BinaryConstantBlock extends Block {
  constructor(
    readonly rule: BinaryRule,
    /** The constant operand's value. */
    readonly constant: number,
    /** Whether the constant is the first operand (a) rather than the second (b). */
    readonly constantIsFirst: boolean,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
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

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    const v = inputs[0] as number;
    return [this.constantIsFirst ? this.rule.f(this.constant, v) : this.rule.f(v, this.constant)];
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
    const vdot = tlmInputs[0] as number | undefined;
    if (vdot === undefined) return [undefined];
    return [this.first(inputs[0] as number, outputs[0] as number) * vdot];
  }

  override evaluateAdj({ inputs, outputs, adjInputs }: AdjContext): readonly unknown[] {
    const zbar = adjInputs[0] as number | undefined;
    if (zbar === undefined) return [undefined];
    return [this.first(inputs[0] as number, outputs[0] as number) * zbar];
  }

  override evaluateHessian({
    inputs,
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly unknown[] {
    const v = inputs[0] as number;
    const z = outputs[0] as number;
    const zbar = (adjInputs[0] as number | undefined) ?? 0;
    const zhat = (hessianInputs[0] as number | undefined) ?? 0;
    const vdot = (tlmInputs[0] as number | undefined) ?? 0;
    let vhat = zhat !== 0 ? this.first(v, z) * zhat : 0;
    if (zbar !== 0 && vdot !== 0) vhat += zbar * this.second(v, z) * vdot;
    return [vhat];
  }
}

/** What elementwise operations accept. */
export type ScalarOperand = number | AdjFloat;

function checkOperand(operation: string, value: unknown): void {
  if (typeof value !== "number" && !(value instanceof AdjFloat)) {
    throw new InvalidArgumentError(
      `np.${operation}`,
      `expected a number or an AdjFloat, got ${value === null ? "null" : typeof value === "object" ? value.constructor.name : typeof value}`,
    );
  }
}

/**
 * Applies a unary rule: a number gives a number (nothing recorded), an AdjFloat gives an AdjFloat and
 * records one block while annotation is on.
 *
 * @example
 * applyUnary(unaryRules.exp, new AdjFloat(1)); // AdjFloat(e)
 */
export function applyUnary(rule: UnaryRule, x: ScalarOperand): ScalarOperand {
  if (typeof x === "number") return rule.f(x);
  checkOperand(rule.name, x);
  const value = rule.f(x.value);
  const result = new AdjFloat(value);
  if (!annotating()) return result;
  const output = new BlockVariable(value);
  getWorkingTape().addBlock(new UnaryElementwiseBlock(rule, [x.blockVariable], [output]));
  result._blockVariable = output;
  return result;
}

/**
 * Applies a binary rule: numbers give a number; with an AdjFloat operand the result is an AdjFloat and
 * one block is recorded while annotation is on (a number operand is kept as a constant).
 *
 * @example
 * applyBinary(binaryRules.multiply, new AdjFloat(2), 3); // AdjFloat(6)
 */
export function applyBinary(rule: BinaryRule, a: ScalarOperand, b: ScalarOperand): ScalarOperand {
  const aIsNumber = typeof a === "number";
  const bIsNumber = typeof b === "number";
  if (aIsNumber && bIsNumber) return rule.f(a, b);
  checkOperand(rule.name, a);
  checkOperand(rule.name, b);
  const aValue = aIsNumber ? a : (a as AdjFloat).value;
  const bValue = bIsNumber ? b : (b as AdjFloat).value;
  const value = rule.f(aValue, bValue);
  const result = new AdjFloat(value);
  if (!annotating()) return result;
  const output = new BlockVariable(value);
  const tape = getWorkingTape();
  if (aIsNumber)
    tape.addBlock(new BinaryConstantBlock(rule, aValue, true, [(b as AdjFloat).blockVariable], [output]));
  else if (bIsNumber)
    tape.addBlock(new BinaryConstantBlock(rule, bValue, false, [(a as AdjFloat).blockVariable], [output]));
  else {
    const dependencies = [(a as AdjFloat).blockVariable, (b as AdjFloat).blockVariable];
    tape.addBlock(new BinaryElementwiseBlock(rule, dependencies, [output]));
  }
  result._blockVariable = output;
  return result;
}
