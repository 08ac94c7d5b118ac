/** @file AdjFloat: the scalar overloaded value, with short arithmetic methods that record on the tape. */
import { TsadjointError } from "../errors.js";
import type { BlockVariable } from "../tape/block.js";
import type { ScalarSegment } from "../tape/scalar-segment.js";
import { OverloadedValue } from "./overloaded.js";
import { registerOverloadedType, scalarSpace } from "./space.js";

/** A number or an AdjFloat: what scalar operations accept. */
export type Scalar = number | AdjFloat;

/** @internal The binary elementwise operations AdjFloat has methods for (NumPy names). */
export type AdjFloatBinaryName = "add" | "subtract" | "multiply" | "divide" | "power";
/** @internal The unary elementwise operations AdjFloat has methods for (NumPy names). */
export type AdjFloatUnaryName =
  | "negative"
  | "absolute"
  | "exp"
  | "log"
  | "sqrt"
  | "square"
  | "sin"
  | "cos"
  | "tanh";

/**
 * @internal The recorded arithmetic AdjFloat's methods call: the elementwise operations of `ops/`, which
 * register it when they load (values/ sits below ops/ and names none of its modules).
 */
export interface AdjFloatArithmetic {
  binary(name: AdjFloatBinaryName, a: AdjFloat, b: Scalar): AdjFloat;
  unary(name: AdjFloatUnaryName, x: AdjFloat): AdjFloat;
}

let arithmetic: AdjFloatArithmetic | undefined;

/**
 * @internal Installs the recorded arithmetic of AdjFloat's methods (ops/elementwise does, when it loads).
 * @example
 * registerAdjFloatArithmetic({ binary: (name, a, b) => applyBinary(binaryRules[name], a, b), unary: ... });
 */
export function registerAdjFloatArithmetic(implementation: AdjFloatArithmetic): void {
  arithmetic = implementation;
}

/** The registered arithmetic, or an error naming the method and the fix. */
function recorded(method: string): AdjFloatArithmetic {
  if (arithmetic === undefined) {
    throw new TsadjointError(
      `AdjFloat.${method}`,
      "the elementwise operations are not loaded: import AdjFloat from 'tsadjoint' (or load 'tsadjoint/numpy')",
    );
  }
  return arithmetic;
}

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
  /** @internal the scalar segment that recorded this value (its variable is built on request) */
  _segment: ScalarSegment | undefined = undefined;
  /** @internal the value's operation in `_segment` */
  _slot = 0;

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

  /** The tape's record of this value (built on first use for a value a scalar segment recorded). */
  override get blockVariable(): BlockVariable {
    const segment = this._segment;
    if (segment !== undefined && this._blockVariable === undefined) {
      this._blockVariable = segment.variableOf(this._slot);
    }
    return super.blockVariable;
  }

  /** this + other */
  add(other: Scalar): AdjFloat {
    return recorded("add").binary("add", this, other);
  }
  /** this - other */
  sub(other: Scalar): AdjFloat {
    return recorded("sub").binary("subtract", this, other);
  }
  /** this * other */
  mul(other: Scalar): AdjFloat {
    return recorded("mul").binary("multiply", this, other);
  }
  /** this / other */
  div(other: Scalar): AdjFloat {
    return recorded("div").binary("divide", this, other);
  }
  /** this ** other */
  pow(other: Scalar): AdjFloat {
    return recorded("pow").binary("power", this, other);
  }
  /** -this */
  neg(): AdjFloat {
    return recorded("neg").unary("negative", this);
  }
  /** |this| */
  abs(): AdjFloat {
    return recorded("abs").unary("absolute", this);
  }
  /** e^this */
  exp(): AdjFloat {
    return recorded("exp").unary("exp", this);
  }
  /** ln(this) */
  log(): AdjFloat {
    return recorded("log").unary("log", this);
  }
  /** sqrt(this) */
  sqrt(): AdjFloat {
    return recorded("sqrt").unary("sqrt", this);
  }
  /** this^2 */
  square(): AdjFloat {
    return recorded("square").unary("square", this);
  }
  /** sin(this) */
  sin(): AdjFloat {
    return recorded("sin").unary("sin", this);
  }
  /** cos(this) */
  cos(): AdjFloat {
    return recorded("cos").unary("cos", this);
  }
  /** tanh(this) */
  tanh(): AdjFloat {
    return recorded("tanh").unary("tanh", this);
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
