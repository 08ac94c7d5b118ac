/**
 * @file Checks of options objects and plain arguments shared by every public function: unknown keys,
 * wrong-typed values and malformed numbers are typed errors that name the operation, the key and the fix.
 */
import { InvalidArgumentError } from "./errors.js";

/** Edit distance of two short strings (for "did you mean" suggestions). */
function editDistance(a: string, b: string): number {
  const previous = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] ?? 0;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}

/** The accepted key closest to `key`, when it is close enough to be a likely misspelling. */
function closestKey(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** A short description of a value's type for error messages. */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return typeof value;
}

/**
 * Checks that `options` is undefined or a plain object whose keys are all in `allowed`; returns it as an
 * object (`{}` for undefined). An unknown key is an `InvalidArgumentError` naming the key, the closest
 * accepted key when it looks misspelt, and every accepted key, because a silently ignored option changes
 * results (`np.sum(x, { axes: 0 })` would otherwise sum everything).
 *
 * @example
 * const opts = checkOptions("np.sum", { axis: 0 }, ["axis", "keepdims", "tape"]); // { axis: 0 }
 * checkOptions("np.sum", { axes: 0 }, ["axis", "keepdims", "tape"]); // throws: unknown option "axes" (did you mean "axis"?)
 */
export function checkOptions<T extends object>(
  operation: string,
  options: T | undefined,
  allowed: readonly (keyof T & string)[],
): T {
  // cast: the empty object stands for "no options"; every key of an options type T is optional
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new InvalidArgumentError(
      operation,
      `options must be an object such as { ${allowed[0] ?? "key"}: ... }, got ${typeName(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!allowed.some((name) => name === key)) {
      const suggestion = closestKey(key, allowed);
      throw new InvalidArgumentError(
        operation,
        `unknown option "${key}"${suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`}; ` +
          `accepted options: ${allowed.map((k) => `"${k}"`).join(", ")}`,
      );
    }
  }
  return options;
}

/**
 * Checks that `value` is a finite number (or, with `integer`, an integer; with `positive`/`nonNegative`,
 * in that range) and returns it. The error names the operation and the argument.
 *
 * @example
 * checkNumber("np.linspace", "stop", 1); // 1
 * checkNumber("np.linspace", "stop", "a"); // throws InvalidArgumentError: stop must be a finite number, got string
 */
export function checkNumber(
  operation: string,
  name: string,
  value: unknown,
  constraints: { integer?: boolean; positive?: boolean; nonNegative?: boolean; finite?: boolean } = {},
): number {
  const finite = constraints.finite ?? true;
  if (typeof value !== "number" || Number.isNaN(value) || (finite && !Number.isFinite(value))) {
    const what = constraints.integer ? "an integer" : finite ? "a finite number" : "a number";
    throw new InvalidArgumentError(
      operation,
      `${name} must be ${what}, got ${typeof value === "number" ? String(value) : typeName(value)}`,
    );
  }
  if (constraints.integer && !Number.isInteger(value)) {
    throw new InvalidArgumentError(operation, `${name} must be an integer, got ${value}`);
  }
  if (constraints.positive && !(value > 0)) {
    throw new InvalidArgumentError(operation, `${name} must be positive, got ${value}`);
  }
  if (constraints.nonNegative && !(value >= 0)) {
    throw new InvalidArgumentError(operation, `${name} must be non-negative, got ${value}`);
  }
  return value;
}

/**
 * Whether `value` is a plain object (an object literal or `Object.create(null)`), as options objects and
 * pytree nodes are; arrays, class instances and null are not.
 *
 * @example
 * isPlainObject({ axis: 0 }); // true
 * isPlainObject(np.array([1])); // false
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
