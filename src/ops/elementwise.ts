/** @file Elementwise operation blocks: one block class for unary and one for binary rules, all four modes. */
import { InvalidArgumentError } from "../errors.js";
import { annotating } from "../tape/annotation.js";
import { type AdjContext, Block, type HessianContext, type RecomputeContext, type TlmContext } from "../tape/block.js";
import { getWorkingTape } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import type { BinaryRule, UnaryRule } from "./elementwise-rules.js";

/**
 * y = f(x) applied entry by entry, with the rule's f, f' and f''.
 * TLM: ydot = f'(x) xdot. Adjoint: xbar = f'(x) ybar. Hessian: xhat = f'(x) yhat + f''(x) ybar xdot.
 */
export class UnaryElementwiseBlock extends Block {
  constructor(readonly rule: UnaryRule) {
    super();
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

  override evaluateHessian({ inputs, outputs, adjInputs, hessianInputs, tlmInputs }: HessianContext): readonly unknown[] {
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

/** Which operands of a binary block are recorded dependencies: both, only a (b constant), only b. */
type Operands = 0 | 1 | 2;
const Operands = { Both: 0, OnlyA: 1, OnlyB: 2 } as const;

/**
 * z = f(a, b) entry by entry; a plain-number operand is kept as a constant, not a dependency.
 * TLM: zdot = f_a adot + f_b bdot. Adjoint: abar = f_a zbar, bbar = f_b zbar.
 * Hessian: ahat = f_a zhat + zbar (f_aa adot + f_ab bdot), bhat = f_b zhat + zbar (f_ab adot + f_bb bdot).
 */
export class BinaryElementwiseBlock extends Block {
  private readonly operands: Operands;
  private readonly constant: number;

  constructor(
    readonly rule: BinaryRule,
    operands: Operands,
    constant: number,
  ) {
    super();
    this.operands = operands;
    this.constant = constant;
  }

  override get name(): string {
    return this.rule.name;
  }

  private operandA(inputs: readonly unknown[]): number {
    return this.operands === Operands.OnlyB ? this.constant : (inputs[0] as number);
  }

  private operandB(inputs: readonly unknown[]): number {
    if (this.operands === Operands.OnlyA) return this.constant;
    return (this.operands === Operands.Both ? inputs[1] : inputs[0]) as number;
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [this.rule.f(this.operandA(inputs), this.operandB(inputs))];
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
    const a = this.operandA(inputs);
    const b = this.operandB(inputs);
    const z = outputs[0] as number;
    const rule = this.rule;
    let zdot = 0;
    let any = false;
    if (this.operands !== Operands.OnlyB) {
      const adot = tlmInputs[0] as number | undefined;
      if (adot !== undefined) {
        zdot += rule.da(a, b, z) * adot;
        any = true;
      }
    }
    if (this.operands !== Operands.OnlyA) {
      const bdot = tlmInputs[this.operands === Operands.Both ? 1 : 0] as number | undefined;
      if (bdot !== undefined) {
        zdot += rule.db(a, b, z) * bdot;
        any = true;
      }
    }
    return [any ? zdot : undefined];
  }

  override evaluateAdj({ inputs, outputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    const zbar = adjInputs[0] as number | undefined;
    const rule = this.rule;
    if (this.operands === Operands.Both) {
      if (zbar === undefined) return [undefined, undefined];
      const a = inputs[0] as number;
      const b = inputs[1] as number;
      const z = outputs[0] as number;
      return [needed[0] ? rule.da(a, b, z) * zbar : undefined, needed[1] ? rule.db(a, b, z) * zbar : undefined];
    }
    if (zbar === undefined) return [undefined];
    const a = this.operandA(inputs);
    const b = this.operandB(inputs);
    const z = outputs[0] as number;
    return [this.operands === Operands.OnlyA ? rule.da(a, b, z) * zbar : rule.db(a, b, z) * zbar];
  }

  override evaluateHessian({ inputs, outputs, adjInputs, hessianInputs, tlmInputs }: HessianContext): readonly unknown[] {
    const a = this.operandA(inputs);
    const b = this.operandB(inputs);
    const z = outputs[0] as number;
    const zbar = (adjInputs[0] as number | undefined) ?? 0;
    const zhat = (hessianInputs[0] as number | undefined) ?? 0;
    const rule = this.rule;
    const hasA = this.operands !== Operands.OnlyB;
    const hasB = this.operands !== Operands.OnlyA;
    const adot = hasA ? ((tlmInputs[0] as number | undefined) ?? 0) : 0;
    const bdot = hasB ? ((tlmInputs[this.operands === Operands.Both ? 1 : 0] as number | undefined) ?? 0) : 0;
    const result: number[] = [];
    if (hasA) {
      let ahat = zhat !== 0 ? rule.da(a, b, z) * zhat : 0;
      if (zbar !== 0) {
        if (adot !== 0) ahat += zbar * rule.daa(a, b, z) * adot;
        if (bdot !== 0) ahat += zbar * rule.dab(a, b, z) * bdot;
      }
      result.push(ahat);
    }
    if (hasB) {
      let bhat = zhat !== 0 ? rule.db(a, b, z) * zhat : 0;
      if (zbar !== 0) {
        if (adot !== 0) bhat += zbar * rule.dab(a, b, z) * adot;
        if (bdot !== 0) bhat += zbar * rule.dbb(a, b, z) * bdot;
      }
      result.push(bhat);
    }
    return result;
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
  const result = new AdjFloat(rule.f(x.value));
  if (!annotating()) return result;
  const block = new UnaryElementwiseBlock(rule);
  block.dependencies.push(x.blockVariable);
  block.addOutput(result);
  getWorkingTape().addBlock(block);
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
  const result = new AdjFloat(rule.f(aValue, bValue));
  if (!annotating()) return result;
  const operands = aIsNumber ? Operands.OnlyB : bIsNumber ? Operands.OnlyA : Operands.Both;
  const block = new BinaryElementwiseBlock(rule, operands, aIsNumber ? aValue : bValue);
  if (!aIsNumber) block.dependencies.push((a as AdjFloat).blockVariable);
  if (!bIsNumber) block.dependencies.push((b as AdjFloat).blockVariable);
  block.addOutput(result);
  getWorkingTape().addBlock(block);
  return result;
}
