/**
 * @file Test helper of the browser suite: compares a result computed in Chromium with the same computation
 * in Node, number by number, to a relative tolerance (1e-14 for float64 paths).
 */
import { expect } from "vitest";

/** One number that differs between two results. */
export interface NumberDifference {
  path: string;
  actual: unknown;
  expected: unknown;
  /** |a - b| / max(|a|, |b|); Infinity for a structural mismatch. */
  relative: number;
}

/**
 * Walks `actual` and `expected` (nested objects and arrays) side by side and lists every number that
 * differs (relative to the larger magnitude; equal infinities and NaNs agree) and every structural or
 * non-numeric mismatch (relative difference Infinity).
 *
 * @example
 * numberDifferences({ a: [1, 2] }, { a: [1, 2.0000001] }); // [{ path: "result.a[1]", ... }]
 */
export function numberDifferences(actual: unknown, expected: unknown, path = "result"): NumberDifference[] {
  const mismatch = [{ path, actual, expected, relative: Number.POSITIVE_INFINITY }];
  if (typeof expected === "number") {
    if (typeof actual !== "number") return mismatch;
    if (Object.is(actual, expected) || actual === expected) return [];
    if (!Number.isFinite(expected) || !Number.isFinite(actual)) return mismatch;
    const relative = Math.abs(actual - expected) / Math.max(Math.abs(actual), Math.abs(expected));
    return [{ path, actual, expected, relative }];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return mismatch;
    return expected.flatMap((e, i) => numberDifferences(actual[i], e, `${path}[${i}]`));
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object") return mismatch;
    const keys = Object.keys(expected).sort();
    if (JSON.stringify(Object.keys(actual).sort()) !== JSON.stringify(keys)) return mismatch;
    return keys.flatMap((key) =>
      numberDifferences(
        (actual as Record<string, unknown>)[key],
        (expected as Record<string, unknown>)[key],
        `${path}.${key}`,
      ),
    );
  }
  return actual === expected ? [] : mismatch;
}

/**
 * Asserts that every number of `actual` agrees with `expected` to `rtol` (relative), except under the
 * paths matched by `loose`, which get `looseRtol`. Those are Taylor rates: logarithms of ratios of
 * remainders such as |J(m + eps h) - J(m) - eps dJ h - eps^2/2 h H h|, about 1e-11 at the smallest step
 * while J is about 1, so one unit in the last place of J (Math.exp or Math.sin of Node 20's V8 and of
 * Chromium's V8 may differ by one) moves a rate by about 1e-5. Returns the largest relative difference
 * outside `loose`.
 *
 * @example
 * expectSameNumbers(browserResult, nodeResult, 1e-14);
 */
export function expectSameNumbers(
  actual: unknown,
  expected: unknown,
  rtol: number,
  { loose, looseRtol = 1e-3 }: { loose?: RegExp; looseRtol?: number } = {},
): number {
  const differences = numberDifferences(actual, expected);
  const failures = differences.filter((d) => d.relative > (loose?.test(d.path) ? looseRtol : rtol));
  expect(failures.slice(0, 10), `${failures.length} numbers differ`).toEqual([]);
  return Math.max(0, ...differences.filter((d) => !loose?.test(d.path)).map((d) => d.relative));
}

/**
 * The smallest of the Taylor rates, asserting each is at least `order - 0.1` (the rule checker's 1.9 / 2.9).
 *
 * @example
 * expectRates([2.0, 2.0, 2.0], 2);
 */
export function expectRates(rates: readonly number[], order: number, label = "rates"): void {
  expect(rates.length, label).toBeGreaterThan(0);
  for (const rate of rates) expect(rate, `${label}: ${rates.join(", ")}`).toBeGreaterThanOrEqual(order - 0.1);
}
