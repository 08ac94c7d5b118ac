import {
  AdjFloat,
  assertRule,
  Control,
  computeGradient,
  np,
  ReducedFunctional,
  Tape,
  taylorTest,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import { softplus } from "../../examples/custom-block.js";
import { quickstart } from "../../examples/quickstart.js";

describe("examples", () => {
  it("quickstart: gradient matches the formula, Taylor rates about 2 and 3", () => {
    const result = quickstart();
    const [x, k] = [0.8, 2.5];
    const g = Math.exp((-x * x) / 2);
    expect(result.value).toBeCloseTo(Math.sin(k * x) * g, 14);
    expect(result.gradient[0]).toBeCloseTo(k * Math.cos(k * x) * g - x * Math.sin(k * x) * g, 13);
    expect(result.gradient[1]).toBeCloseTo(x * Math.cos(k * x) * g, 13);
    expect(result.taylorRate).toBeGreaterThan(1.9);
    expect(result.taylorRateHessian).toBeGreaterThan(2.9);
  });

  it("custom block: softplus passes the rule checker and composes with built-in operations", () => {
    for (const x of [-3, -0.4, 0, 0.7, 4]) assertRule((v) => softplus(v as AdjFloat), [x]);
    const tape = new Tape();
    const x = new AdjFloat(0.3);
    const J = withTape(tape, () => np.square(softplus(np.sin(x))));
    expect(tape.blocks.map((b) => b.name)).toEqual(["sin", "SoftplusBlock", "square"]);
    const rf = new ReducedFunctional(J, new Control(x), { tape });
    expect(taylorTest(rf, 0.3, 0.2, { hessian: true })).toBeGreaterThan(2.9);
    const s = Math.sin(0.3);
    const sp = Math.log1p(Math.exp(s));
    const expected = 2 * sp * (1 / (1 + Math.exp(-s))) * Math.cos(0.3);
    expect(computeGradient(J, new Control(x), { tape }).value).toBeCloseTo(expected, 14);
  });
});

describe("examples/minimize.ts", () => {
  it("fitOscillation recovers a, b, c with L-BFGS-B and Newton-CG", async () => {
    const { fitOscillation } = await import("../../examples/minimize.js");
    const result = fitOscillation();
    for (const fitted of [result.lbfgsb, result.newtonCg]) {
      expect(fitted[0]).toBeCloseTo(2, 1);
      expect(fitted[1]).toBeCloseTo(0.3, 2);
      expect(fitted[2]).toBeCloseTo(1.7, 2);
    }
    expect(result.hessianActions).toBeGreaterThan(0);
    expect(result.misfit).toBeLessThan(0.02);
  });
});
