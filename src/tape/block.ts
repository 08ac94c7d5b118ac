/** @file Block: one recorded operation with its four modes, each given one typed context object. */
import { MissingRuleError, TsadjointError } from "../errors.js";
import { OverloadedValue } from "../values/overloaded.js";
import { BlockVariable } from "./block-variable.js";

/**
 * The values a block reads or produces, in order: the raw values its BlockVariables save (a `number` for an
 * AdjFloat, the `NDArray` itself for an NDArray, ...). A built-in block declares them as a tuple, e.g.
 * `readonly [NDArray, number]`; the default `readonly unknown[]` is for blocks of any arity.
 */
export type Values = readonly unknown[];

/**
 * One seed (tangent, adjoint or second-order adjoint) per entry of `T`, each of the entry's type or
 * `undefined` for zero: `Seeds<readonly [NDArray, number]>` is `readonly [NDArray | undefined, number | undefined]`.
 */
export type Seeds<T extends Values> = { readonly [K in keyof T]: T[K] | undefined };

/** What every mode sees: the saved values of the block's dependencies, in order. */
export interface BlockContext<I extends Values = Values> {
  /** Values of `block.dependencies` as the tape holds them now. */
  readonly inputs: I;
}

/** Context of `recompute`: compute the outputs again from `inputs`. */
export type RecomputeContext<I extends Values = Values> = BlockContext<I>;

/** Context of `evaluateTlm`: push tangent-linear values of the inputs forward. */
export interface TlmContext<I extends Values = Values, O extends Values = Values> extends BlockContext<I> {
  /** Values of `block.outputs` as the tape holds them now. */
  readonly outputs: O;
  /** Tangent-linear value of each dependency; `undefined` means zero. */
  readonly tlmInputs: Seeds<I>;
}

/** Context of `evaluateAdj`: pull adjoint values of the outputs back. */
export interface AdjContext<I extends Values = Values, O extends Values = Values> extends BlockContext<I> {
  /** Values of `block.outputs` as the tape holds them now. */
  readonly outputs: O;
  /** Adjoint value of each output; `undefined` means zero. */
  readonly adjInputs: Seeds<O>;
  /** Which dependencies need an adjoint (those that depend on a control); skip the others. */
  readonly needed: readonly boolean[];
}

/** Context of `evaluateHessian`: the second-order adjoint, after a tangent-linear sweep. */
export interface HessianContext<I extends Values = Values, O extends Values = Values>
  extends AdjContext<I, O> {
  /** Tangent-linear value of each dependency; `undefined` means zero. */
  readonly tlmInputs: Seeds<I>;
  /** Second-order adjoint of each output; `undefined` means zero. */
  readonly hessianInputs: Seeds<O>;
}

/**
 * One recorded operation. Subclass it to add an operation with hand-written derivatives: implement
 * `recompute` and the modes you can give. A mode left out throws `MissingRuleError` when a driver needs
 * it, never a silent zero. A context object and its arrays are valid only during the call (sweeps reuse
 * them from block to block): copy what you need to keep.
 *
 * With outputs y = f(x), adjoint inputs ybar, second-order inputs yhat and tangents xdot:
 * - `evaluateTlm` returns ydot = J xdot (one entry per output),
 * - `evaluateAdj` returns xbar = J^T ybar (one entry per dependency),
 * - `evaluateHessian` returns xhat = J^T yhat + (d/dx (J^T ybar)) xdot (one entry per dependency).
 * Return `undefined` for a zero entry.
 *
 * @example
 * class Cube extends Block {
 *   constructor(x: AdjFloat) { super(); this.addDependency(x); }
 *   recompute({ inputs }: RecomputeContext) { const x = inputs[0] as number; return [x * x * x]; }
 *   evaluateTlm({ inputs, tlmInputs }: TlmContext) { const x = inputs[0] as number; return [3 * x * x * (tlmInputs[0] as number ?? 0)]; }
 *   evaluateAdj({ inputs, adjInputs }: AdjContext) { const x = inputs[0] as number; return [3 * x * x * (adjInputs[0] as number ?? 0)]; }
 * }
 */
export abstract class Block<I extends Values = Values, O extends Values = Values> {
  // declared, not initialised: a block that keeps its variables in fields of its own (the elementwise
  // blocks) never gets these properties, which keeps a long scalar tape 24 bytes a block smaller
  declare private dependencyList: BlockVariable[] | undefined;
  declare private outputList: BlockVariable[] | undefined;
  /** A user label, for `tape.getBlocks(tag)` (`undefined` until a tag is given). */
  declare tag: string | undefined;

  /**
   * Built-in blocks pass their dependency and output lists whole (exactly sized arrays keep the tape
   * small); custom blocks usually call `addDependency` / `addOutput` instead. A block may also keep its
   * variables in fields of its own and override the `dependencies` / `outputs` getters (the elementwise
   * blocks do: two small arrays a block are most of a scalar tape's memory).
   */
  constructor(dependencies?: BlockVariable[], outputs?: BlockVariable[]) {
    if (dependencies !== undefined) this.dependencyList = dependencies;
    if (outputs !== undefined) {
      this.outputList = outputs;
      for (const output of outputs) output.block = this;
    }
  }

  /** The values this block reads, in order. */
  get dependencies(): BlockVariable[] {
    if (this.dependencyList === undefined) this.dependencyList = [];
    return this.dependencyList;
  }

  /** The values this block produces, in order. */
  get outputs(): BlockVariable[] {
    if (this.outputList === undefined) this.outputList = [];
    return this.outputList;
  }

  /**
   * Replaces dependency `index` by `variable` (nested tapes use it to detach values captured from an
   * enclosing scope).
   *
   * @example
   * block.replaceDependency(0, new BlockVariable(block.dependencies[0].saved));
   */
  replaceDependency(index: number, variable: BlockVariable): void {
    this.dependencies[index] = variable;
  }

  /** A short name for messages and graph export; defaults to the class name. */
  get name(): string {
    return this.constructor.name;
  }

  /**
   * Declares that this block reads `value` (an overloaded value or a BlockVariable).
   *
   * @example
   * block.addDependency(x);
   */
  addDependency(value: OverloadedValue | BlockVariable): void {
    if (value instanceof BlockVariable) this.dependencies.push(value);
    else if (value instanceof OverloadedValue) this.dependencies.push(value.blockVariable);
    else throw new TsadjointError(`${this.name}.addDependency`, "a dependency must be an overloaded value");
  }

  /**
   * Declares that this block produced `value`, linking the value to the tape. Returns the value.
   *
   * @example
   * const y = block.addOutput(new AdjFloat(3));
   */
  addOutput<T extends OverloadedValue>(value: T): T {
    if (!(value instanceof OverloadedValue)) {
      throw new TsadjointError(
        `${this.name}.addOutput`,
        "an output must be an overloaded value (AdjFloat, NDArray, ...)",
      );
    }
    if (value._blockVariable !== undefined) {
      throw new TsadjointError(
        `${this.name}.addOutput`,
        "this value is already on a tape; create a new value for each block output",
      );
    }
    const variable = new BlockVariable(value.raw(), this);
    value._blockVariable = variable;
    this.outputs.push(variable);
    return value;
  }

  /** Computes the outputs again from `inputs` (values change, shapes do not). One entry per output. */
  abstract recompute(context: RecomputeContext<I>): O;

  /** Tangent-linear mode: one entry per output (`undefined` for zero). */
  evaluateTlm(_context: TlmContext<I, O>): Seeds<O> {
    throw new MissingRuleError(this.name, "this block has no tangent-linear rule (evaluateTlm)");
  }

  /** Adjoint mode: one entry per dependency (`undefined` for zero or not needed). */
  evaluateAdj(_context: AdjContext<I, O>): Seeds<I> {
    throw new MissingRuleError(this.name, "this block has no adjoint rule (evaluateAdj)");
  }

  /** Second-order adjoint mode: one entry per dependency (`undefined` for zero or not needed). */
  evaluateHessian(_context: HessianContext<I, O>): Seeds<I> {
    throw new MissingRuleError(this.name, "this block has no Hessian rule (evaluateHessian)");
  }
}
