/** @file Tests for the vector kernels and box projection helpers. */

import { describe, expect, it } from "vitest";
import {
  allFinite,
  dot,
  euclideanNorm,
  hasFiniteBound,
  infinityNorm,
  projectedGradientInfinityNorm,
  projectOntoBox,
} from "../../src/optimize/vector.js";

describe("vector kernels", () => {
  it("computes norms and inner products", () => {
    expect(dot(Float64Array.of(1, 2), Float64Array.of(3, 4))).toBe(11);
    expect(euclideanNorm(Float64Array.of(3, 4))).toBe(5);
    expect(infinityNorm(Float64Array.of(1, -3, 2))).toBe(3);
    expect(infinityNorm(new Float64Array(0))).toBe(0);
    expect(allFinite(Float64Array.of(1, Number.NaN))).toBe(false);
    expect(hasFiniteBound(Float64Array.of(-Infinity), Float64Array.of(Infinity))).toBe(false);
  });

  it("projects onto a box and measures the projected gradient", () => {
    const lower = Float64Array.of(0, -1, -Infinity);
    const upper = Float64Array.of(1, 1, Infinity);
    expect(Array.from(projectOntoBox(Float64Array.of(-2, 5, 7), lower, upper))).toEqual([0, 1, 7]);
    // At x = (0, 1, 7): g = (2, -3, 0.5): components 0 and 1 are blocked, component 2 is free.
    expect(
      projectedGradientInfinityNorm(Float64Array.of(0, 1, 7), Float64Array.of(2, -3, 0.5), lower, upper),
    ).toBe(0.5);
    // Inside the box the step to the boundary caps the component: x = 0.25, g = 1 -> P(x - g) - x = -0.25.
    expect(
      projectedGradientInfinityNorm(Float64Array.of(0.25, 0, 0), Float64Array.of(1, 0, 0), lower, upper),
    ).toBe(0.25);
  });
});
