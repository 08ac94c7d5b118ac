import { describe, expect, it } from "vitest";
import { calibrate } from "../../../examples/cr-inference/calibration.js";
import { DEFAULT_SETTINGS } from "../../../examples/cr-inference/problem.js";

describe("calibrate (Laplace intervals of the power law over 100 noise seeds, mesh 8)", () => {
  it("the spread of p and k matches the predicted standard deviations within 30%; 95% intervals cover 90-99%", async () => {
    const result = await calibrate({ ...DEFAULT_SETTINGS, mesh: 8 }, 100);
    expect(result.runs).toHaveLength(100);
    // every run sees the same design: the predicted standard deviations barely change between seeds
    const sds = result.runs.map((run) => run.standardDeviation[0]);
    expect(Math.max(...sds) / Math.min(...sds)).toBeLessThan(1.2);
    for (const i of [0, 1]) {
      expect(result.ratio[i]).toBeGreaterThan(0.7);
      expect(result.ratio[i]).toBeLessThan(1.3);
      expect(result.coverage[i]).toBeGreaterThanOrEqual(0.9);
      expect(result.coverage[i]).toBeLessThanOrEqual(0.99);
      // the estimator's bias is small against its spread
      expect(Math.abs(result.bias[i])).toBeLessThan(0.5 * result.empiricalStandardDeviation[i]);
    }
  });
});
