/** @file NDArray: an immutable, row-major, contiguous float64 n-dimensional array, plus shape utilities. */

/** A nested JS array of numbers of any depth, e.g. `[[1, 2], [3, 4]]`. */
import { invalidArgument } from "../errors.js";
import { OverloadedValue } from "./overloaded.js";
export type NestedNumberArray = readonly (number | NestedNumberArray)[];

/** What {@link NDArray.toArray} returns: a number for 0-d arrays, otherwise nested number arrays. */
export type NestedArray = number | NestedArray[];

/** Any built-in numeric typed array accepted by {@link array}. */
export type TypedNumberArray =
  | Float64Array
  | Float32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array;

/** Everything {@link array} can turn into an NDArray. */
export type ArrayInput = number | NDArray | NestedNumberArray | TypedNumberArray;

/** An axis argument: one axis, a list of axes, or `undefined` meaning "all axes". Negative axes count from the end. */
export type Axis = number | readonly number[] | undefined;

/**
 * Formats a shape for error messages, e.g. `[2, 3]`.
 * @example
 * formatShape([2, 3]); // "[2, 3]"
 */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Number of elements of an array of the given shape (1 for the 0-d shape `[]`).
 * @example
 * shapeSize([2, 3]); // 6
 */
export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (let i = 0; i < shape.length; i++) size *= shape[i];
  return size;
}

/**
 * Row-major element strides of a contiguous array of the given shape.
 * @example
 * contiguousStrides([2, 3, 4]); // [12, 4, 1]
 */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

/**
 * True when two shapes are identical.
 * @example
 * shapesEqual([2, 3], [2, 3]); // true
 */
export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Throws unless every entry of `shape` is a non-negative integer.
 * @example
 * validateShape([2, 3], "zeros"); // ok
 */
export function validateShape(shape: readonly number[], op: string): void {
  if (!Array.isArray(shape))
    throw invalidArgument(
      `${op}: shape must be an array of integers, got ${shape === null ? "null" : typeof shape}`,
    );
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const n = shape[i];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      throw invalidArgument(
        `${op}: invalid shape ${typeof n === "number" ? formatShape(shape) : `with a ${typeof n} entry`} (entries must be non-negative integers)`,
      );
    }
    size *= n;
  }
  checkArraySize(op, size);
}

/** The largest number of entries an array may have (a Float64Array of 2^31 - 1 entries is 16 GiB). */
export const maxArraySize = 2 ** 31 - 1;

/**
 * @internal Throws an InvalidArgumentError naming `op` when `size` entries cannot be allocated.
 * @example
 * checkArraySize("np.zeros", 1e300); // throws
 */
export function checkArraySize(op: string, size: number): void {
  if (size > maxArraySize) {
    throw invalidArgument(`${op}: an array of ${size} entries is too large (at most ${maxArraySize})`);
  }
}

/**
 * Normalises one possibly negative axis into `[0, ndim)`, throwing a clear error if out of bounds.
 * @example
 * normalizeAxis(-1, 3, "sum"); // 2
 */
export function normalizeAxis(axis: number, ndim: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw invalidArgument(
      `${op}: axis ${typeof axis === "number" ? axis : `of type ${typeof axis}`} is out of bounds for array of dimension ${ndim}; give an integer in [${-ndim}, ${ndim - 1}]`,
    );
  }
  return axis < 0 ? axis + ndim : axis;
}

/**
 * Normalises an {@link Axis} argument into a sorted list of distinct non-negative axes (`undefined` = all).
 * @example
 * normalizeAxes([-1, 0], 3, "sum"); // [0, 2]
 */
export function normalizeAxes(axis: Axis, ndim: number, op: string): number[] {
  if (axis === undefined) {
    const all = new Array<number>(ndim);
    for (let i = 0; i < ndim; i++) all[i] = i;
    return all;
  }
  const list = typeof axis === "number" ? [axis] : axis;
  const seen = new Uint8Array(ndim);
  const result: number[] = [];
  for (const raw of list) {
    const axisIndex = normalizeAxis(raw, ndim, op);
    if (seen[axisIndex]) throw invalidArgument(`${op}: repeated axis ${raw} in ${JSON.stringify(list)}`);
    seen[axisIndex] = 1;
    result.push(axisIndex);
  }
  return result.sort((x, y) => x - y);
}

/**
 * An immutable float64 n-dimensional array stored row-major and contiguous. Any rank is allowed,
 * including 0-d (shape `[]`, one element). Different NDArrays may share one buffer (reshape and
 * contiguous slices do not copy; `data` may be a subarray view), so `data` must never be mutated.
 * The kernels in `src/ops/kernels` always return a new NDArray object (never one of their inputs),
 * so each result can carry its own `_blockVariable`.
 * @example
 * const a = new NDArray(new Float64Array([1, 2, 3, 4]), [2, 2]);
 * a.toArray(); // [[1, 2], [3, 4]]
 */
export class NDArray extends OverloadedValue {
  /** The elements in row-major order. Do NOT mutate: buffers are shared between arrays. */
  readonly data: Float64Array;
  /** The shape (frozen). */
  readonly shape: readonly number[];
  private cachedStrides: readonly number[] | undefined = undefined;

  /**
   * Wraps `data` (not copied) with the given shape.
   * @example
   * new NDArray(new Float64Array(6), [2, 3]);
   */
  constructor(data: Float64Array, shape: readonly number[]) {
    super();
    if (!(data instanceof Float64Array)) throw invalidArgument("NDArray: data must be a Float64Array");
    validateShape(shape, "NDArray");
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw invalidArgument(
        `NDArray: data of length ${data.length} does not match shape ${formatShape(shape)} (size ${size})`,
      );
    }
    this.data = data;
    this.shape = Object.freeze(shape.slice());
  }

  /**
   * Number of elements.
   * @example
   * zeros([2, 3]).size; // 6
   */
  get size(): number {
    return this.data.length;
  }

  /**
   * Number of axes (0 for a 0-d array).
   * @example
   * zeros([2, 3]).ndim; // 2
   */
  get ndim(): number {
    return this.shape.length;
  }

  /**
   * Row-major element strides (not bytes), computed once.
   * @example
   * zeros([2, 3]).strides; // [3, 1]
   */
  get strides(): readonly number[] {
    if (this.cachedStrides === undefined) this.cachedStrides = Object.freeze(contiguousStrides(this.shape));
    return this.cachedStrides;
  }

  /**
   * The single element of a size-1 array (any rank); throws otherwise.
   * @example
   * array(3).item(); // 3
   */
  item(): number {
    if (this.data.length !== 1) {
      throw invalidArgument(
        `item: can only convert an array of size 1, got shape ${formatShape(this.shape)}`,
      );
    }
    return this.data[0];
  }

  /**
   * The element at a full multi-index (negative indices count from the end).
   * @example
   * array([[1, 2], [3, 4]]).get(1, 0); // 3
   */
  get(...index: number[]): number {
    const shape = this.shape;
    if (index.length !== shape.length) {
      throw invalidArgument(
        `get: expected ${shape.length} indices for shape ${formatShape(shape)}, got ${index.length}`,
      );
    }
    const strides = this.strides;
    let offset = 0;
    for (let i = 0; i < index.length; i++) {
      let k = index[i];
      if (!Number.isInteger(k) || k < -shape[i] || k >= shape[i]) {
        throw invalidArgument(`get: index ${k} is out of bounds for axis ${i} with size ${shape[i]}`);
      }
      if (k < 0) k += shape[i];
      offset += k * strides[i];
    }
    return this.data[offset];
  }

  /**
   * Nested JS arrays (a plain number for 0-d arrays).
   * @example
   * array([[1, 2], [3, 4]]).toArray(); // [[1, 2], [3, 4]]
   */
  toArray(): NestedArray {
    const shape = this.shape;
    const data = this.data;
    if (shape.length === 0) return data[0];
    const build = (axis: number, offset: number, stride: number): NestedArray[] => {
      const n = shape[axis];
      const out = new Array<NestedArray>(n);
      if (axis === shape.length - 1) {
        for (let i = 0; i < n; i++) out[i] = data[offset + i];
      } else {
        const inner = stride / (n || 1);
        for (let i = 0; i < n; i++) out[i] = build(axis + 1, offset + i * inner, inner);
      }
      return out;
    };
    return build(0, 0, data.length);
  }

  /** An NDArray is its own raw value (immutable). */
  raw(): NDArray {
    return this;
  }

  /**
   * NumPy-like text, e.g. `array([[1, 2], [3, 4]])`; large arrays are summarised with `...`.
   * @example
   * String(array([1.5, 2])); // "array([1.5, 2])"
   */
  override toString(): string {
    return `array(${formatNested(this.data, this.shape, this.data.length > 1000)})`;
  }

  /** Pretty-printing hook for Node's `util.inspect` / console.log. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /**
   * Refuses JavaScript operators (as AdjFloat does): `x + 1` would otherwise be the string "array(...)1"
   * and `x < 3` a comparison of strings. Strings are allowed (`String(x)`, template literals).
   */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === "string") return this.toString();
    throw new TypeError(
      "NDArray cannot be used with JavaScript operators (+ - * / <): use np.add(x, y), x.mul(y), " +
        "np.greater(x, y), ... or read the entries with x.data / x.toArray().",
    );
  }
}

function formatNumber(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const plain = String(v);
  if (plain.length <= 10) return plain;
  return String(Number(v.toPrecision(8)));
}

function formatNested(data: Float64Array, shape: readonly number[], summarise: boolean): string {
  if (shape.length === 0) return formatNumber(data[0]);
  const edge = 3;
  const strides = contiguousStrides(shape);
  const rec = (axis: number, offset: number, indent: string): string => {
    const n = shape[axis];
    const parts: string[] = [];
    const showAll = !summarise || n <= 2 * edge;
    for (let i = 0; i < n; i++) {
      if (!showAll && i === edge) {
        parts.push("...");
        i = n - edge - 1;
        continue;
      }
      parts.push(
        axis === shape.length - 1
          ? formatNumber(data[offset + i])
          : rec(axis + 1, offset + i * strides[axis], `${indent} `),
      );
    }
    const separator = axis === shape.length - 1 ? ", " : `,${"\n".repeat(shape.length - 1 - axis)}${indent} `;
    return `[${parts.join(separator)}]`;
  };
  return rec(0, 0, "      ");
}

function inferNestedShape(value: NestedNumberArray): number[] {
  const shape: number[] = [];
  let current: number | NestedNumberArray = value;
  while (Array.isArray(current)) {
    const list: NestedNumberArray = current;
    shape.push(list.length);
    if (list.length === 0) break;
    current = list[0];
  }
  return shape;
}

function fillNested(value: NestedNumberArray, shape: readonly number[], out: Float64Array): void {
  let position = 0;
  const path: number[] = [];
  const rec = (node: number | NestedNumberArray, depth: number): void => {
    if (depth === shape.length) {
      if (typeof node !== "number") {
        throw invalidArgument(
          `array: ragged nested array: expected a number at index [${path.join(", ")}] but found ${Array.isArray(node) ? "an array" : typeof node}`,
        );
      }
      out[position++] = node;
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      const found = Array.isArray(node) ? `length ${node.length}` : `a ${typeof node}`;
      throw invalidArgument(
        `array: ragged nested array: expected length ${shape[depth]} at index [${path.join(", ")}] but found ${found} (inferred shape ${formatShape(shape)})`,
      );
    }
    const list: NestedNumberArray = node;
    for (let i = 0; i < list.length; i++) {
      path.push(i);
      rec(list[i], depth + 1);
      path.pop();
    }
  };
  rec(value, 0);
}

/**
 * Builds an NDArray from nested number arrays, a flat number[] or typed array (with optional shape),
 * a single number (0-d) or an NDArray (returned as is, or reshaped without copying if `shape` differs).
 * Inputs other than NDArray are copied.
 * @example
 * array([[1, 2], [3, 4]]).shape; // [2, 2]
 * array([1, 2, 3, 4, 5, 6], [2, 3]).shape; // [2, 3]
 * array(5).shape; // []
 */
export function array(data: ArrayInput, shape?: readonly number[]): NDArray {
  return arrayFromUnknown(data, shape);
}

/** Whether an array view holds numbers (every view but DataView and the BigInt arrays). */
function holdsNumbers(view: ArrayBufferView): view is ArrayBufferView & ArrayLike<number> {
  return !(view instanceof DataView || view instanceof BigInt64Array || view instanceof BigUint64Array);
}

/**
 * @internal {@link array} for a value of unchecked type (plain data handed to the overloaded-type registry):
 * the same result for an {@link ArrayInput}, the same InvalidArgumentError naming `array` for anything else.
 * @example
 * arrayFromUnknown(JSON.parse("[1, 2]")).shape; // [2]
 */
export function arrayFromUnknown(data: unknown, shape?: readonly number[]): NDArray {
  if (shape !== undefined) validateShape(shape, "array");
  if (data instanceof NDArray) {
    if (shape === undefined || shapesEqual(shape, data.shape)) return data;
    if (shapeSize(shape) !== data.size) {
      throw invalidArgument(
        `array: cannot reshape array of shape ${formatShape(data.shape)} to ${formatShape(shape)}`,
      );
    }
    return new NDArray(data.data, shape);
  }
  if (typeof data === "number") {
    const target = shape ?? [];
    if (shapeSize(target) !== 1) {
      throw invalidArgument(`array: a single number cannot fill shape ${formatShape(target)}`);
    }
    return new NDArray(new Float64Array([data]), target);
  }
  if (ArrayBuffer.isView(data)) {
    if (!holdsNumbers(data)) {
      throw invalidArgument(`array: ${data.constructor.name} is not supported; use a Float64Array`);
    }
    const flat = Float64Array.from(data);
    const target = shape ?? [flat.length];
    if (shapeSize(target) !== flat.length) {
      throw invalidArgument(
        `array: typed array of length ${flat.length} does not match shape ${formatShape(target)}`,
      );
    }
    return new NDArray(flat, target);
  }
  if (!Array.isArray(data)) {
    throw invalidArgument(
      `array: expected a number, a (nested) array of numbers, a typed array or an NDArray, got ${data === null ? "null" : typeof data === "object" ? (data.constructor?.name ?? "an object") : typeof data}`,
    );
  }
  const nestedShape = inferNestedShape(data);
  const flat = new Float64Array(shapeSize(nestedShape));
  fillNested(data, nestedShape, flat);
  if (shape === undefined) return new NDArray(flat, nestedShape);
  if (shapeSize(shape) !== flat.length) {
    throw invalidArgument(
      `array: input of shape ${formatShape(nestedShape)} (size ${flat.length}) does not match shape ${formatShape(shape)}`,
    );
  }
  return new NDArray(flat, shape);
}

/** A raw array-or-scalar value as the tape saves it: a number (an AdjFloat's) or an NDArray. */
export type ArrayRaw = number | NDArray;

/**
 * THE conversion of a raw value to an array: the raw value of an AdjFloat (a `number`) becomes a new 0-d
 * NDArray holding it; an NDArray (its own raw value) is returned as it is, never copied. Blocks and kernels
 * use it to treat a dependency that may be either (`number | NDArray`, what a BlockVariable saves) as an
 * array. Anything else is a programming error and throws an InvalidArgumentError naming `asNDArray`. For
 * user data (nested lists, typed arrays) use {@link array}.
 * @example
 * asNDArray(2).shape; // []
 * asNDArray(x) === x; // true for an NDArray x
 */
export function asNDArray(x: number | NDArray): NDArray {
  if (x instanceof NDArray) return x;
  if (typeof x !== "number")
    throw invalidArgument(`asNDArray: expected a number or NDArray, got ${typeof x}`);
  return new NDArray(new Float64Array([x]), []);
}

// ---------------------------------------------------------------------------------------------------------
// Uninitialised allocation. `new Float64Array(n)` zero-fills its memory (a memset of a recycled chunk, on
// memory that V8 frees only at a garbage collection and that is therefore cold), which a kernel writing every
// entry anyway pays for twice. Node's `Buffer.allocUnsafeSlow` gives an unpooled, uninitialised ArrayBuffer
// of its own (byteOffset 0), as NumPy's `np.empty` does; browsers (no Buffer) get `new Float64Array`.

/** Below this many entries `new Float64Array` is cheaper (V8 allocates small arrays on its own heap). */
const EMPTY_MINIMUM = 4096;

/**
 * Node's `Buffer.allocUnsafeSlow` as a function of a byte count giving a fresh ArrayBuffer, when the host has
 * one (looked up on globalThis, so that the browser build imports nothing from node:buffer) and it behaves
 * as documented (checked once on a probe); else undefined.
 */
function findUnsafeAllocator(): ((bytes: number) => ArrayBufferLike) | undefined {
  const host: unknown = Reflect.get(globalThis, "Buffer");
  if (typeof host !== "function") return undefined;
  const allocate: unknown = Reflect.get(host, "allocUnsafeSlow");
  if (typeof allocate !== "function") return undefined;
  const raw = (bytes: number): unknown => Reflect.apply(allocate, host, [bytes]);
  const probe = raw(64);
  if (!(probe instanceof Uint8Array) || probe.byteOffset !== 0 || probe.buffer.byteLength !== 64)
    return undefined;
  return (bytes) => {
    const view = raw(bytes);
    if (!(view instanceof Uint8Array) || view.byteOffset !== 0) return new ArrayBuffer(bytes);
    return view.buffer;
  };
}

const unsafeAllocator = findUnsafeAllocator();

/** A value every {@link emptyArray} entry is set to (tests: a missed entry then shows), or undefined. */
let emptyPoison: number | undefined;

/**
 * @internal Makes every later {@link emptyArray} come filled with `value` (undefined: unspecified contents
 * again), so that a test can tell a kernel that leaves an entry unwritten; returns the previous setting.
 * @example
 * const previous = setEmptyArrayPoison(Number.NaN); try { ... } finally { setEmptyArrayPoison(previous); }
 */
export function setEmptyArrayPoison(value: number | undefined): number | undefined {
  const previous = emptyPoison;
  emptyPoison = value;
  return previous;
}

/**
 * @internal A new Float64Array of `length` entries whose contents are UNSPECIFIED (uninitialised memory in
 * Node): only for code that writes every entry before reading any, and that hands out no entry it did not
 * write. Cheaper than `new Float64Array` on large arrays (no zero-fill pass over cold memory).
 * @example
 * const out = emptyArray(n); for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
 */
export function emptyArray(length: number): Float64Array {
  const out =
    unsafeAllocator === undefined || length < EMPTY_MINIMUM
      ? new Float64Array(length)
      : new Float64Array(unsafeAllocator(length * 8), 0, length);
  if (emptyPoison !== undefined) out.fill(emptyPoison);
  return out;
}
