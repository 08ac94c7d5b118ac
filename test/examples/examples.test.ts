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

describe("examples/transforms.ts", () => {
  const closeAll = (actual: readonly number[], expected: readonly number[], digits: number) => {
    expect(actual.length).toBe(expected.length);
    for (let i = 0; i < actual.length; i++) expect(actual[i]).toBeCloseTo(expected[i], digits);
  };

  it("grad, grad(grad), the transforms, a least-squares fit and grad inside a recorded program", async () => {
    const { transformsExample } = await import("../../examples/transforms.js");
    const result = transformsExample();
    const x = [0.3, -0.8, 1.1];
    const diagonal = (d: number[]) => d.flatMap((v, i) => d.map((_, j) => (i === j ? v : 0)));
    expect(result.derivative).toBe(12);
    expect(result.secondDerivative).toBe(12);
    expect(result.value).toBeCloseTo(
      x.reduce((s, v) => s + Math.sin(v) ** 2, 0),
      14,
    );
    closeAll(
      result.gradient,
      x.map((v) => Math.sin(2 * v)),
      14,
    );
    closeAll(result.hv, [2 * Math.cos(0.6), 0, 0], 14);
    closeAll(result.hessian.flat(), diagonal(x.map((v) => 2 * Math.cos(2 * v))), 14);
    closeAll(result.jacobian.flat(), diagonal(x.map(Math.cos)), 14);
    closeAll(
      result.xbar,
      x.map((v) => 2 * v),
      14,
    );
    closeAll(result.ydot, x.map(Math.exp), 14);
    expect(result.fitted).toBeLessThan(1e-5);
    closeAll(result.params.w, [2, -1], 1);
    const u = [0.4, -0.2, 0.9];
    closeAll(
      result.programGradient,
      u.map((v) => Math.sin(4 * v) + 4 * Math.cos(4 * v) * v),
      13,
    );
    expect(result.blocks).toEqual(["multiply", "grad", "multiply", "sum"]);
  });
});
