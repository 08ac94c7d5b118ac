/**
 * @file The elementwise part of `tsadjoint/numpy`: NumPy's names for elementwise functions, with
 * broadcasting. Plain numbers in give plain numbers out (nothing recorded); an AdjFloat gives an AdjFloat
 * and an NDArray an NDArray, recording one block.
 */

import { applyBinary, applyUnary, type ElementwiseOperand } from "../ops/elementwise.js";
import { binaryRules, unaryRules } from "../ops/elementwise-rules.js";
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
): UnaryResult<X> {
  return applyUnary(rule, x) as UnaryResult<X>;
}
function binary<A extends ScalarOperand, B extends ScalarOperand>(
  rule: (typeof binaryRules)[keyof typeof binaryRules],
  a: A,
  b: B,
): BinaryResult<A, B> {
  return applyBinary(rule, a, b) as BinaryResult<A, B>;
}

/** a + b. @example np.add(x, 1) */
export const add = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B) =>
  binary(binaryRules.add, a, b);
/** a - b. @example np.subtract(x, 1) */
export const subtract = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B) =>
  binary(binaryRules.subtract, a, b);
/** a * b. @example np.multiply(x, y) */
export const multiply = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B) =>
  binary(binaryRules.multiply, a, b);
/** a / b. @example np.divide(x, 2) */
export const divide = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B) =>
  binary(binaryRules.divide, a, b);
/** a ** b. @example np.power(x, 3) */
export const power = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B) =>
  binary(binaryRules.power, a, b);
/** atan2(a, b), the angle of the point (b, a). @example np.arctan2(y, x) */
export const arctan2 = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B) =>
  binary(binaryRules.arctan2, a, b);
/** sqrt(a^2 + b^2). @example np.hypot(x, y) */
export const hypot = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B) =>
  binary(binaryRules.hypot, a, b);
/** Elementwise minimum (derivative split evenly at ties). @example np.minimum(x, 0) */
export const minimum = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B) =>
  binary(binaryRules.minimum, a, b);
/** Elementwise maximum (derivative split evenly at ties). @example np.maximum(x, 0) */
export const maximum = <A extends ScalarOperand, B extends ScalarOperand>(a: A, b: B) =>
  binary(binaryRules.maximum, a, b);

/** -x. @example np.negative(x) */
export const negative = <X extends ScalarOperand>(x: X) => unary(unaryRules.negative, x);
/** |x|. @example np.absolute(x) */
export const absolute = <X extends ScalarOperand>(x: X) => unary(unaryRules.absolute, x);
/** |x| (NumPy alias of absolute). @example np.abs(x) */
export const abs = absolute;
/** e^x. @example np.exp(x) */
export const exp = <X extends ScalarOperand>(x: X) => unary(unaryRules.exp, x);
/** e^x - 1, accurate near 0. @example np.expm1(x) */
export const expm1 = <X extends ScalarOperand>(x: X) => unary(unaryRules.expm1, x);
/** Natural logarithm. @example np.log(x) */
export const log = <X extends ScalarOperand>(x: X) => unary(unaryRules.log, x);
/** ln(1 + x), accurate near 0. @example np.log1p(x) */
export const log1p = <X extends ScalarOperand>(x: X) => unary(unaryRules.log1p, x);
/** Base-2 logarithm. @example np.log2(x) */
export const log2 = <X extends ScalarOperand>(x: X) => unary(unaryRules.log2, x);
/** Base-10 logarithm. @example np.log10(x) */
export const log10 = <X extends ScalarOperand>(x: X) => unary(unaryRules.log10, x);
/** Square root. @example np.sqrt(x) */
export const sqrt = <X extends ScalarOperand>(x: X) => unary(unaryRules.sqrt, x);
/** Cube root. @example np.cbrt(x) */
export const cbrt = <X extends ScalarOperand>(x: X) => unary(unaryRules.cbrt, x);
/** x^2. @example np.square(x) */
export const square = <X extends ScalarOperand>(x: X) => unary(unaryRules.square, x);
/** 1/x. @example np.reciprocal(x) */
export const reciprocal = <X extends ScalarOperand>(x: X) => unary(unaryRules.reciprocal, x);
/** Sine. @example np.sin(x) */
export const sin = <X extends ScalarOperand>(x: X) => unary(unaryRules.sin, x);
/** Cosine. @example np.cos(x) */
export const cos = <X extends ScalarOperand>(x: X) => unary(unaryRules.cos, x);
/** Tangent. @example np.tan(x) */
export const tan = <X extends ScalarOperand>(x: X) => unary(unaryRules.tan, x);
/** Inverse sine. @example np.arcsin(x) */
export const arcsin = <X extends ScalarOperand>(x: X) => unary(unaryRules.arcsin, x);
/** Inverse cosine. @example np.arccos(x) */
export const arccos = <X extends ScalarOperand>(x: X) => unary(unaryRules.arccos, x);
/** Inverse tangent. @example np.arctan(x) */
export const arctan = <X extends ScalarOperand>(x: X) => unary(unaryRules.arctan, x);
/** Hyperbolic sine. @example np.sinh(x) */
export const sinh = <X extends ScalarOperand>(x: X) => unary(unaryRules.sinh, x);
/** Hyperbolic cosine. @example np.cosh(x) */
export const cosh = <X extends ScalarOperand>(x: X) => unary(unaryRules.cosh, x);
/** Hyperbolic tangent. @example np.tanh(x) */
export const tanh = <X extends ScalarOperand>(x: X) => unary(unaryRules.tanh, x);
/** Inverse hyperbolic sine. @example np.arcsinh(x) */
export const arcsinh = <X extends ScalarOperand>(x: X) => unary(unaryRules.arcsinh, x);
/** Inverse hyperbolic cosine. @example np.arccosh(x) */
export const arccosh = <X extends ScalarOperand>(x: X) => unary(unaryRules.arccosh, x);
/** Inverse hyperbolic tangent. @example np.arctanh(x) */
export const arctanh = <X extends ScalarOperand>(x: X) => unary(unaryRules.arctanh, x);
