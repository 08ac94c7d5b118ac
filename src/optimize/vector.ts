/** @file Small Float64Array vector kernels and box-projection helpers shared by the optimizers. */
import { InvalidArgumentError } from "../errors.js";

/**
 * Inner product a·b.
 *
 * @example
 * dot(Float64Array.of(1, 2), Float64Array.of(3, 4)); // 11
 */
export function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/**
 * Euclidean norm ‖a‖₂.
 *
 * @example
 * euclideanNorm(Float64Array.of(3, 4)); // 5
 */
export function euclideanNorm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/**
 * Infinity norm max |a_i| (0 for an empty vector).
 *
 * @example
 * infinityNorm(Float64Array.of(1, -3, 2)); // 3
 */
export function infinityNorm(a: Float64Array): number {
  let largest = 0;
  for (let i = 0; i < a.length; i++) {
    const magnitude = Math.abs(a[i]);
    if (magnitude > largest) largest = magnitude;
  }
  return largest;
}

/**
 * True when every entry is finite.
 *
 * @example
 * allFinite(Float64Array.of(1, Number.NaN)); // false
 */
export function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/**
 * True when at least one lower or upper bound is finite.
 *
 * @example
 * hasFiniteBound(Float64Array.of(-Infinity), Float64Array.of(2)); // true
 */
export function hasFiniteBound(lower: Float64Array, upper: Float64Array): boolean {
  for (let i = 0; i < lower.length; i++) {
    if (Number.isFinite(lower[i]) || Number.isFinite(upper[i])) return true;
  }
  return false;
}

/**
 * Projects x onto the box [lower, upper] in place and returns it: x_i ← min(max(x_i, lower_i), upper_i).
 *
 * @example
 * projectOntoBox(Float64Array.of(-2, 5), Float64Array.of(-1, 0), Float64Array.of(1, 1)); // [-1, 1]
 */
export function projectOntoBox(x: Float64Array, lower: Float64Array, upper: Float64Array): Float64Array {
  checkVectors("projectOntoBox", { x, lower, upper });
  for (let i = 0; i < x.length; i++) {
    if (x[i] < lower[i]) x[i] = lower[i];
    else if (x[i] > upper[i]) x[i] = upper[i];
  }
  return x;
}

/**
 * Infinity norm of the projected gradient P(x - g) - x, the first-order optimality measure of a box-constrained
 * problem (it equals ‖g‖∞ when no bound is active): for g_i < 0 the component is max(x_i - upper_i, g_i),
 * for g_i > 0 it is min(x_i - lower_i, g_i).
 *
 * @example
 * // at the upper bound with the gradient pushing outward the component vanishes
 * projectedGradientInfinityNorm(Float64Array.of(1), Float64Array.of(-3), Float64Array.of(0), Float64Array.of(1)); // 0
 */
export function projectedGradientInfinityNorm(
  x: Float64Array,
  gradient: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
): number {
  checkVectors("projectedGradientInfinityNorm", { x, gradient, lower, upper });
  let largest = 0;
  for (let i = 0; i < x.length; i++) {
    let component = gradient[i];
    if (component < 0) component = Math.max(x[i] - upper[i], component);
    else if (component > 0) component = Math.min(x[i] - lower[i], component);
    const magnitude = Math.abs(component);
    if (magnitude > largest) largest = magnitude;
  }
  return largest;
}

/** Checks that every argument is a Float64Array of the length of the first (exported helpers only). */
function checkVectors(operation: string, vectors: Record<string, unknown>): void {
  let length: number | undefined;
  for (const [name, vector] of Object.entries(vectors)) {
    if (!(vector instanceof Float64Array)) {
      throw new InvalidArgumentError(
        operation,
        `${name} must be a Float64Array, got ${vector === null ? "null" : typeof vector}`,
      );
    }
    length ??= vector.length;
    if (vector.length !== length) {
      throw new InvalidArgumentError(operation, `${name} has length ${vector.length}, expected ${length}`);
    }
  }
}
