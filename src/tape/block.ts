/**
 * @file Block: one recorded operation with its four modes, each given one typed context object; the
 * BlockVariables it reads and produces; and Recordable, what the tape needs of a value it records. A block
 * names its variables and a variable its producer block, so the two classes share this module
 * (`block-variable.ts` re-exports the variable).
 */
import { InvalidArgumentError, MissingRuleError, TsadjointError } from "../errors.js";

/**
 * The tape's record of one value. `saved` is the value the tape currently holds for it (a reference:
 * values are immutable, so nothing is copied); a replay replaces it. The `adj`, `tlm` and `hessian` slots
 * hold the first-order adjoint, the tangent-linear value and the second-order adjoint during a sweep;
 * `undefined` means zero. Sweeps reset the slots they use before they start, so no state carries over.
 *
 * @example
 * const x = new AdjFloat(2);
 * x.blockVariable.saved; // 2
 */
export class BlockVariable {
  /** The value the tape holds now (raw: a number, an NDArray, or a registered type's raw value). */
  saved: unknown;
  /** The block that produced this value; `undefined` for an independent value (an input, a control). */
  block: Block | undefined;
  /**
   * First-order adjoint (reverse sweep). After an adjoint sweep the controls' and the outputs' slots hold
   * theirs; the slot of an intermediate array of 4096 entries or more is cleared once its block has run,
   * its buffer reused by the sweep (values/pool.ts).
   */
  adj: unknown = undefined;
  /** Tangent-linear value (forward sweep). */
  tlm: unknown = undefined;
  /** Second-order adjoint (Hessian sweep). */
  hessian: unknown = undefined;
  /** @internal sweep marker: equals the sweep's forward epoch when the value depends on a control. */
  forwardMark = 0;
  /**
   * @internal sweep marker: during a walk's forward pass it is set to the forward epoch when a block uses
   * the value; the backward pass then sets it to the backward epoch when an output depends on the value.
   */
  backwardMark = 0;

  constructor(saved: unknown, block?: Block) {
    if (block !== undefined && !(block instanceof Block)) {
      throw new InvalidArgumentError(
        "new BlockVariable",
        "block must be a Block (the block that produced the value) or omitted",
      );
    }
    this.saved = saved;
    this.block = block;
  }
}

/**
 * @internal Hook of checkpointed tapes: called when an overloaded value is used whose tape value was
 * dropped (`saved` undefined), with a function giving the value's raw data; a checkpointed tape that is
 * still recording puts it back (the program's value is then the tape's value).
 */
export const droppedValues: {
  restore: ((variable: BlockVariable, raw: () => unknown) => void) | undefined;
} = { restore: undefined };

/** Marker of {@link Recordable}: `OverloadedValue` declares it, so every overloaded value carries it. */
export const recordable: unique symbol = Symbol("tsadjoint.recordable");

/**
 * What the tape needs of a value it records (every `OverloadedValue` is one): the declared marker, its raw
 * value, and its link to the tape, which the recording path sets on a result.
 *
 * @example
 * class Pair extends OverloadedValue { ... } // an OverloadedValue is Recordable
 * block.addDependency(new Pair(1, 2));
 */
export interface Recordable {
  /** The marker: `true`. */
  readonly [recordable]: true;
  /** The value as the tape stores it. */
  raw(): unknown;
  /** The tape's record of this value (created on first use for an independent value). */
  readonly blockVariable: BlockVariable;
  /** @internal the link the recording path sets on a result */
  _blockVariable: BlockVariable | undefined;
  /** @internal the scalar segment that recorded the value (AdjFloat), whose variable is built on request */
  readonly _segment?: unknown;
}

/** @internal whether `value` declares the {@link Recordable} marker (an overloaded value) */
export function isRecordable(value: unknown): value is Recordable {
  return typeof value === "object" && value !== null && recordable in value && value[recordable] === true;
}

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
  /**
   * Which dependencies' first-order adjoints `evaluateAdjAndHessian` (FusedSecondOrder) is asked for
   * (absent: those `needed` marks). A Hessian action's sweep leaves the controls' out (nothing reads
   * them); a block may compute them anyway, and the sweep drops them.
   */
  readonly adjNeeded?: readonly boolean[];
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
 * type In = readonly [number]; // an AdjFloat dependency is saved as a number
 * type Out = readonly [number];
 * class Cube extends Block<In, Out> {
 *   recompute({ inputs: [x] }: RecomputeContext<In>): Out {
 *     return [x * x * x];
 *   }
 *   override evaluateTlm({ inputs: [x], tlmInputs: [xdot] }: TlmContext<In, Out>): Seeds<Out> {
 *     return [xdot === undefined ? undefined : 3 * x * x * xdot];
 *   }
 *   override evaluateAdj({ inputs: [x], adjInputs: [ybar] }: AdjContext<In, Out>): Seeds<In> {
 *     return [ybar === undefined ? undefined : 3 * x * x * ybar];
 *   }
 * }
 * const block = new Cube();
 * block.addDependency(x);
 * const y = block.addOutput(new AdjFloat(x.value ** 3));
 * recordBlock(block);
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
  addDependency(value: Recordable | BlockVariable): void {
    if (value instanceof BlockVariable) this.dependencies.push(value);
    else if (isRecordable(value)) this.dependencies.push(value.blockVariable);
    else throw new TsadjointError(`${this.name}.addDependency`, "a dependency must be an overloaded value");
  }

  /**
   * Declares that this block produced `value`, linking the value to the tape. Returns the value.
   *
   * @example
   * const y = block.addOutput(new AdjFloat(3));
   */
  addOutput<T extends Recordable>(value: T): T {
    if (!isRecordable(value)) {
      throw new TsadjointError(
        `${this.name}.addOutput`,
        "an output must be an overloaded value (AdjFloat, NDArray, ...)",
      );
    }
    if (value._blockVariable !== undefined || value._segment !== undefined) {
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
