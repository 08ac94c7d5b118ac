import {
  AdjFloat,
  Control,
  InvalidArgumentError,
  np,
  ReducedFunctional,
  Tape,
  taylorTest,
  taylorToDict,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";

function rosenbrockLike() {
  const tape = new Tape();
  const x = new AdjFloat(-1.2);
  const y = new AdjFloat(1);
  const J = withTape(tape, () =>
    np.add(np.square(np.subtract(1, x)), np.multiply(100, np.square(np.subtract(y, np.square(x))))),
  );
  return { tape, x, y, rf: new ReducedFunctional(J, [new Control(x), new Control(y)], { tape }) };
}

describe("taylorTest / taylorToDict", () => {
  it("taylorTest: rate about 2 with the gradient, about 3 with the Hessian", () => {
    const { rf } = rosenbrockLike();
    expect(taylorTest(rf, [0.5, 0.3], [0.1, -0.2])).toBeGreaterThan(1.9);
    expect(taylorTest(rf, [0.5, 0.3], [0.1, -0.2], { hessian: true })).toBeGreaterThan(2.9);
  });

  it("taylorTest with a wrong dJdm converges at rate 1", () => {
    const { rf } = rosenbrockLike();
    expect(taylorTest(rf, [0.5, 0.3], [0.1, -0.2], { dJdm: 123 })).toBeLessThan(1.1);
  });

  it("taylorToDict reports residuals and rates of R0, R1, R2", () => {
    const { rf } = rosenbrockLike();
    const report = taylorToDict(rf, [0.5, 0.3], [0.1, -0.2], { hessian: true });
    expect(report.epsilons).toEqual([0.01, 0.005, 0.0025, 0.00125]);
    expect(report.R0.rates.every((r) => Math.abs(r - 1) < 0.1)).toBe(true);
    expect(report.R1.rates.every((r) => Math.abs(r - 2) < 0.1)).toBe(true);
    expect(report.R2?.rates.every((r) => r > 2.9)).toBe(true);
    expect(report.R2?.residuals).toHaveLength(4);
  });

  it("leaves the control values and the tape as it found them", () => {
    const { rf, tape, x } = rosenbrockLike();
    const before = rf.evaluate([0.25, 0.75]);
    const blocks = tape.blocks.length;
    taylorTest(rf, [0.5, 0.3], [0.1, -0.2], { hessian: true });
    expect(rf.controlValues().map((v) => (v as AdjFloat).value)).toEqual([0.25, 0.75]);
    expect(tape.blocks.length).toBe(blocks);
    expect(rf.value()).toBe(before);
    expect(x.value).toBe(-1.2);
  });

  it("a single control takes plain values; bad epsilons are a typed error", () => {
    const tape = new Tape();
    const x = new AdjFloat(0.3);
    const J = withTape(tape, () => np.exp(np.sin(x)));
    const rf = new ReducedFunctional(J, new Control(x), { tape });
    expect(taylorTest(rf, 0.3, 0.5, { hessian: true })).toBeGreaterThan(2.9);
    expect(() => taylorTest(rf, 0.3, 0.5, { epsilons: [0.1] })).toThrow(InvalidArgumentError);
  });
});
