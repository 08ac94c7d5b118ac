/** @file Annotation switches: whether overloaded operations record blocks on the working tape. */
import { InvalidArgumentError } from "../errors.js";

let pauseDepth = 0;

/**
 * Whether operations are being recorded now. True from import: tsadjoint starts annotating.
 *
 * @example
 * annotating(); // true
 * stopAnnotating(() => annotating()); // false
 */
export function annotating(): boolean {
  return pauseDepth === 0;
}

/**
 * Runs `fn` with annotation off and returns its result; annotation is restored even if `fn` throws.
 *
 * @example
 * const y = stopAnnotating(() => np.sin(x)); // computed, not recorded
 */
export function stopAnnotating<T>(fn: () => T): T {
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(
      "stopAnnotating",
      `fn must be a function, got ${fn === null ? "null" : typeof fn}`,
    );
  }
  pauseDepth++;
  try {
    return fn();
  } finally {
    pauseDepth--;
  }
}

/**
 * Turns annotation off until the matching `continueAnnotation()`. Calls nest.
 *
 * @example
 * pauseAnnotation(); const y = np.sin(x); continueAnnotation();
 */
export function pauseAnnotation(): void {
  pauseDepth++;
}

/**
 * Undoes one `pauseAnnotation()`; returns whether annotation is now on.
 *
 * @example
 * pauseAnnotation(); continueAnnotation(); // true
 */
export function continueAnnotation(): boolean {
  if (pauseDepth > 0) pauseDepth--;
  return pauseDepth === 0;
}

/**
 * @internal Runs `fn` with annotation on whatever the current pause depth (the function transforms record
 * on their private tape even when called inside `stopAnnotating`), then restores the depth.
 */
export function withAnnotation<T>(fn: () => T): T {
  const saved = pauseDepth;
  pauseDepth = 0;
  try {
    return fn();
  } finally {
    pauseDepth = saved;
  }
}
