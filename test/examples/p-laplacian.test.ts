import { describe, expect, it } from "vitest";
import { runPLaplacian } from "../../examples/p-laplacian-point-map.js";

describe("p-Laplacian point map (the seed's example)", () => {
  it("one block per call; Taylor rates >= 1.9 for g and p, >= 2.9 with the Hessian term", () => {
    const report = runPLaplacian(40, 7);
    expect(report.blocks).toBe(1);
    expect(report.rateG).toBeGreaterThanOrEqual(1.9);
    expect(report.rateP).toBeGreaterThanOrEqual(1.9);
    expect(report.rateGHessian).toBeGreaterThanOrEqual(2.9);
    expect(report.ratePHessian).toBeGreaterThanOrEqual(2.9);
    expect(report.rateBoth).toBeGreaterThanOrEqual(1.9);
    expect(report.rateBothHessian).toBeGreaterThanOrEqual(2.9);
    expect(report.stackShape).toEqual([40, 2, 2]);
  });
});
