/**
 * @file The jax-js runtime for tsadjoint/jax: the Float16Array shim, backend initialisation, the float64
 * constant helper `f64`, and the conversions between NDArrays / numbers and jax-js arrays (with their
 * ownership rules: every jax-js array created here is consumed or disposed).
 */
import "./float16-shim.js";
import { init, type Array as JaxArray, numpy as jnp, tree } from "@jax-js/jax";
import { EngineLimitError, InvalidArgumentError } from "../../errors.js";
import { type ArrayRaw, NDArray } from "../../values/ndarray.js";

/** The jax-js devices tsadjoint/jax supports: `cpu` (exact float64) and `wasm` (fast; float32 transcendentals). */
export type JaxDevice = "cpu" | "wasm";

/** A jax-js array (re-exported type so that users need not import `@jax-js/jax` for annotations). */
export type { JaxArray };

/**
 * @internal what the kernels return for a function's outputs, and the cotangents they take for them: one
 * array, or a list of arrays for a function that returns a list (a jax-js pytree)
 */
export type JaxResults = JaxArray | JaxArray[];

/** @internal A raw value a JaxBlock reads or produces: an NDArray, or a number for an AdjFloat dependency. */
/** A raw value at the engine boundary: a number or an NDArray. */
export type RawValue = ArrayRaw;

/**
 * The jax-js devices that are ready. `init()` without arguments throws on Node (it probes WebGPU through
 * `navigator`), so only `cpu` and `wasm` are initialised.
 *
 * @example
 * jaxDevices.includes("wasm"); // true on Node 20
 */
export const jaxDevices: readonly string[] = await init("cpu", "wasm");

/**
 * Throws EngineLimitError unless `device` is a supported, initialised jax-js device.
 *
 * @example
 * checkDevice("cpu", "overloadJax"); // ok
 */
export function checkDevice(device: string, operation: string): asserts device is JaxDevice {
  if (device !== "cpu" && device !== "wasm") {
    throw new InvalidArgumentError(
      operation,
      `device must be "cpu" or "wasm", got ${JSON.stringify(device)}`,
    );
  }
  if (!jaxDevices.includes(device)) {
    throw new EngineLimitError(
      operation,
      `the jax-js ${device} backend is not available in this runtime (ready: ${jaxDevices.join(", ")}); use device "cpu"`,
    );
  }
}

/**
 * A float64 0-d jax-js array holding `value`, to use as a constant inside a function given to
 * `overloadJax`. Under `jit` (and inside jax-js library functions that are jitted internally, such as
 * `np.power` or `np.tanh`) a plain JS number is rounded to float32 (0.1 becomes 0.10000000149011612);
 * `x.mul(f64(0.1))` keeps full float64 precision. The array is not committed to a device, so it follows
 * the other operand. Like every jax-js array it is consumed by the operation it is passed to: create it
 * where it is used.
 *
 * @example
 * const scale = overloadJax((x: JaxArray) => x.mul(f64(0.1))); // exact under jit
 */
export function f64(value: number): JaxArray {
  if (typeof value !== "number") {
    throw new InvalidArgumentError("f64", `expected a number, got ${typeof value}`);
  }
  return jnp.array(value, { dtype: jnp.float64 });
}

/** @internal a float64 jax-js array on `device` holding a copy of the NDArray's (or number's) data */
export function toJax(value: RawValue, device: JaxDevice): JaxArray {
  if (typeof value === "number") {
    return jnp.array(Float64Array.of(value), { shape: [], dtype: jnp.float64, device });
  }
  return jnp.array(value.data, { shape: value.shape.slice(), dtype: jnp.float64, device });
}

/** @internal float64 zeros of the given shape on `device` */
export function zerosJax(shape: readonly number[], device: JaxDevice): JaxArray {
  return jnp.zeros(shape.slice(), { dtype: jnp.float64, device });
}

/**
 * @internal Reads a jax-js array into an NDArray, CONSUMING it. Throws InvalidArgumentError for a
 * non-float64 array (tsadjoint is float64 throughout).
 */
export function fromJax(array: JaxArray, operation: string, what: string): NDArray {
  const shape = array.shape.slice();
  const dtype = array.dtype;
  if (dtype !== jnp.float64) {
    array.dispose();
    throw new InvalidArgumentError(
      operation,
      `${what} has dtype ${dtype}; tsadjoint works in float64: create constants with { dtype: np.float64 } ` +
        "(np.array([1, 2]) without a dtype is float32) or cast with .astype(np.float64)",
    );
  }
  const data = array.dataSync();
  return new NDArray(data instanceof Float64Array ? data : Float64Array.from(data), shape);
}

/**
 * @internal Reads a jax-js array as a tangent / adjoint value: a number when it stands for a number
 * (an AdjFloat dependency), otherwise an NDArray. Consumes the array.
 */
export function fromJaxLike(
  array: JaxArray,
  like: unknown,
  operation: string,
  what: string,
): NDArray | number {
  const result = fromJax(array, operation, what);
  return typeof like === "number" ? result.data[0] : result;
}

/** @internal disposes every jax-js array of an output (one array or a list), ignoring arrays already freed */
export function disposeQuietly(value: JaxResults | null | undefined): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) disposeQuietly(item);
    return;
  }
  try {
    if (typeof value.refCount === "number" && value.refCount > 0) value.dispose();
  } catch {
    // already freed or owned by a transform: nothing to release
  }
}

/**
 * @internal Runs `body` with an `own` function that registers the jax-js arrays it creates. When `body`
 * throws, the registered arrays that are still alive are released completely (jax-js does not consume the
 * arguments of an operation that throws, and a failed trace can keep extra references), so an error never
 * leaks engine memory. Arrays registered here must not be shared with anything that outlives the call.
 */
export function withOwnedArrays<T>(body: (own: <A extends JaxArray>(array: A) => A) => T): T {
  const owned: JaxArray[] = [];
  const own = <A extends JaxArray>(array: A): A => {
    owned.push(array);
    return array;
  };
  try {
    return body(own);
  } catch (error) {
    // A transform that fails mid-trace can leave references to its inputs in dead tracers: drop them all.
    for (const array of owned) releaseAll(array);
    throw error;
  }
}

function releaseAll(array: JaxArray): void {
  try {
    for (let guard = 0; guard < 1000 && array.refCount > 0; guard++) array.dispose();
  } catch {
    // already freed
  }
}

/** @internal disposes the arrays of a jax-js tree (the public `tree.dispose`) */
export function disposeTree(value: JaxResults): void {
  tree.dispose(value);
}

/** Reads every array of a list (consuming it); when one read throws, the rest are disposed. */
export function readAll<T>(arrays: readonly JaxArray[], read: (array: JaxArray, index: number) => T): T[] {
  const results: T[] = [];
  let i = 0;
  try {
    for (; i < arrays.length; i++) results.push(read(arrays[i], i));
  } catch (error) {
    for (let j = i + 1; j < arrays.length; j++) disposeQuietly(arrays[j]);
    throw error;
  }
  return results;
}
