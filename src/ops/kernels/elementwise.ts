/** @file Fast elementwise kernels: broadcast binary arithmetic/comparisons and common unary math functions. */

import { asNDArray, NDArray } from "../../values/ndarray.js";
import { type BinaryRunKernel, binaryBroadcast } from "./broadcast.js";
import { expInto, logInto, powRun } from "./transcendental.js";

const addRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] + y[j];
};

/**
 * Elementwise `a + b` with broadcasting.
 * @example
 * add(array([1, 2]), 10).toArray(); // [11, 12]
 */
export function add(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, addRun, "add");
}

const subtractRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] - y[j];
};

/**
 * Elementwise `a - b` with broadcasting.
 * @example
 * subtract(array([1, 2]), 1).toArray(); // [0, 1]
 */
export function subtract(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, subtractRun, "subtract");
}

const multiplyRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] * y[j];
};

/**
 * Elementwise `a * b` with broadcasting.
 * @example
 * multiply(array([1, 2]), array([[1], [2]])).toArray(); // [[1, 2], [2, 4]]
 */
export function multiply(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, multiplyRun, "multiply");
}

const divideRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] / y[j];
};

/**
 * Elementwise `a / b` with broadcasting (IEEE semantics: x/0 = ±Infinity or NaN).
 * @example
 * divide(array([1, 2]), 2).toArray(); // [0.5, 1]
 */
export function divide(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, divideRun, "divide");
}

const powerRun: BinaryRunKernel = powRun;

/**
 * Elementwise `a ** b` with broadcasting (JS `**` semantics).
 * @example
 * power(array([2, 3]), 2).toArray(); // [4, 9]
 */
export function power(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, powerRun, "power");
}

const maximumRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = Math.max(x[i], y[j]);
};

/**
 * Elementwise maximum with broadcasting (NaN propagates).
 * @example
 * maximum(array([1, 5]), 3).toArray(); // [3, 5]
 */
export function maximum(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, maximumRun, "maximum");
}

const minimumRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = Math.min(x[i], y[j]);
};

/**
 * Elementwise minimum with broadcasting (NaN propagates).
 * @example
 * minimum(array([1, 5]), 3).toArray(); // [1, 3]
 */
export function minimum(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, minimumRun, "minimum");
}

const arctan2Run: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = Math.atan2(x[i], y[j]);
};

/**
 * Elementwise `atan2(a, b)` with broadcasting.
 * @example
 * arctan2(array([1]), array([1])).toArray(); // [0.785...]
 */
export function arctan2(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, arctan2Run, "arctan2");
}

const greaterRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] > y[j] ? 1 : 0;
};

/**
 * Elementwise `a > b` as 1/0 with broadcasting.
 * @example
 * greater(array([1, 5]), 3).toArray(); // [0, 1]
 */
export function greater(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, greaterRun, "greater");
}

const greaterEqualRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] >= y[j] ? 1 : 0;
};

/**
 * Elementwise `a >= b` as 1/0 with broadcasting.
 * @example
 * greaterEqual(array([3, 5]), 3).toArray(); // [1, 1]
 */
export function greaterEqual(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, greaterEqualRun, "greaterEqual");
}

const lessRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] < y[j] ? 1 : 0;
};

/**
 * Elementwise `a < b` as 1/0 with broadcasting.
 * @example
 * less(array([1, 5]), 3).toArray(); // [1, 0]
 */
export function less(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, lessRun, "less");
}

const lessEqualRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] <= y[j] ? 1 : 0;
};

/**
 * Elementwise `a <= b` as 1/0 with broadcasting.
 * @example
 * lessEqual(array([3, 5]), 3).toArray(); // [1, 0]
 */
export function lessEqual(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, lessEqualRun, "lessEqual");
}

const equalRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] === y[j] ? 1 : 0;
};

/**
 * Elementwise `a == b` as 1/0 with broadcasting.
 * @example
 * equal(array([3, 5]), 3).toArray(); // [1, 0]
 */
export function equal(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, equalRun, "equal");
}

const notEqualRun: BinaryRunKernel = (out, o, x, i, si, y, j, sj, n) => {
  for (let t = 0; t < n; t++, i += si, j += sj) out[o + t] = x[i] !== y[j] ? 1 : 0;
};

/**
 * Elementwise `a != b` as 1/0 with broadcasting.
 * @example
 * notEqual(array([3, 5]), 3).toArray(); // [0, 1]
 */
export function notEqual(a: NDArray | number, b: NDArray | number): NDArray {
  return binaryBroadcast(a, b, notEqualRun, "notEqual");
}

/**
 * Elementwise `-a`.
 * @example
 * negative(array([1, -2])).toArray(); // [-1, 2]
 */
export function negative(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = -v;
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise absolute value.
 * @example
 * abs(array([-1, 2])).toArray(); // [1, 2]
 */
export function abs(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.abs(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise sign (-1, 0 or 1; NaN stays NaN).
 * @example
 * sign(array([-3, 0, 2])).toArray(); // [-1, 0, 1]
 */
export function sign(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : Number.NaN;
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise `a * a`.
 * @example
 * square(array([3])).toArray(); // [9]
 */
export function square(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = v * v;
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise square root.
 * @example
 * sqrt(array([4])).toArray(); // [2]
 */
export function sqrt(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.sqrt(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise `1 / a`.
 * @example
 * reciprocal(array([4])).toArray(); // [0.25]
 */
export function reciprocal(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = 1 / v;
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise exponential.
 * @example
 * exp(array([0])).toArray(); // [1]
 */
export function exp(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  expInto(src, out);
  return new NDArray(out, input.shape);
}

/**
 * Elementwise `exp(a) - 1`, accurate near 0.
 * @example
 * expm1(array([0])).toArray(); // [0]
 */
export function expm1(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.expm1(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise natural logarithm.
 * @example
 * log(array([1])).toArray(); // [0]
 */
export function log(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  logInto(src, out);
  return new NDArray(out, input.shape);
}

/**
 * Elementwise `log(1 + a)`, accurate near 0.
 * @example
 * log1p(array([0])).toArray(); // [0]
 */
export function log1p(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.log1p(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise sine.
 * @example
 * sin(array([0])).toArray(); // [0]
 */
export function sin(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.sin(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise cosine.
 * @example
 * cos(array([0])).toArray(); // [1]
 */
export function cos(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.cos(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise tangent.
 * @example
 * tan(array([0])).toArray(); // [0]
 */
export function tan(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.tan(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise inverse sine.
 * @example
 * arcsin(array([0])).toArray(); // [0]
 */
export function arcsin(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.asin(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise inverse cosine.
 * @example
 * arccos(array([1])).toArray(); // [0]
 */
export function arccos(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.acos(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise inverse tangent.
 * @example
 * arctan(array([0])).toArray(); // [0]
 */
export function arctan(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.atan(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise hyperbolic sine.
 * @example
 * sinh(array([0])).toArray(); // [0]
 */
export function sinh(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.sinh(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise hyperbolic cosine.
 * @example
 * cosh(array([0])).toArray(); // [1]
 */
export function cosh(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.cosh(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * Elementwise hyperbolic tangent.
 * @example
 * tanh(array([0])).toArray(); // [0]
 */
export function tanh(a: NDArray | number): NDArray {
  const input = asNDArray(a);
  const src = input.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Math.tanh(v);
  }
  return new NDArray(out, input.shape);
}

/**
 * `a * scalar` without broadcasting machinery (common in adjoints).
 * @example
 * scale(array([1, 2]), 3).toArray(); // [3, 6]
 */
export function scale(a: NDArray, scalar: number): NDArray {
  const src = a.data;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] * scalar;
  return new NDArray(out, a.shape);
}

/**
 * `a + scalar * b` for same-shape arrays (an axpy; common when accumulating adjoints).
 * @example
 * addScaled(array([1, 1]), 2, array([1, 2])).toArray(); // [3, 5]
 */
export function addScaled(a: NDArray, scalar: number, b: NDArray): NDArray {
  if (a.size !== b.size || a.ndim !== b.ndim || a.shape.some((n, i) => n !== b.shape[i])) {
    return add(a, scale(b, scalar));
  }
  const x = a.data;
  const y = b.data;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + scalar * y[i];
  return new NDArray(out, a.shape);
}
