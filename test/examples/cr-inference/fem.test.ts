import { loadVector, p1Space, stiffnessMatrix, unitSquareMesh } from "tsadjoint/fem";
import { factorize } from "tsadjoint/solve";
import { describe, expect, it } from "vitest";
import { solvePowerLawReference } from "../../../examples/cr-inference/fem.js";

describe("plain-JS power-law reference solve", () => {
  it("p = 2 is the linear problem scaled by 1/k; p = 3 converges to a small residual", () => {
    const mesh = unitSquareMesh(8);
    const space = p1Space(mesh);
    const F = loadVector(mesh, (x) => 0.5 + 20 * x ** 3);
    const linear = factorize(stiffnessMatrix(mesh)).solve(F);
    const two = solvePowerLawReference(space, F, 2, 4);
    for (let i = 0; i < linear.length; i++) expect(two.solution[i]).toBeCloseTo(linear[i] / 4, 12);
    const three = solvePowerLawReference(space, F, 3, 1);
    expect(three.iterations).toBeLessThan(20);
    expect(three.residualNorm).toBeLessThan(1e-10);
  });
});
