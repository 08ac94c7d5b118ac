/** @file OverloadedValue: the base class of every value the tape can record (AdjFloat, NDArray, user types). */
import { type Recordable, recordable } from "../tape/block.js";
import { BlockVariable, droppedValues } from "../tape/block-variable.js";

/**
 * Base class of overloaded values. A value is immutable; its `blockVariable` links it to the tape and is
 * created on first use, so values that never meet the tape cost nothing. Subclass it (and register a
 * vector space for its raw value with `registerOverloadedType`) to make your own type differentiable.
 *
 * @example
 * class Pair extends OverloadedValue {
 *   constructor(readonly a: number, readonly b: number) { super(); }
 *   raw() { return this; }
 * }
 */
export abstract class OverloadedValue implements Recordable {
  /** The {@link Recordable} marker: the tape records overloaded values. */
  get [recordable](): true {
    return true;
  }

  /** @internal tape link, created lazily or attached by the block that produced the value */
  _blockVariable: BlockVariable | undefined = undefined;

  /** The value as the tape stores it (a number for AdjFloat; the object itself for arrays). */
  abstract raw(): unknown;

  /** The tape's record of this value (created on first use for independent values). */
  get blockVariable(): BlockVariable {
    let variable = this._blockVariable;
    if (variable === undefined) {
      variable = new BlockVariable(this.raw());
      this._blockVariable = variable;
    } else if (variable.saved === undefined && droppedValues.restore !== undefined) {
      droppedValues.restore(variable, () => this.raw());
    }
    return variable;
  }
}

/**
 * Whether `value` is an overloaded value (one that can be a control, a dependency or an output).
 *
 * @example
 * isOverloaded(new AdjFloat(1)); // true
 * isOverloaded(1); // false
 */
export function isOverloaded(value: unknown): value is OverloadedValue {
  return value instanceof OverloadedValue;
}
