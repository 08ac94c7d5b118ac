/**
 * @file Arguments of the drivers and the reduced functionals: plain data where an NDArray / a 0-d seed is
 * expected (numbers, nested arrays, Float64Arrays), messages that say what was expected and what was
 * received, and typed errors (naming the operation and the argument) for wrong-typed arguments.
 */
import {
  AdjFloat,
  Control,
  ControlCountMismatchError,
  computeGradient,
  computeHessian,
  computeTLM,
  InvalidArgumentError,
  np,
  ReducedFunction,
  ReducedFunctional,
  ShapeMismatchError,
  Tape,
  TsadjointError,
  taylorTest,
  withTape,
} from "tsadjoint";
import { minimize } from "tsadjoint/optimize";
import { describe, expect, it } from "vitest";

type NDArray = InstanceType<typeof np.NDArray>;

/** J = sum(x^2) * s with x of shape [3] and s an AdjFloat; y = sum(x^3) a 0-d NDArray. */
function record() {
  const tape = new Tape();
  const x = np.array([1, 2, 3]);
  const s = new AdjFloat(0.5);
  const J = withTape(tape, () => np.multiply(np.sum(np.square(x)), s));
  const y = withTape(tape, () => np.sum(np.power(x, 3)) as NDArray);
  return { tape, x, s, J, y, cx: new Control(x), cs: new Control(s) };
}

/** The error `fn` throws (it must throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

describe("plain data where an NDArray or a 0-d seed is expected", () => {
  it("ReducedFunction.adjJacAction(1) on a 0-d output equals the 0-d NDArray seed", () => {
    const { tape, y, cx } = record();
    expect(y.shape).toEqual([]);
    const rf = new ReducedFunction(y, cx, { tape });
    const withNumber = rf.adjJacAction(1) as NDArray;
    const withArray = rf.adjJacAction(np.array(1)) as NDArray;
    expect(Array.from(withNumber.data)).toEqual([3, 12, 27]);
    expect(Array.from(withNumber.data)).toEqual(Array.from(withArray.data));
  });

  it("computeGradient(J, c, { adjValue: 2 }) with a number seed on a 0-d NDArray output", () => {
    const { tape, y, cx } = record();
    const g = computeGradient(y, cx, { tape, adjValue: 2 }) as NDArray;
    expect(Array.from(g.data)).toEqual([6, 24, 54]);
    const h = computeHessian(y, cx, [1, 0, 0], { tape, adjValue: 2 }) as NDArray;
    expect(Array.from(h.data)).toEqual([12, 0, 0]);
  });

  it("ReducedFunctional.evaluate: [[1, 2, 3]] and [1, 2, 3] and a Float64Array set one control of shape [3]", () => {
    const { tape, x, J } = record();
    const rf = new ReducedFunctional(J, new Control(x), { tape });
    const expected = (1 + 4 + 9) * 0.5;
    expect(rf.evaluate([[2, 0, 0]])).toBe(2);
    expect(rf.evaluate([1, 2, 3])).toBe(expected);
    expect(rf.evaluate(Float64Array.of(0, 0, 1))).toBe(0.5);
    const listed = new ReducedFunctional(J, [new Control(x)], { tape });
    expect(listed.evaluate([[1, 2, 3]])).toBe(expected);
    // @ts-expect-error the types ask for the list form [value]; the runtime also accepts the bare value
    expect(listed.evaluate([1, 2, 3])).toBe(expected);
    // directions too (at x = [1, 2, 3])
    rf.evaluate([1, 2, 3]);
    expect(rf.tlm([1, 0, 0])).toBeCloseTo(2 * 1 * 0.5, 14);
    const tlm = computeTLM(J, new Control(x), [[0, 1, 0]], { tape }) as NDArray;
    expect(Array.from(tlm.data)).toEqual([2 * 2 * 0.5]);
  });

  it("ReducedFunction.evaluate with two controls: [nested array, number]", () => {
    const { tape, J, cx, cs } = record();
    const rf = new ReducedFunction(J, [cx, cs], { tape });
    expect(Array.from((rf.evaluate([[1, 1, 1], 2]) as NDArray).data)).toEqual([6]);
    expect(() => rf.evaluate([[1, 1], 2])).toThrow(ShapeMismatchError);
  });

  it("messages say what was expected and what was received (type and shape), never 'shapes [] and [] do not fit'", () => {
    const { tape, x, s, J } = record();
    const rf = new ReducedFunctional(J, [new Control(x), new Control(s)], { tape });
    // @ts-expect-error deliberately wrong: an NDArray for the AdjFloat control
    const typeError = thrown(() => rf.evaluate([np.array([1, 2, 3]), np.array(1)]));
    expect(typeError).toBeInstanceOf(InvalidArgumentError);
    expect(typeError.message).toContain(
      "value 1: expected a number or an AdjFloat, got an NDArray of shape []",
    );
    expect(typeError.message).not.toContain("shapes [] and []");
    const shapeError = thrown(() => rf.evaluate([np.array([1, 2]), 1]));
    expect(shapeError).toBeInstanceOf(ShapeMismatchError);
    expect(shapeError.message).toContain("expected an NDArray of shape [3]");
    expect(shapeError.message).toContain("got an NDArray of shape [2]");
    // @ts-expect-error deliberately wrong: three values for two controls
    const countError = thrown(() => rf.evaluate([1, 2, 3]));
    expect(countError).toBeInstanceOf(ControlCountMismatchError);
  });
});

describe("wrong-typed arguments are typed errors naming the operation and the argument", () => {
  const cases: [string, (r: ReturnType<typeof record>) => unknown, string][] = [
    [
      "new ReducedFunctional(J, null)",
      ({ J, tape }) => new ReducedFunctional(J, null as never, { tape }),
      "controls",
    ],
    [
      "new ReducedFunctional(null, c)",
      ({ cx, tape }) => new ReducedFunctional(null as never, cx, { tape }),
      "functional",
    ],
    [
      "new ReducedFunctional(3, c)",
      ({ cx, tape }) => new ReducedFunctional(3 as never, cx, { tape }),
      "functional",
    ],
    [
      "new ReducedFunction(J, [c, 1])",
      ({ J, cx, tape }) => new ReducedFunction(J, [cx, 1] as never, { tape }),
      "controls[1]",
    ],
    ["computeGradient(J, null)", ({ J, tape }) => computeGradient(J, null as never, { tape }), "controls"],
    ["computeGradient(J, c, null)", ({ J, cx }) => computeGradient(J, cx, null as never), "options"],
    [
      "computeGradient(J, c, { tape: 1 })",
      ({ J, cx }) => computeGradient(J, cx, { tape: 1 as never }),
      "tape",
    ],
    // @ts-expect-error deliberately wrong: a string value
    ["computeTLM(J, c, 'a')", ({ J, cs, tape }) => computeTLM(J, cs, "a", { tape }), "direction"],
    [
      "minimize(rf, { bounds: 'a' })",
      ({ J, cs, tape }) => minimize(new ReducedFunctional(J, cs, { tape }), { bounds: "a" as never }),
      "bounds",
    ],
    [
      "minimize(rf, { bounds: [[0, 1], 'a'] })",
      ({ J, cx, cs, tape }) =>
        minimize(new ReducedFunctional(J, [cx, cs], { tape }), { bounds: [[0, 1], "a"] as never }),
      "bounds of control 1",
    ],
    ["minimize(null)", () => minimize(null as never), "ReducedFunctional"],
    [
      "taylorTest direction of the wrong shape",
      ({ J, cx, tape }) => taylorTest(new ReducedFunctional(J, cx, { tape }), [1, 2, 3], [1, 2]),
      "direction h",
    ],
    ["new Control(1.5)", () => new Control(1.5 as never), "AdjFloat"],
    ["new Control(null)", () => new Control(null as never), "null"],
    [
      "ReducedFunctional.derivative({ adjInput: 'a' })",
      ({ J, cs, tape }) => new ReducedFunctional(J, cs, { tape }).derivative({ adjInput: "a" as never }),
      "adjInput",
    ],
    [
      "new ReducedFunctional(J, c, { scale: 'a' })",
      ({ J, cs, tape }) => new ReducedFunctional(J, cs, { tape, scale: "a" as never }),
      "scale",
    ],
  ];
  for (const [name, call, mentions] of cases)
    it(name, () => {
      const setup = record();
      const error = thrown(() => call(setup));
      expect(error).toBeInstanceOf(TsadjointError);
      expect(error.message).toContain(mentions);
      // the tape is still usable
      const g = computeGradient(setup.J, setup.cs, { tape: setup.tape }) as AdjFloat;
      expect(g.value).toBe(14);
    });
});
