/** @file Block: one recorded operation with its four modes, each given one typed context object. */
import { MissingRuleError, TsadjointError } from "../errors.js";
import { OverloadedValue } from "../values/overloaded.js";
import { BlockVariable } from "./block-variable.js";

/** What every mode sees: the saved values of the block's dependencies, in order. */
export interface BlockContext {
  /** Values of `block.dependencies` as the tape holds them now. */
  readonly inputs: readonly unknown[];
}

/** Context of `recompute`: compute the outputs again from `inputs`. */
export type RecomputeContext = BlockContext;

/** Context of `evaluateTlm`: push tangent-linear values of the inputs forward. */
export interface TlmContext extends BlockContext {
  /** Values of `block.outputs` as the tape holds them now. */
  readonly outputs: readonly unknown[];
  /** Tangent-linear value of each dependency; `undefined` means zero. */
  readonly tlmInputs: readonly unknown[];
}

/** Context of `evaluateAdj`: pull adjoint values of the outputs back. */
export interface AdjContext extends BlockContext {
  /** Values of `block.outputs` as the tape holds them now. */
  readonly outputs: readonly unknown[];
  /** Adjoint value of each output; `undefined` means zero. */
  readonly adjInputs: readonly unknown[];
  /** Which dependencies need an adjoint (those that depend on a control); skip the others. */
  readonly needed: readonly boolean[];
}

/** Context of `evaluateHessian`: the second-order adjoint, after a tangent-linear sweep. */
export interface HessianContext extends AdjContext {
  /** Tangent-linear value of each dependency; `undefined` means zero. */
  readonly tlmInputs: readonly unknown[];
  /** Second-order adjoint of each output; `undefined` means zero. */
  readonly hessianInputs: readonly unknown[];
}

/**
 * Optional fast path for the Hessian sweep: a block that computes its adjoint (`evaluateAdj`) and its
 * second-order adjoint (`evaluateHessian`) in one call, sharing the first derivatives. It must return
 * exactly what the two methods return. Blocks without it get the two calls.
 *
 * @example
 * class MyBlock extends Block implements FusedSecondOrder {
 *   evaluateAdjAndHessian(context: HessianContext) { return [this.evaluateAdj(context), this.evaluateHessian(context)] as const; }
 * }
 */
export interface FusedSecondOrder {
  evaluateAdjAndHessian(context: HessianContext): readonly [readonly unknown[], readonly unknown[]];
}

/**
 * @internal Fast paths of the built-in scalar blocks for the sweeps, working on the block's variables
 * directly (no context, no arrays). Each does exactly what the generic path (context, mode method,
 * accumulation) does, with the same arithmetic in the same order, or returns false having done nothing,
 * and the sweep then takes the generic path. `epoch` is the sweep's forward epoch (a dependency needs
 * derivatives iff its forwardMark equals it).
 */
export interface ScalarSweeps {
  /** The block's one output (what `outputs` lists, without building the list). */
  _soleOutput(): BlockVariable;
  /** Recomputes the output when the inputs are numbers (the caller checked it may overwrite it). */
  _recomputeScalar(): boolean;
  /** The tangent-linear value of the output (the caller checked it may overwrite it). */
  _tlmScalar(epoch: number): boolean;
  /** Adds the adjoint contributions to the dependencies' `adj`. */
  _adjointScalar(epoch: number): boolean;
  /** Adds the adjoint and second-order adjoint contributions (the fused Hessian sweep). */
  _secondOrderScalar(epoch: number): boolean;
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
export abstract class Block {
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
  abstract recompute(context: RecomputeContext): readonly unknown[];

  /** Tangent-linear mode: one entry per output (`undefined` for zero). */
  evaluateTlm(_context: TlmContext): readonly unknown[] {
    throw new MissingRuleError(this.name, "this block has no tangent-linear rule (evaluateTlm)");
  }

  /** Adjoint mode: one entry per dependency (`undefined` for zero or not needed). */
  evaluateAdj(_context: AdjContext): readonly unknown[] {
    throw new MissingRuleError(this.name, "this block has no adjoint rule (evaluateAdj)");
  }

  /** Second-order adjoint mode: one entry per dependency (`undefined` for zero or not needed). */
  evaluateHessian(_context: HessianContext): readonly unknown[] {
    throw new MissingRuleError(this.name, "this block has no Hessian rule (evaluateHessian)");
  }
}
