/**
 * @file `defineElementwise`: an elementwise operation declared by its value and its first and second
 * derivatives (the table the built-in elementwise operations are declared with, `ops/elementwise-rules.ts`),
 * recorded by the same blocks as `np.sin` or `np.multiply`: all four modes, scalars and arrays, NumPy
 * broadcasting for two operands, and the Hessian written once (as f'').
 */
import { InvalidArgumentError } from "../errors.js";
import { applyBinary, applyUnary, type ElementwiseOperand } from "../ops/elementwise.js";
import type { BinaryRule, UnaryRule } from "../ops/elementwise-rules.js";
import { onTape, tapeOnly } from "../ops/tape-option.js";
import type { TapeOption } from "../tape/tape.js";
import type { AdjFloat } from "../values/adj-float.js";
import type { NDArray } from "../values/ndarray.js";
import { describeType } from "../values/space.js";

/**
 * A unary elementwise operation y = f(x): the value and the first and second derivatives, each a function
 * of the entry x and (to save work) the value y = f(x).
 */
export interface UnaryElementwiseDefinition {
  /** The block name on the tape and in messages. */
  readonly name: string;
  /** y = f(x). */
  f(x: number): number;
  /** dy/dx at x (y = f(x) is given too). */
  df(x: number, y: number): number;
  /** d2y/dx2 at x (y = f(x) is given too). */
  d2f(x: number, y: number): number;
}

/**
 * A binary elementwise operation z = f(a, b): the value, both first partial derivatives and the three
 * second ones, each a function of the entries a, b and (to save work) the value z = f(a, b).
 */
export interface BinaryElementwiseDefinition {
  /** The block name on the tape and in messages. */
  readonly name: string;
  /** z = f(a, b). */
  f(a: number, b: number): number;
  /** dz/da. */
  da(a: number, b: number, z: number): number;
  /** dz/db. */
  db(a: number, b: number, z: number): number;
  /** d2z/da2. */
  daa(a: number, b: number, z: number): number;
  /** d2z/da db. */
  dab(a: number, b: number, z: number): number;
  /** d2z/db2. */
  dbb(a: number, b: number, z: number): number;
}

/**
 * A unary elementwise operation made by `defineElementwise`: a number gives a number (nothing recorded),
 * an AdjFloat an AdjFloat, an NDArray an NDArray (one block recorded while annotation is on).
 */
export interface UnaryElementwiseOperation {
  (x: number, options?: TapeOption): number;
  (x: AdjFloat, options?: TapeOption): AdjFloat;
  (x: NDArray, options?: TapeOption): NDArray;
  (x: ElementwiseOperand, options?: TapeOption): ElementwiseOperand;
  /** The declaration. */
  readonly definition: UnaryElementwiseDefinition;
}

/**
 * A binary elementwise operation made by `defineElementwise`, with NumPy broadcasting: two numbers give a
 * number; otherwise an NDArray when either operand is one, else an AdjFloat (a number operand is a constant).
 */
export interface BinaryElementwiseOperation {
  (a: number, b: number, options?: TapeOption): number;
  (a: NDArray, b: ElementwiseOperand, options?: TapeOption): NDArray;
  (a: ElementwiseOperand, b: NDArray, options?: TapeOption): NDArray;
  (a: AdjFloat, b: AdjFloat | number, options?: TapeOption): AdjFloat;
  (a: AdjFloat | number, b: AdjFloat, options?: TapeOption): AdjFloat;
  (a: ElementwiseOperand, b: ElementwiseOperand, options?: TapeOption): ElementwiseOperand;
  /** The declaration. */
  readonly definition: BinaryElementwiseDefinition;
}

/** The smoothness interval of a user rule is unknown: the whole line (only the built-ins' tests read it). */
const WHOLE_LINE: readonly [number, number] = [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];

/**
 * Declares an elementwise operation from its value and derivatives, as pyadjoint users register an
 * operator: give `f`, `df`, `d2f` for y = f(x), or `f`, `da`, `db`, `daa`, `dab`, `dbb` for z = f(a, b).
 * The result records the same blocks as the built-in elementwise operations (`np.exp`, `np.multiply`):
 * TLM ydot = f' xdot, adjoint xbar = f' ybar, Hessian xhat = f' yhat + f'' ybar xdot (the second-order
 * term comes from `d2f` alone), entry by entry on arrays, with broadcasting of two operands. Check the
 * derivatives with `assertRule`. Each call takes `{ tape }` as its last argument.
 *
 * @example
 * const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
 * const softplus = defineElementwise({
 *   name: "softplus",
 *   f: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
 *   df: (x) => sigmoid(x),
 *   d2f: (x) => sigmoid(x) * (1 - sigmoid(x)),
 * });
 * softplus(new AdjFloat(0.5)); // an AdjFloat, recorded as one "softplus" block
 * softplus(np.array([-1, 0, 1])); // an NDArray
 *
 * const hypot = defineElementwise({
 *   name: "hypot",
 *   f: (a, b) => Math.hypot(a, b),
 *   da: (a, _b, z) => a / z,
 *   db: (_a, b, z) => b / z,
 *   daa: (_a, b, z) => (b * b) / (z * z * z),
 *   dab: (a, b, z) => (-a * b) / (z * z * z),
 *   dbb: (a, _b, z) => (a * a) / (z * z * z),
 * });
 * hypot(np.array([[3], [5]]), np.array([4, 12])); // broadcast to shape [2, 2]
 */
export function defineElementwise(definition: UnaryElementwiseDefinition): UnaryElementwiseOperation;
export function defineElementwise(definition: BinaryElementwiseDefinition): BinaryElementwiseOperation;
export function defineElementwise(
  definition: UnaryElementwiseDefinition | BinaryElementwiseDefinition,
): UnaryElementwiseOperation | BinaryElementwiseOperation {
  checkDefinition(definition);
  return "df" in definition ? unaryOperation(definition) : binaryOperation(definition);
}

function unaryOperation(definition: UnaryElementwiseDefinition): UnaryElementwiseOperation {
  const rule: UnaryRule = {
    name: definition.name,
    f: (x) => definition.f(x),
    df: (x, y) => definition.df(x, y),
    d2f: (x, y) => definition.d2f(x, y),
    domain: WHOLE_LINE,
  };
  function operation(x: number, options?: TapeOption): number;
  function operation(x: AdjFloat, options?: TapeOption): AdjFloat;
  function operation(x: NDArray, options?: TapeOption): NDArray;
  function operation(x: ElementwiseOperand, options?: TapeOption): ElementwiseOperand;
  function operation(x: ElementwiseOperand, options?: TapeOption): ElementwiseOperand {
    return onTape(tapeOnly(rule.name, options), () => applyUnary(rule, x));
  }
  return Object.assign(operation, { definition });
}

function binaryOperation(definition: BinaryElementwiseDefinition): BinaryElementwiseOperation {
  const rule: BinaryRule = {
    name: definition.name,
    f: (a, b) => definition.f(a, b),
    da: (a, b, z) => definition.da(a, b, z),
    db: (a, b, z) => definition.db(a, b, z),
    daa: (a, b, z) => definition.daa(a, b, z),
    dab: (a, b, z) => definition.dab(a, b, z),
    dbb: (a, b, z) => definition.dbb(a, b, z),
    domain: [WHOLE_LINE, WHOLE_LINE],
  };
  function operation(a: number, b: number, options?: TapeOption): number;
  function operation(a: NDArray, b: ElementwiseOperand, options?: TapeOption): NDArray;
  function operation(a: ElementwiseOperand, b: NDArray, options?: TapeOption): NDArray;
  function operation(a: AdjFloat, b: AdjFloat | number, options?: TapeOption): AdjFloat;
  function operation(a: AdjFloat | number, b: AdjFloat, options?: TapeOption): AdjFloat;
  function operation(a: ElementwiseOperand, b: ElementwiseOperand, options?: TapeOption): ElementwiseOperand;
  function operation(a: ElementwiseOperand, b: ElementwiseOperand, options?: TapeOption): ElementwiseOperand {
    return onTape(tapeOnly(rule.name, options), () => applyBinary(rule, a, b));
  }
  return Object.assign(operation, { definition });
}

const UNARY_KEYS = ["f", "df", "d2f"] as const;
const BINARY_KEYS = ["f", "da", "db", "daa", "dab", "dbb"] as const;

function checkDefinition(definition: unknown): void {
  if (typeof definition !== "object" || definition === null) {
    throw new InvalidArgumentError(
      "defineElementwise",
      `expected { name, f, df, d2f } or { name, f, da, db, daa, dab, dbb }, got ${describeType(definition)}`,
    );
  }
  // cast: the fields of an unvalidated user object, each checked below (an `in` test cannot narrow a key list)
  const record = definition as Record<string, unknown>;
  if (typeof record.name !== "string" || record.name === "") {
    throw new InvalidArgumentError("defineElementwise", "name must be a non-empty string");
  }
  const keys = "df" in record ? UNARY_KEYS : BINARY_KEYS;
  for (const key of keys) {
    if (typeof record[key] !== "function") {
      const kind = keys === UNARY_KEYS ? "a unary operation" : "a binary operation (or df for a unary one)";
      throw new InvalidArgumentError(
        `defineElementwise(${record.name})`,
        `${key} must be a function of numbers, for ${kind}`,
      );
    }
  }
}
