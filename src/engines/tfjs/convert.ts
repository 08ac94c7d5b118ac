/** @file Conversions at the TensorFlow.js boundary: float64 raw values (number, NDArray) to float32 tensors and back. */
import * as tf from "@tensorflow/tfjs";
import { type ArrayRaw, NDArray } from "../../values/ndarray.js";

/** A tensor element type the adapter feeds to graph inputs. */
export type FeedDtype = "float32" | "int32" | "bool";

/** A raw value a TfBlock reads or produces: an NDArray, or a number for an AdjFloat. */
/** A raw value at the engine boundary: a number or an NDArray. */
export type RawValue = ArrayRaw;

/**
 * A float32 (or the input's integer) tensor holding a raw value: a number or an NDArray. Float64 entries are
 * rounded to float32 (relative error up to 6e-8 each). The caller owns the tensor (create it inside `tf.tidy`).
 *
 * @example
 * tf.tidy(() => rawToTensor(array([[1, 2]])).shape); // [1, 2]
 */
export function rawToTensor(raw: RawValue, dtype: FeedDtype = "float32"): tf.Tensor {
  if (typeof raw === "number") {
    return dtype === "float32" ? tf.scalar(raw, "float32") : tf.scalar(Math.round(raw), dtype);
  }
  const shape = raw.shape.slice();
  if (dtype === "float32") return tf.tensor(new Float32Array(raw.data), shape, "float32");
  const integers = new Int32Array(raw.size);
  for (let i = 0; i < integers.length; i++) integers[i] = Math.round(raw.data[i]);
  return tf.tensor(integers, shape, dtype);
}

/**
 * The entries of a tensor as a float64 NDArray of the tensor's shape (the values are exact: every float32
 * is a float64). Reads synchronously.
 *
 * @example
 * tensorToNDArray(tf.tensor([1, 2])).shape; // [2]
 */
export function tensorToNDArray(tensor: tf.Tensor): NDArray {
  return new NDArray(new Float64Array(tensor.dataSync()), tensor.shape.slice());
}

/**
 * A tensor read back as a raw value shaped like `like`: a number for a number, an NDArray of `like`'s
 * shape for an NDArray (the tensor has the same number of entries).
 *
 * @example
 * tensorToRawLike(tf.scalar(2), 1); // 2
 */
export function tensorToRawLike(tensor: tf.Tensor, like: RawValue): RawValue {
  const data = tensor.dataSync();
  if (typeof like === "number") return data[0];
  return new NDArray(new Float64Array(data), like.shape);
}

/**
 * The shape of a raw value: `[]` for a number.
 *
 * @example
 * rawShape(2.5); // []
 */
export function rawShape(raw: RawValue): readonly number[] {
  return typeof raw === "number" ? [] : raw.shape;
}

/**
 * The number of entries of a raw value.
 *
 * @example
 * rawSize(array([[1, 2]])); // 2
 */
export function rawSize(raw: RawValue): number {
  return typeof raw === "number" ? 1 : raw.size;
}
