/** @file Small internal helpers of the solve blocks: cache keys and raw-value arithmetic. */
import { spaceOf } from "../values/space.js";

/**
 * @internal Whether two keys hold the same values (objects by identity, numbers by value). Values are
 * immutable, so identity means equal values.
 *
 * @example
 * sameKey([A, b], [A, b]); // true
 */
export function sameKey(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * @internal -value for a raw value (`undefined`, meaning zero, stays `undefined`).
 *
 * @example
 * negateRaw(2); // -2
 */
export function negateRaw(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (typeof value === "number") return -value;
  return spaceOf(value).scale(value, -1);
}
