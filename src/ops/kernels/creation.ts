/** @file Array creation helpers: zeros, ones, full, *Like variants, arange, linspace, eye. */

import { invalidArgument } from "../../errors.js";
import { checkArraySize, NDArray, shapeSize, validateShape } from "../../values/ndarray.js";

/**
 * A new array of the given shape filled with zeros.
 * @example
 * zeros([2, 3]).toArray(); // [[0, 0, 0], [0, 0, 0]]
 */
export function zeros(shape: readonly number[]): NDArray {
  validateShape(shape, "zeros");
  return new NDArray(new Float64Array(shapeSize(shape)), shape);
}

/**
 * A new array of the given shape filled with ones.
 * @example
 * ones([2]).toArray(); // [1, 1]
 */
export function ones(shape: readonly number[]): NDArray {
  return full(shape, 1);
}

/**
 * A new array of the given shape filled with `value`.
 * @example
 * full([2], 7).toArray(); // [7, 7]
 */
export function full(shape: readonly number[], value: number): NDArray {
  validateShape(shape, "full");
  const data = new Float64Array(shapeSize(shape));
  if (value !== 0) data.fill(value);
  return new NDArray(data, shape);
}

/**
 * Zeros with the shape of `a`.
 * @example
 * zerosLike(ones([2, 2])).toArray(); // [[0, 0], [0, 0]]
 */
export function zerosLike(a: NDArray): NDArray {
  return new NDArray(new Float64Array(a.size), a.shape);
}

/**
 * Ones with the shape of `a`.
 * @example
 * onesLike(zeros([3])).toArray(); // [1, 1, 1]
 */
export function onesLike(a: NDArray): NDArray {
  return full(a.shape, 1);
}

/**
 * `value` everywhere, with the shape of `a`.
 * @example
 * fullLike(zeros([2]), 5).toArray(); // [5, 5]
 */
export function fullLike(a: NDArray, value: number): NDArray {
  return full(a.shape, value);
}

/**
 * Evenly spaced values in `[start, stop)` (NumPy `arange`); with one argument the range is `[0, start)`.
 * @example
 * arange(4).toArray(); // [0, 1, 2, 3]
 * arange(1, 2, 0.25).toArray(); // [1, 1.25, 1.5, 1.75]
 */
export function arange(start: number, stop?: number, step = 1): NDArray {
  let first = start;
  let last = stop;
  if (last === undefined) {
    last = first;
    first = 0;
  }
  if (step === 0 || !Number.isFinite(step))
    throw invalidArgument(`arange: step must be finite and non-zero, got ${step}`);
  if (!Number.isFinite(first) || !Number.isFinite(last)) {
    throw invalidArgument(`arange: start and stop must be finite, got ${first} and ${last}`);
  }
  const length = Math.max(0, Math.ceil((last - first) / step));
  checkArraySize("arange", length);
  const data = new Float64Array(length);
  for (let i = 0; i < length; i++) data[i] = first + i * step;
  return new NDArray(data, [length]);
}

/**
 * `num` evenly spaced values from `start` to `stop` (inclusive when `endpoint`), like NumPy `linspace`.
 * @example
 * linspace(0, 1, 5).toArray(); // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, stop: number, num = 50, endpoint = true): NDArray {
  if (!Number.isInteger(num) || num < 0)
    throw invalidArgument(`linspace: num must be a non-negative integer, got ${num}`);
  checkArraySize("linspace", num);
  const data = new Float64Array(num);
  const divisions = endpoint ? num - 1 : num;
  const step = divisions > 0 ? (stop - start) / divisions : 0;
  for (let i = 0; i < num; i++) data[i] = start + i * step;
  if (endpoint && num > 1) data[num - 1] = stop;
  return new NDArray(data, [num]);
}

/**
 * An `n` x `m` matrix with ones on diagonal `k` (0 = main, >0 above, <0 below) and zeros elsewhere.
 * @example
 * eye(2).toArray(); // [[1, 0], [0, 1]]
 */
export function eye(n: number, m?: number, k = 0): NDArray {
  const cols = m ?? n;
  validateShape([n, cols], "eye");
  if (!Number.isInteger(k)) throw invalidArgument(`eye: diagonal offset k must be an integer, got ${k}`);
  const data = new Float64Array(n * cols);
  for (let i = Math.max(0, -k); i < n && i + k < cols; i++) data[i * cols + i + k] = 1;
  return new NDArray(data, [n, cols]);
}
