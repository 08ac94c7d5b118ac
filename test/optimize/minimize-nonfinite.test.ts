/**
 * @file minimize when the objective or its gradient becomes non-finite away from the start: the optimizers
 * back off (a barrier is solved) or stop with `{ success: false, message, x: best point so far }` (as scipy
 * does), never with an exception from inside the tape; the tape is left at the returned point.
 */
import {
  AdjFloat,
  Control,
  computeGradient,
  NonFiniteValueError,
  np,
  ReducedFunctional,
  Tape,
  withTape,
} from "tsadjoint";
import { minimize } from "tsadjoint/optimize";
import { describe, expect, it } from "vitest";

const methods = ["L-BFGS-B", "BFGS", "Newton-CG"] as const;

/** J(x) = (x - 10)^2 + g(5 - x) on a fresh tape, recorded at x = 0. */
function functional(g: (v: AdjFloat) => AdjFloat) {
  const tape = new Tape();
  const x = new AdjFloat(0);
  const J = withTape(tape, () => np.add(np.square(np.subtract(x, 10)), g(np.subtract(5, x) as AdjFloat)));
  const control = new Control(x);
  return { tape, J, control, rf: new ReducedFunctional(J, control, { tape }) };
}

describe("minimize: non-finite objective or gradient away from the start", () => {
  it.each(methods)(
    "minimize (%s): a log barrier that is NaN beyond x = 5 is solved (steps back off)",
    (method) => {
      // d/dx: 2 (x - 10) + 1 / (5 - x) = 0  ->  2 x^2 - 30 x + 99 = 0
      const { rf } = functional((v) => np.negative(np.log(v)) as AdjFloat);
      const result = minimize(rf, { method, gtol: 1e-10 });
      const expected = (30 - Math.sqrt(108)) / 4;
      expect(result.success).toBe(true);
      expect((result.x as AdjFloat).value).toBeCloseTo(expected, 5);
    },
  );

  it.each(methods)(
    "minimize (%s): an optimum beyond the NaN region returns success false, a message and the best point",
    (method) => {
      // J decreases up to x = 5 (J = 25 there) and is NaN beyond: the optimizers cannot reach a stationary point
      const { tape, J, control, rf } = functional((v) => np.sqrt(v) as AdjFloat);
      const result = minimize(rf, { method });
      expect(result.success).toBe(false);
      expect(result.message.length).toBeGreaterThan(0);
      const x = (result.x as AdjFloat).value;
      expect(Number.isFinite(x)).toBe(true);
      expect(x).toBeLessThanOrEqual(5);
      expect(x).toBeGreaterThan(4);
      expect(result.fun).toBeCloseTo((x - 10) ** 2 + Math.sqrt(5 - x), 12);
      for (const state of result.history) expect(result.fun).toBeLessThanOrEqual(state.value);
      // the tape is left at the returned point, and stays usable
      expect(rf.value()).toBe(result.fun);
      expect(control.tapeValue().value).toBe(x);
      rf.evaluate(3);
      const gradient = computeGradient(J, control, { tape }) as AdjFloat;
      expect(gradient.value).toBeCloseTo(2 * (3 - 10) - 0.5 / Math.sqrt(2), 12);
    },
  );

  it("minimize: an objective that becomes +Infinity (1 / (5 - x) beyond a pole) stops cleanly", () => {
    const { rf } = functional((v) => np.divide(1, np.maximum(np.subtract(v, 0), 0)) as AdjFloat);
    const result = minimize(rf, { method: "L-BFGS-B" });
    expect(Number.isFinite(result.fun)).toBe(true);
    expect(Number.isFinite((result.x as AdjFloat).value)).toBe(true);
    expect(rf.value()).toBe(result.fun);
  });
});

describe("minimize: non-finite at the start", () => {
  it("minimize: a gradient that is not finite at the start throws the tape's NonFiniteValueError naming the block", () => {
    const tape = new Tape();
    const x = new AdjFloat(0);
    const J = withTape(tape, () => np.sqrt(x));
    const rf = new ReducedFunctional(J, new Control(x), { tape });
    expect(() => minimize(rf)).toThrow(NonFiniteValueError);
    expect(() => minimize(rf)).toThrow(/sqrt/);
    expect(rf.controlValues()[0].raw()).toBe(0);
  });
});
