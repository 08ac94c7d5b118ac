/**
 * @file Short methods on NDArray (`x.mul(y).sum()`), installed on the class from here so that the array
 * type does not import the operations (which import it).
 */
import type { ElementwiseOperand as Other } from "../ops/elementwise.js";
import { NDArray } from "../values/ndarray.js";
import * as elementwise from "./elementwise.js";
import * as linalg from "./linalg.js";
import * as reduce from "./reduce.js";
import * as shape from "./shape.js";

type Axis = number | readonly number[] | null;

declare module "../values/ndarray.js" {
  interface NDArray {
    /** this + other (broadcasting). @example x.add(1) */
    add(other: Other): NDArray;
    /** this - other. @example x.sub(y) */
    sub(other: Other): NDArray;
    /** this * other. @example x.mul(y) */
    mul(other: Other): NDArray;
    /** this / other. @example x.div(2) */
    div(other: Other): NDArray;
    /** this ** other. @example x.pow(2) */
    pow(other: Other): NDArray;
    /** -this. @example x.neg() */
    neg(): NDArray;
    /** |this|. @example x.abs() */
    abs(): NDArray;
    /** e^this. @example x.exp() */
    exp(): NDArray;
    /** ln(this). @example x.log() */
    log(): NDArray;
    /** sqrt(this). @example x.sqrt() */
    sqrt(): NDArray;
    /** this^2. @example x.square() */
    square(): NDArray;
    /** sin(this). @example x.sin() */
    sin(): NDArray;
    /** cos(this). @example x.cos() */
    cos(): NDArray;
    /** tanh(this). @example x.tanh() */
    tanh(): NDArray;
    /** Sum over `axis` (all when omitted). @example x.sum(1) */
    sum(axis?: Axis, keepdims?: boolean): NDArray;
    /** Mean over `axis`. @example x.mean() */
    mean(axis?: Axis, keepdims?: boolean): NDArray;
    /** Product over `axis`. @example x.prod(0) */
    prod(axis?: Axis, keepdims?: boolean): NDArray;
    /** Maximum over `axis`. @example x.max() */
    max(axis?: Axis, keepdims?: boolean): NDArray;
    /** Minimum over `axis`. @example x.min() */
    min(axis?: Axis, keepdims?: boolean): NDArray;
    /** The same entries in a new shape. @example x.reshape([2, -1]) */
    reshape(newShape: number | readonly number[]): NDArray;
    /** Axes permuted (reversed when omitted). @example x.transpose() */
    transpose(axes?: readonly number[]): NDArray;
    /** The transpose (axes reversed). @example x.T */
    readonly T: NDArray;
    /** Matrix product. @example a.matmul(b) */
    matmul(other: NDArray): NDArray;
    /** NumPy dot. @example a.dot(b) */
    dot(other: Other): NDArray;
  }
}

const proto = NDArray.prototype;
proto.add = function (this: NDArray, other: Other) {
  return elementwise.add(this, other);
};
proto.sub = function (this: NDArray, other: Other) {
  return elementwise.subtract(this, other);
};
proto.mul = function (this: NDArray, other: Other) {
  return elementwise.multiply(this, other);
};
proto.div = function (this: NDArray, other: Other) {
  return elementwise.divide(this, other);
};
proto.pow = function (this: NDArray, other: Other) {
  return elementwise.power(this, other);
};
proto.neg = function (this: NDArray) {
  return elementwise.negative(this);
};
proto.abs = function (this: NDArray) {
  return elementwise.absolute(this);
};
proto.exp = function (this: NDArray) {
  return elementwise.exp(this);
};
proto.log = function (this: NDArray) {
  return elementwise.log(this);
};
proto.sqrt = function (this: NDArray) {
  return elementwise.sqrt(this);
};
proto.square = function (this: NDArray) {
  return elementwise.square(this);
};
proto.sin = function (this: NDArray) {
  return elementwise.sin(this);
};
proto.cos = function (this: NDArray) {
  return elementwise.cos(this);
};
proto.tanh = function (this: NDArray) {
  return elementwise.tanh(this);
};
proto.sum = function (this: NDArray, axis?: Axis, keepdims?: boolean) {
  return reduce.sum(this, axis, keepdims);
};
proto.mean = function (this: NDArray, axis?: Axis, keepdims?: boolean) {
  return reduce.mean(this, axis, keepdims);
};
proto.prod = function (this: NDArray, axis?: Axis, keepdims?: boolean) {
  return reduce.prod(this, axis, keepdims);
};
proto.max = function (this: NDArray, axis?: Axis, keepdims?: boolean) {
  return reduce.max(this, axis, keepdims);
};
proto.min = function (this: NDArray, axis?: Axis, keepdims?: boolean) {
  return reduce.min(this, axis, keepdims);
};
proto.reshape = function (this: NDArray, newShape: number | readonly number[]) {
  return shape.reshape(this, newShape);
};
proto.transpose = function (this: NDArray, axes?: readonly number[]) {
  return shape.transpose(this, axes);
};
Object.defineProperty(proto, "T", {
  get(this: NDArray) {
    return shape.transpose(this);
  },
  configurable: true,
});
proto.matmul = function (this: NDArray, other: NDArray) {
  return linalg.matmul(this, other);
};
proto.dot = function (this: NDArray, other: Other) {
  return linalg.dot(this, other);
};
