/**
 * @file The elementwise part of `tsadjoint/numpy`: NumPy's names for elementwise functions, with
 * broadcasting. Plain numbers in give plain numbers out (nothing recorded); an AdjFloat gives an AdjFloat
 * and an NDArray an NDArray, recording one block. Every function takes a trailing `{ tape }` to record on
 * another tape than the working one (`np.sin(x, { tape })`).
 */

import { applyBinary, applyUnary, type ElementwiseOperand } from "../ops/elementwise.js";
import { binaryRules, unaryRules } from "../ops/elementwise-rules.js";
import { onTape, tapeOnly } from "../ops/tape-option.js";
import type { TapeOption } from "../tape/tape.js";
import type { AdjFloat } from "../values/adj-float.js";
import type { NDArray } from "../values/ndarray.js";

type ScalarOperand = ElementwiseOperand;

/** Result type of a unary function: NDArray for an array, number for a number, AdjFloat otherwise. */
export type UnaryResult<X> = X extends NDArray ? NDArray : X extends number ? number : AdjFloat;
/** Result type of a binary function: NDArray if either is an array, number if both are numbers, else AdjFloat. */
export type BinaryResult<A, B> = A extends NDArray
  ? NDArray
  : B extends NDArray
    ? NDArray
    : A extends number
      ? B extends number
        ? number
        : AdjFloat
      : AdjFloat;

function unary<X extends ScalarOperand>(
  rule: (typeof unaryRules)[keyof typeof unaryRules],
  x: X,
  options?: TapeOption,
): UnaryResult<X> {
  if (options === undefined) return applyUnary(rule, x) as UnaryResult<X>;
  const tape = tapeOnly(`np.${rule.name}`, options);
  return onTape(tape, () => applyUnary(rule, x)) as UnaryResult<X>;
}
function binary<A extends ScalarOperand, B extends ScalarOperand>(
  rule: (typeof binaryRules)[keyof typeof binaryRules],
  a: A,
  b: B,
  options?: TapeOption,
): BinaryResult<A, B> {
  if (options === undefined) return applyBinary(rule, a, b) as BinaryResult<A, B>;
  const tape = tapeOnly(`np.${rule.name}`, options);
  return onTape(tape, () => applyBinary(rule, a, b)) as BinaryResult<A, B>;
}

/** a + b. @example np.add(x, 1) */
export const add = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B, options?: TapeOption) =>
  binary(binaryRules.add, a, b, options);
/** a - b. @example np.subtract(x, 1) */
export const subtract = <A extends ScalarOperand, B extends ScalarOperand>(
  a: A,
  b: B,
  options?: TapeOption,
) => binary(binaryRules.subtract, a, b, options);
/** a * b. @example np.multiply(x, y) */
export const multiply = <A extends ScalarOperand, B extends ScalarOperand>(
  a: A,
  b: B,
  options?: TapeOption,
) => binary(binaryRules.multiply, a, b, options);
/** a / b. @example np.divide(x, 2) */
export const divide = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B, options?: TapeOption) =>
  binary(binaryRules.divide, a, b, options);
/** a ** b. @example np.power(x, 3) */
export const power = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B, options?: TapeOption) =>
  binary(binaryRules.power, a, b, options);
/** atan2(a, b), the angle of the point (b, a). @example np.arctan2(y, x) */
export const arctan2 = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B, options?: TapeOption) =>
  binary(binaryRules.arctan2, a, b, options);
/** sqrt(a^2 + b^2). @example np.hypot(x, y) */
export const hypot = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B, options?: TapeOption) =>
  binary(binaryRules.hypot, a, b, options);
/** Elementwise minimum (derivative split evenly at ties). @example np.minimum(x, 0) */
export const minimum = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B, options?: TapeOption) =>
  binary(binaryRules.minimum, a, b, options);
/** Elementwise maximum (derivative split evenly at ties). @example np.maximum(x, 0) */
export const maximum = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B, options?: TapeOption) =>
  binary(binaryRules.maximum, a, b, options);

/** -x. @example np.negative(x) */
export const negative = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.negative, x, options);
/** |x|. @example np.absolute(x) */
export const absolute = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.absolute, x, options);
/** |x| (NumPy alias of absolute). @example np.abs(x) */
export const abs = absolute;
/** e^x. @example np.exp(x) */
export const exp = <X extends ScalarOperand>(x: X, options?: TapeOption) => unary(unaryRules.exp, x, options);
/** e^x - 1, accurate near 0. @example np.expm1(x) */
export const expm1 = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.expm1, x, options);
/** Natural logarithm. @example np.log(x) */
export const log = <X extends ScalarOperand>(x: X, options?: TapeOption) => unary(unaryRules.log, x, options);
/** ln(1 + x), accurate near 0. @example np.log1p(x) */
export const log1p = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.log1p, x, options);
/** Base-2 logarithm. @example np.log2(x) */
export const log2 = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.log2, x, options);
/** Base-10 logarithm. @example np.log10(x) */
export const log10 = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.log10, x, options);
/** Square root. @example np.sqrt(x) */
export const sqrt = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.sqrt, x, options);
/** Cube root. @example np.cbrt(x) */
export const cbrt = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.cbrt, x, options);
/** x^2. @example np.square(x) */
export const square = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.square, x, options);
/** 1/x. @example np.reciprocal(x) */
export const reciprocal = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.reciprocal, x, options);
/** Sine. @example np.sin(x) */
export const sin = <X extends ScalarOperand>(x: X, options?: TapeOption) => unary(unaryRules.sin, x, options);
/** Cosine. @example np.cos(x) */
export const cos = <X extends ScalarOperand>(x: X, options?: TapeOption) => unary(unaryRules.cos, x, options);
/** Tangent. @example np.tan(x) */
export const tan = <X extends ScalarOperand>(x: X, options?: TapeOption) => unary(unaryRules.tan, x, options);
/** Inverse sine. @example np.arcsin(x) */
export const arcsin = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.arcsin, x, options);
/** Inverse cosine. @example np.arccos(x) */
export const arccos = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.arccos, x, options);
/** Inverse tangent. @example np.arctan(x) */
export const arctan = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.arctan, x, options);
/** Hyperbolic sine. @example np.sinh(x) */
export const sinh = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.sinh, x, options);
/** Hyperbolic cosine. @example np.cosh(x) */
export const cosh = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.cosh, x, options);
/** Hyperbolic tangent. @example np.tanh(x) */
export const tanh = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.tanh, x, options);
/** Inverse hyperbolic sine. @example np.arcsinh(x) */
export const arcsinh = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.arcsinh, x, options);
/** Inverse hyperbolic cosine. @example np.arccosh(x) */
export const arccosh = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.arccosh, x, options);
/** Inverse hyperbolic tangent. @example np.arctanh(x) */
export const arctanh = <X extends ScalarOperand>(x: X, options?: TapeOption) =>
  unary(unaryRules.arctanh, x, options);
