/**
 * @file The elementwise part of `tsadjoint/numpy`: NumPy's names for elementwise functions, with
 * broadcasting. Plain numbers in give plain numbers out (nothing recorded); an AdjFloat gives an AdjFloat
 * and an NDArray an NDArray, recording one block. Every function takes a trailing `{ tape }` to record on
 * another tape than the working one (`np.sin(x, { tape })`). Each function is declared by its rule (the
 * derivative table in `ops/elementwise-rules.ts`) through one factory per arity.
 */

import { applyBinary, applyUnary, type ElementwiseOperand } from "../ops/elementwise.js";
import { type BinaryRule, binaryRules, type UnaryRule, unaryRules } from "../ops/elementwise-rules.js";
import { onTape, tapeOnly } from "../ops/tape-option.js";
import type { TapeOption } from "../tape/tape.js";
import type { AdjFloat } from "../values/adj-float.js";
import type { NDArray } from "../values/ndarray.js";

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

/**
 * A unary elementwise function of `tsadjoint/numpy` (`np.sin`, `np.exp`, ...): a number gives a number, an
 * AdjFloat an AdjFloat, an NDArray an NDArray; `{ tape }` records on that tape.
 *
 * @example
 * const f: UnaryFunction = np.tanh;
 * f(np.array([0, 1])); // NDArray
 */
export type UnaryFunction = <X extends ElementwiseOperand>(x: X, options?: TapeOption) => UnaryResult<X>;

/**
 * A binary elementwise function of `tsadjoint/numpy` (`np.add`, `np.power`, ...), with NumPy broadcasting;
 * `{ tape }` records on that tape.
 *
 * @example
 * const g: BinaryFunction = np.hypot;
 * g(new AdjFloat(3), 4); // AdjFloat(5)
 */
export type BinaryFunction = <A extends ElementwiseOperand, B extends ElementwiseOperand>(
  a: A,
  b: B,
  options?: TapeOption,
) => BinaryResult<A, B>;

/** The `np` function of a unary rule. */
function unaryFunction(rule: UnaryRule): UnaryFunction {
  function apply<X extends ElementwiseOperand>(x: X, options?: TapeOption): UnaryResult<X>;
  function apply(x: ElementwiseOperand, options?: TapeOption): ElementwiseOperand {
    if (options === undefined) return applyUnary(rule, x);
    const tape = tapeOnly(`np.${rule.name}`, options);
    return onTape(tape, () => applyUnary(rule, x));
  }
  return apply;
}

/** The `np` function of a binary rule. */
function binaryFunction(rule: BinaryRule): BinaryFunction {
  function apply<A extends ElementwiseOperand, B extends ElementwiseOperand>(
    a: A,
    b: B,
    options?: TapeOption,
  ): BinaryResult<A, B>;
  function apply(a: ElementwiseOperand, b: ElementwiseOperand, options?: TapeOption): ElementwiseOperand {
    if (options === undefined) return applyBinary(rule, a, b);
    const tape = tapeOnly(`np.${rule.name}`, options);
    return onTape(tape, () => applyBinary(rule, a, b));
  }
  return apply;
}

/**
 * a + b.
 *
 * @function
 * @example
 * np.add(x, 1)
 */
export const add = binaryFunction(binaryRules.add);

/**
 * a - b.
 *
 * @function
 * @example
 * np.subtract(x, 1)
 */
export const subtract = binaryFunction(binaryRules.subtract);

/**
 * a * b.
 *
 * @function
 * @example
 * np.multiply(x, y)
 */
export const multiply = binaryFunction(binaryRules.multiply);

/**
 * a / b.
 *
 * @function
 * @example
 * np.divide(x, 2)
 */
export const divide = binaryFunction(binaryRules.divide);

/**
 * a ** b.
 *
 * @function
 * @example
 * np.power(x, 3)
 */
export const power = binaryFunction(binaryRules.power);

/**
 * atan2(a, b), the angle of the point (b, a).
 *
 * @function
 * @example
 * np.arctan2(y, x)
 */
export const arctan2 = binaryFunction(binaryRules.arctan2);

/**
 * sqrt(a^2 + b^2).
 *
 * @function
 * @example
 * np.hypot(x, y)
 */
export const hypot = binaryFunction(binaryRules.hypot);

/**
 * Elementwise minimum (derivative split evenly at ties).
 *
 * @function
 * @example
 * np.minimum(x, 0)
 */
export const minimum = binaryFunction(binaryRules.minimum);

/**
 * Elementwise maximum (derivative split evenly at ties).
 *
 * @function
 * @example
 * np.maximum(x, 0)
 */
export const maximum = binaryFunction(binaryRules.maximum);

/**
 * -x.
 *
 * @function
 * @example
 * np.negative(x)
 */
export const negative = unaryFunction(unaryRules.negative);

/**
 * |x|.
 *
 * @function
 * @example
 * np.absolute(x)
 */
export const absolute = unaryFunction(unaryRules.absolute);

/**
 * |x| (NumPy alias of absolute).
 *
 * @function
 * @example
 * np.abs(x)
 */
export const abs = absolute;

/**
 * e^x.
 *
 * @function
 * @example
 * np.exp(x)
 */
export const exp = unaryFunction(unaryRules.exp);

/**
 * e^x - 1, accurate near 0.
 *
 * @function
 * @example
 * np.expm1(x)
 */
export const expm1 = unaryFunction(unaryRules.expm1);

/**
 * Natural logarithm.
 *
 * @function
 * @example
 * np.log(x)
 */
export const log = unaryFunction(unaryRules.log);

/**
 * ln(1 + x), accurate near 0.
 *
 * @function
 * @example
 * np.log1p(x)
 */
export const log1p = unaryFunction(unaryRules.log1p);

/**
 * Base-2 logarithm.
 *
 * @function
 * @example
 * np.log2(x)
 */
export const log2 = unaryFunction(unaryRules.log2);

/**
 * Base-10 logarithm.
 *
 * @function
 * @example
 * np.log10(x)
 */
export const log10 = unaryFunction(unaryRules.log10);

/**
 * Square root.
 *
 * @function
 * @example
 * np.sqrt(x)
 */
export const sqrt = unaryFunction(unaryRules.sqrt);

/**
 * Cube root.
 *
 * @function
 * @example
 * np.cbrt(x)
 */
export const cbrt = unaryFunction(unaryRules.cbrt);

/**
 * x^2.
 *
 * @function
 * @example
 * np.square(x)
 */
export const square = unaryFunction(unaryRules.square);

/**
 * 1/x.
 *
 * @function
 * @example
 * np.reciprocal(x)
 */
export const reciprocal = unaryFunction(unaryRules.reciprocal);

/**
 * Sine.
 *
 * @function
 * @example
 * np.sin(x)
 */
export const sin = unaryFunction(unaryRules.sin);

/**
 * Cosine.
 *
 * @function
 * @example
 * np.cos(x)
 */
export const cos = unaryFunction(unaryRules.cos);

/**
 * Tangent.
 *
 * @function
 * @example
 * np.tan(x)
 */
export const tan = unaryFunction(unaryRules.tan);

/**
 * Inverse sine.
 *
 * @function
 * @example
 * np.arcsin(x)
 */
export const arcsin = unaryFunction(unaryRules.arcsin);

/**
 * Inverse cosine.
 *
 * @function
 * @example
 * np.arccos(x)
 */
export const arccos = unaryFunction(unaryRules.arccos);

/**
 * Inverse tangent.
 *
 * @function
 * @example
 * np.arctan(x)
 */
export const arctan = unaryFunction(unaryRules.arctan);

/**
 * Hyperbolic sine.
 *
 * @function
 * @example
 * np.sinh(x)
 */
export const sinh = unaryFunction(unaryRules.sinh);

/**
 * Hyperbolic cosine.
 *
 * @function
 * @example
 * np.cosh(x)
 */
export const cosh = unaryFunction(unaryRules.cosh);

/**
 * Hyperbolic tangent.
 *
 * @function
 * @example
 * np.tanh(x)
 */
export const tanh = unaryFunction(unaryRules.tanh);

/**
 * Inverse hyperbolic sine.
 *
 * @function
 * @example
 * np.arcsinh(x)
 */
export const arcsinh = unaryFunction(unaryRules.arcsinh);

/**
 * Inverse hyperbolic cosine.
 *
 * @function
 * @example
 * np.arccosh(x)
 */
export const arccosh = unaryFunction(unaryRules.arccosh);

/**
 * Inverse hyperbolic tangent.
 *
 * @function
 * @example
 * np.arctanh(x)
 */
export const arctanh = unaryFunction(unaryRules.arctanh);
