/** @file The vector-space protocol every value type implements, and the registry of overloaded types. */
import { InvalidArgumentError, UnregisteredTypeError } from "../errors.js";
import { OverloadedValue } from "./overloaded.js";

/**
 * The small vector-space protocol drivers, the Taylor test and the optimizers use. It acts on raw values
 * (what `BlockVariable.saved` holds: a number for AdjFloat, the array itself for NDArray). Operations
 * return new values and never mutate their arguments.
 *
 * @example
 * const space = spaceOf(2.5); space.dot(2, 3); // 6
 */
export interface VectorSpace<R> {
  /** A zero of the same shape. */
  zerosLike(value: R): R;
  /** a + b. */
  add(a: R, b: R): R;
  /** s * a. */
  scale(value: R, factor: number): R;
  /** Euclidean inner product of the flattened values. */
  dot(a: R, b: R): number;
  /** Euclidean norm of the flattened value. */
  norm(value: R): number;
  /** A value equal to `value` that shares nothing mutable with it. */
  copy(value: R): R;
  /** Number of scalar entries. */
  size(value: R): number;
  /** The entries, flattened (row-major for arrays); a new array. */
  toFloat64Array(value: R): Float64Array;
  /** A value shaped like `like` holding `data` (length `size(like)`). */
  fromFloat64Array(like: R, data: Float64Array): R;
  /** Shape for messages (`[]` for scalars). */
  shape(value: R): readonly number[];
  /**
   * @internal Optional: `target += value` in place. Only the sweeps call it, and only on a value they
   * created themselves with this space's `add` (never a saved value or a user's value: values are
   * immutable by contract). A space that defines it must make `add` return a new value that shares no
   * memory with its arguments.
   */
  addTo?(target: R, value: R): void;
  /** @internal Optional: whether every entry is finite (without copying the entries out). */
  allFinite?(value: R): boolean;
}

/**
 * Registration record of an overloaded type: how to recognise its raw values, wrap them, create the
 * overloaded value from plain data, and its vector space.
 *
 * @example
 * registerOverloadedType({ name: "Pair", isRaw: (x): x is Pair => x instanceof Pair, wrap: (p) => p, space: pairSpace });
 */
export interface OverloadedTypeSpec<O extends OverloadedValue, R> {
  /** Name for messages. */
  readonly name: string;
  /** Whether `value` is a raw value of this type. */
  isRaw(value: unknown): value is R;
  /** An overloaded value holding `raw` (not on any tape yet). */
  wrap(raw: R): O;
  /** Builds the overloaded value from plain data, or returns `undefined` when `value` is not for this type. */
  create?(value: unknown): O | undefined;
  /** The vector space of the raw values. */
  readonly space: VectorSpace<R>;
}

/** The vector space of plain numbers (AdjFloat's raw values). */
export const scalarSpace: VectorSpace<number> = {
  zerosLike: () => 0,
  add: (a, b) => a + b,
  scale: (a, s) => a * s,
  dot: (a, b) => a * b,
  norm: (a) => Math.abs(a),
  copy: (a) => a,
  size: () => 1,
  toFloat64Array: (a) => Float64Array.of(a),
  fromFloat64Array: (_like, data) => data[0],
  shape: () => [],
};

/** A registration record with its raw type erased (what the registry holds). */
type AnySpec = OverloadedTypeSpec<OverloadedValue, unknown>;

const SPACE_METHODS = [
  "zerosLike",
  "add",
  "scale",
  "dot",
  "norm",
  "copy",
  "size",
  "toFloat64Array",
  "fromFloat64Array",
  "shape",
] as const;

/** The property `key` of an object of unknown layout (`undefined` when missing). */
function member(value: object, key: string): unknown {
  return Reflect.get(value, key);
}

/** Throws the error of a bad registration record. */
function badSpec(what: string): never {
  throw new InvalidArgumentError("registerOverloadedType", `${what}; see OverloadedTypeSpec`);
}

/** Checks a registration record before it enters the registry (a bad one would break every lookup). */
function checkSpec(spec: unknown): void {
  if (spec === null || typeof spec !== "object")
    badSpec(`the spec must be an object, got ${describeType(spec)}`);
  const name = member(spec, "name");
  if (typeof name !== "string" || name === "") badSpec("spec.name must be a non-empty string");
  for (const key of ["isRaw", "wrap"] as const) {
    if (typeof member(spec, key) !== "function") badSpec(`spec.${key} must be a function`);
  }
  const create = member(spec, "create");
  if (create !== undefined && typeof create !== "function") badSpec("spec.create must be a function");
  const space = member(spec, "space");
  if (space === null || typeof space !== "object") badSpec("spec.space must be a VectorSpace object");
  for (const method of SPACE_METHODS) {
    if (typeof member(space, method) !== "function") badSpec(`spec.space.${method} must be a function`);
  }
}
const registry: AnySpec[] = [];

/**
 * Registers an overloaded type so that drivers, Taylor tests and optimizers can handle its values.
 * Registering the same name again replaces the earlier record; later registrations are asked first.
 *
 * @example
 * registerOverloadedType({ name: "Pair", isRaw: (x): x is Pair => x instanceof Pair, wrap: (p) => p, space: pairSpace });
 */
export function registerOverloadedType<O extends OverloadedValue, R>(spec: OverloadedTypeSpec<O, R>): void {
  checkSpec(spec);
  const index = registry.findIndex((s) => s.name === spec.name);
  // a spec of raw type R is a spec of unknown raw values: its methods take only what its isRaw accepts
  const record: AnySpec = spec;
  if (index >= 0) registry[index] = record;
  else registry.push(record);
}

/** @internal the registration record for a raw value */
export function specOfRaw(raw: unknown, operation: string): AnySpec {
  for (let i = registry.length - 1; i >= 0; i--) if (registry[i].isRaw(raw)) return registry[i];
  throw new UnregisteredTypeError(
    operation,
    `${describeType(raw)} is not a registered overloaded type; use registerOverloadedType`,
  );
}

/**
 * The vector space of a raw value.
 *
 * @example
 * spaceOf(1.5).norm(-1.5); // 1.5
 */
export function spaceOf(raw: unknown, operation = "spaceOf"): VectorSpace<unknown> {
  if (typeof raw === "number") return scalarSpace;
  return specOfRaw(raw, operation).space;
}

/**
 * The raw value of a number, an overloaded value or a registered raw value.
 *
 * @example
 * toRaw(new AdjFloat(2)); // 2
 */
export function toRaw(value: unknown, operation = "toRaw"): unknown {
  if (typeof value === "number") return value;
  if (value instanceof OverloadedValue) return value.raw();
  specOfRaw(value, operation);
  return value;
}

/**
 * The overloaded value for a raw value (a number becomes an AdjFloat; an array stays itself).
 *
 * @example
 * wrapRaw(2); // AdjFloat(2)
 */
export function wrapRaw(raw: unknown, operation = "wrapRaw"): OverloadedValue {
  return specOfRaw(raw, operation).wrap(raw);
}

/**
 * Makes an overloaded value from plain data: numbers become AdjFloats, nested arrays NDArrays (once
 * registered), and registered types build their own. An overloaded value is returned as it is.
 *
 * @example
 * const x = createOverloadedObject(3); // AdjFloat(3)
 */
export function createOverloadedObject(value: unknown): OverloadedValue {
  if (value instanceof OverloadedValue) return value;
  // the most recent registration wins, so user types can claim plain data before the built-ins
  for (let i = registry.length - 1; i >= 0; i--) {
    const created = registry[i].create?.(value);
    if (created !== undefined) return created;
  }
  throw new UnregisteredTypeError(
    "createOverloadedObject",
    `${describeType(value)} is not a registered overloaded type; use registerOverloadedType`,
  );
}

/** @internal a + b for raw values, with the scalar fast path; `undefined` is zero. */
export function addRaw(a: unknown, b: unknown): unknown {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (typeof a === "number" && typeof b === "number") return a + b;
  return spaceOf(a, "accumulate").add(a, b);
}

/**
 * @internal An accumulator for one sweep: `add(owner, current, value)` returns current + value, adding in
 * place when `current` is a value this accumulator created for the same `owner` (slot) with a space that
 * supports it, and a new value otherwise. The caller must store the result in the owner's slot and must
 * not let the owned value reach another slot while it may still be added to.
 */
export class Accumulator {
  private readonly owned = new Map<object, unknown>();

  add(owner: object, current: unknown, value: unknown): unknown {
    if (current === undefined) return value;
    if (value === undefined) return current;
    if (typeof current === "number" && typeof value === "number") return current + value;
    const space = spaceOf(current, "accumulate");
    const addTo = space.addTo;
    if (addTo !== undefined && this.owned.get(owner) === current && spaceOf(value, "accumulate") === space) {
      addTo(current, value);
      return current;
    }
    const sum = space.add(current, value);
    if (addTo !== undefined && sum !== current && sum !== value) this.owned.set(owner, sum);
    return sum;
  }
}

/** @internal whether every entry of a raw value is finite */
export function isFiniteRaw(raw: unknown): boolean {
  if (typeof raw === "number") return Number.isFinite(raw);
  const space = spaceOf(raw);
  if (space.allFinite !== undefined) return space.allFinite(raw);
  const data = space.toFloat64Array(raw);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  return true;
}

/** @internal a short description of a value's type for messages */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}

/** @internal a short description of a raw value's shape for messages */
export function describeShape(raw: unknown): string {
  if (typeof raw === "number") return "scalar";
  try {
    return `[${spaceOf(raw).shape(raw).join(", ")}]`;
  } catch {
    return describeType(raw);
  }
}
