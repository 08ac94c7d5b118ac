/**
 * @file `tsadjoint/numpy`: the autograd-style namespace. Write NumPy-like code with these functions (NumPy's
 * names and positional argument order, NumPy broadcasting) and it becomes differentiable: every operation
 * on AdjFloats and NDArrays records a block with all four modes. Plain numbers in give plain numbers out.
 *
 * @module tsadjoint/numpy
 */
import "../values/ndarray-space.js";

export type { ElementwiseOperand } from "../ops/elementwise.js";
export type { RandomShape } from "../ops/kernels/random.js";
export type {
  ArrayInput,
  Axis,
  NestedArray,
  NestedNumberArray,
  TypedNumberArray,
} from "../values/ndarray.js";
export { NDArray } from "../values/ndarray.js";
export * from "./creation.js";
export * from "./elementwise.js";
export * from "./linalg.js";
export * from "./reduce.js";
export * from "./shape.js";

import "./methods.js";
