import { describe, expect, it } from "vitest";
import { inferShearThickening, lShapeMesh } from "../../examples/custom-fem-problem.js";

describe("examples/custom-fem-problem", () => {
  it("the L-shape mesh has area 3 and its re-entrant corner is not an unknown-free hole", () => {
    const mesh = lShapeMesh(8);
    expect(mesh.areas.reduce((a, b) => a + b, 0)).toBeCloseTo(3, 13);
    expect(mesh.elementCount).toBe((3 * 2 * 64) / 4);
  });

  it("inferShearThickening recovers a = 1 and b = 4 and fits to the noise level", () => {
    const { inferred, sensors, misfit } = inferShearThickening();
    expect(sensors).toBeGreaterThan(60);
    expect(Math.abs(inferred[0] - 1)).toBeLessThan(0.01);
    expect(Math.abs(inferred[1] - 4) / 4).toBeLessThan(0.02);
    // the Gaussian misfit at the optimum is about half the number of observations (chi^2 / 2)
    expect(misfit).toBeGreaterThan(0.25 * sensors);
    expect(misfit).toBeLessThan(sensors);
  });
});
