/**
 * @file Small helpers shared by the linear-algebra blocks (products, contractions, decompositions): raw operands as arrays, sums where `undefined` is zero, reshapes back to an operand's raw type, batch labels for messages, and the re-labelling of kernel errors.
 */
import { InvalidArgumentError } from "../errors.js";
import { NDArray, shapesEqual } from "../values/ndarray.js";
import { add } from "./kernels/elementwise.js";

/** x + y where `undefined` means zero. */
export function plus(x: NDArray | undefined, y: NDArray | undefined): NDArray | undefined {
  if (x === undefined) return y;
  if (y === undefined) return x;
  return add(x, y);
}

/** The array `value` with the raw type and shape of `like` (a number for a number; a reshape otherwise). */
export function restore(value: NDArray, like: number | NDArray): number | NDArray {
  if (typeof like === "number") {
    let total = 0;
    const data = value.data;
    for (let i = 0; i < data.length; i++) total += data[i];
    return total;
  }
  return view(value, like.shape);
}

/** The same elements viewed with another shape (no copy; arrays are immutable). */
export function view(value: NDArray, shape: readonly number[]): NDArray {
  return shapesEqual(value.shape, shape) ? value : new NDArray(value.data, shape);
}

/** ` (batch index [i, j])` for the `index`-th matrix of a batch, or "" without batch axes. */
export function batchLabel(batchShape: readonly number[], index: number): string {
  if (batchShape.length === 0) return "";
  const position: number[] = [];
  let rest = index;
  for (let d = batchShape.length - 1; d >= 0; d--) {
    position.unshift(rest % batchShape[d]);
    rest = Math.floor(rest / batchShape[d]);
  }
  return ` (batch index [${position.join(", ")}])`;
}

/**
 * Runs a kernel and re-labels its InvalidArgumentError with the public function's name (`np.linalg.inv`
 * instead of the kernel's `inv`), keeping the message.
 *
 * @example
 * const L = withOperation("np.linalg.cholesky", () => cholesky(a));
 */
export function withOperation<T>(operation: string, kernel: () => T): T {
  try {
    return kernel();
  } catch (error) {
    if (error instanceof InvalidArgumentError && error.operation !== operation) {
      const text = error.message.slice(error.operation.length + 2);
      throw new InvalidArgumentError(operation, text);
    }
    throw error;
  }
}
