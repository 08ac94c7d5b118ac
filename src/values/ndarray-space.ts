/** @file NDArray's vector space and its registration as an overloaded type. */
import { ShapeMismatchError } from "../errors.js";
import { arrayFromUnknown, NDArray } from "./ndarray.js";
import { takeArray } from "./pool.js";
import { registerOverloadedType, type VectorSpace } from "./space.js";

function sameShape(operation: string, a: NDArray, b: NDArray): void {
  const sa = a.shape;
  const sb = b.shape;
  if (sa.length !== sb.length || sa.some((n, i) => n !== sb[i])) {
    throw new ShapeMismatchError(
      operation,
      [sa, sb],
      "vector-space operations need arrays of the same shape",
    );
  }
}

/**
 * The vector space of NDArrays (entries flattened row-major). Every public operation returns a new array.
 *
 * @example
 * ndarraySpace.dot(array([1, 2]), array([3, 4])); // 11
 */
export const ndarraySpace: VectorSpace<NDArray> = {
  zerosLike: (a) => new NDArray(new Float64Array(a.size), a.shape),
  add: (a, b) => {
    sameShape("add", a, b);
    // a pooled buffer inside an adjoint sweep's sums (see values/pool.ts), else a new one
    const out = takeArray(a.size);
    const x = a.data;
    const y = b.data;
    for (let i = 0; i < out.length; i++) out[i] = x[i] + y[i];
    return new NDArray(out, a.shape);
  },
  scale: (a, s) => {
    const out = new Float64Array(a.size);
    const x = a.data;
    for (let i = 0; i < out.length; i++) out[i] = x[i] * s;
    return new NDArray(out, a.shape);
  },
  dot: (a, b) => {
    sameShape("dot", a, b);
    const x = a.data;
    const y = b.data;
    let total = 0;
    for (let i = 0; i < x.length; i++) total += x[i] * y[i];
    return total;
  },
  norm: (a) => {
    const x = a.data;
    let scale = 0;
    for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(x[i]));
    if (scale === 0 || !Number.isFinite(scale)) return scale;
    let total = 0;
    for (let i = 0; i < x.length; i++) total += (x[i] / scale) ** 2;
    return scale * Math.sqrt(total);
  },
  copy: (a) => new NDArray(a.data.slice(), a.shape),
  size: (a) => a.size,
  toFloat64Array: (a) => a.data.slice(),
  fromFloat64Array: (like, data) => {
    if (data.length !== like.size) {
      throw new ShapeMismatchError(
        "fromFloat64Array",
        [like.shape, [data.length]],
        "the data must have the array's size",
      );
    }
    return new NDArray(data, like.shape);
  },
  shape: (a) => a.shape,
  // internal: the sweeps' in-place accumulation into arrays they created with `add` (which are fresh)
  addTo: (target, value) => {
    sameShape("add", target, value);
    const x = target.data;
    const y = value.data;
    for (let i = 0; i < x.length; i++) x[i] += y[i];
  },
  allFinite: (a) => allFiniteEntries(a.data),
};

/**
 * Whether every entry is finite: x - x is 0 for a finite x and NaN for an infinity or NaN, so one sum of
 * the differences (four running sums, no branch) is 0 exactly when all are finite (a sum of zeros stays 0).
 */
function allFiniteEntries(x: Float64Array): boolean {
  const n = x.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const a = x[i];
    const b = x[i + 1];
    const c = x[i + 2];
    const d = x[i + 3];
    s0 += a - a;
    s1 += b - b;
    s2 += c - c;
    s3 += d - d;
  }
  for (; i < n; i++) {
    const a = x[i];
    s0 += a - a;
  }
  return s0 + s1 + s2 + s3 === 0;
}

registerOverloadedType<NDArray, NDArray>({
  name: "NDArray",
  isRaw: (value): value is NDArray => value instanceof NDArray,
  wrap: (raw) => raw,
  create: (value) =>
    Array.isArray(value) || ArrayBuffer.isView(value) ? arrayFromUnknown(value) : undefined,
  space: ndarraySpace,
});
