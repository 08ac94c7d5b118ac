/** @file AdjFloat: the scalar overloaded value, with short arithmetic methods that record on the tape. */
import { TsadjointError } from "../errors.js";
import { applyBinary, applyUnary } from "../ops/elementwise.js";
import { binaryRules, unaryRules } from "../ops/elementwise-rules.js";
import { OverloadedValue } from "./overloaded.js";
import { registerOverloadedType, scalarSpace } from "./space.js";

/** A number or an AdjFloat: what scalar operations accept. */
export type Scalar = number | AdjFloat;

/**
 * A float whose operations are recorded on the working tape. Immutable: `.value` never changes (a replay
 * updates the tape's saved value, not the object). JavaScript's `+ - * /` operators cannot be overloaded,
 * so using an AdjFloat with them throws a TypeError instead of silently dropping the derivative: use the
 * methods (`x.mul(y).add(1)`) or `tsadjoint/numpy` (`np.add(x, 1)`).
 *
 * @example
 * const x = new AdjFloat(2);
 * const y = x.mul(x).add(np.sin(x)); // recorded
 * y.value; // 4 + sin(2)
 */
export class AdjFloat extends OverloadedValue {
  /** The number this value holds. */
  readonly value: number;

  constructor(value: number) {
    super();
    if (typeof value !== "number") {
      throw new TsadjointError("new AdjFloat", `expected a number, got ${typeof value}`);
    }
    this.value = value;
  }

  raw(): number {
    return this.value;
  }

  /** this + other */
  add(other: Scalar): AdjFloat {
    return applyBinary(binaryRules.add, this, other) as AdjFloat;
  }
  /** this - other */
  sub(other: Scalar): AdjFloat {
    return applyBinary(binaryRules.subtract, this, other) as AdjFloat;
  }
  /** this * other */
  mul(other: Scalar): AdjFloat {
    return applyBinary(binaryRules.multiply, this, other) as AdjFloat;
  }
  /** this / other */
  div(other: Scalar): AdjFloat {
    return applyBinary(binaryRules.divide, this, other) as AdjFloat;
  }
  /** this ** other */
  pow(other: Scalar): AdjFloat {
    return applyBinary(binaryRules.power, this, other) as AdjFloat;
  }
  /** -this */
  neg(): AdjFloat {
    return applyUnary(unaryRules.negative, this) as AdjFloat;
  }
  /** |this| */
  abs(): AdjFloat {
    return applyUnary(unaryRules.absolute, this) as AdjFloat;
  }
  /** e^this */
  exp(): AdjFloat {
    return applyUnary(unaryRules.exp, this) as AdjFloat;
  }
  /** ln(this) */
  log(): AdjFloat {
    return applyUnary(unaryRules.log, this) as AdjFloat;
  }
  /** sqrt(this) */
  sqrt(): AdjFloat {
    return applyUnary(unaryRules.sqrt, this) as AdjFloat;
  }
  /** this^2 */
  square(): AdjFloat {
    return applyUnary(unaryRules.square, this) as AdjFloat;
  }
  /** sin(this) */
  sin(): AdjFloat {
    return applyUnary(unaryRules.sin, this) as AdjFloat;
  }
  /** cos(this) */
  cos(): AdjFloat {
    return applyUnary(unaryRules.cos, this) as AdjFloat;
  }
  /** tanh(this) */
  tanh(): AdjFloat {
    return applyUnary(unaryRules.tanh, this) as AdjFloat;
  }

  override toString(): string {
    return `AdjFloat(${this.value})`;
  }

  /** Refuses JavaScript arithmetic (which would drop the derivative); strings are allowed. */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === "string") return this.toString();
    throw new TypeError(
      "AdjFloat cannot be used with JavaScript operators (+ - * / <): the derivative would be lost. " +
        "Use x.add(y), x.mul(y), np.add(x, y), ... or read the number with x.value.",
    );
  }
}

registerOverloadedType<AdjFloat, number>({
  name: "AdjFloat",
  isRaw: (value): value is number => typeof value === "number",
  wrap: (raw) => new AdjFloat(raw),
  create: (value) => (typeof value === "number" ? new AdjFloat(value) : undefined),
  space: scalarSpace,
});
