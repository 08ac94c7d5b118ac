/** @file BlockVariable: one value as the tape saw it, with its adjoint, tangent-linear and Hessian slots. */
import { InvalidArgumentError } from "../errors.js";
import type { Block } from "./block.js";

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
  /** First-order adjoint (reverse sweep). */
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
    if (block !== undefined && typeof (block as Partial<Block> | null)?.recompute !== "function") {
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
