/** @file Control: marks a value as an input the derivative is taken with respect to. */
import { InvalidArgumentError } from "../errors.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { OverloadedValue } from "../values/overloaded.js";
import { describeType, wrapRaw } from "../values/space.js";

/**
 * A control: a value the functional is differentiated with respect to, and that a ReducedFunctional
 * can set to new values. It holds the value's tape record; the value object itself is never changed.
 *
 * @example
 * const x = new AdjFloat(1.5);
 * const J = np.sin(x);
 * computeGradient(J, new Control(x)); // AdjFloat(cos(1.5))
 */
export class Control<T extends OverloadedValue = OverloadedValue> {
  /** The value given to the constructor. */
  readonly value: T;

  constructor(value: T) {
    if (!(value instanceof OverloadedValue)) {
      throw new InvalidArgumentError(
        "new Control",
        `a control needs an overloaded value (AdjFloat, NDArray, or a registered type), got ${describeType(value)}; ` +
          "wrap a number with new AdjFloat(x) before computing with it",
      );
    }
    this.value = value;
  }

  /** The tape's record of the control's value. */
  get blockVariable(): BlockVariable {
    return this.value.blockVariable;
  }

  /**
   * The value the tape holds for this control now (after a replay at new values it differs from `value`).
   *
   * @example
   * rf.evaluate(2); control.tapeValue(); // AdjFloat(2)
   */
  tapeValue(): T {
    // cast: wrapRaw rebuilds the registered type of the raw value the tape holds for this control, the type
    // of `value` (a replay stores values of the same type and shape)
    return wrapRaw(this.blockVariable.saved, "Control.tapeValue") as T;
  }
}
