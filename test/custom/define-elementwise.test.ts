import {
  AdjFloat,
  assertRule,
  Control,
  computeGradient,
  computeHessian,
  defineElementwise,
  InvalidArgumentError,
  np,
  ShapeMismatchError,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import { softplus, softplusElementwise } from "../../examples/custom-block.js";

type NDArray = InstanceType<typeof np.NDArray>;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** hypot(a, b) = sqrt(a^2 + b^2) with its partial derivatives (z = hypot(a, b)). */
const hypot = defineElementwise({
  name: "hypot",
  f: (a, b) => Math.hypot(a, b),
  da: (a, _b, z) => a / z,
  db: (_a, b, z) => b / z,
  daa: (_a, b, z) => (b * b) / (z * z * z),
  dab: (a, b, z) => (-a * b) / (z * z * z),
  dbb: (a, _b, z) => (a * a) / (z * z * z),
});

describe("defineElementwise", () => {
  it("a user softplus passes the rule checker on AdjFloats and on arrays", () => {
    for (const x of [-3, -0.4, 0, 0.7, 4]) assertRule((v) => softplusElementwise(v as AdjFloat), [x]);
    const report = assertRule(
      (v) => np.sum(np.square(softplusElementwise(v as NDArray))),
      [
        np.array([
          [-1.3, 0.2, 2.1],
          [0.5, -0.7, 3],
        ]),
      ],
    );
    expect(report.rateR2).toBeGreaterThan(2.9);
  });

  it("agrees with the hand-written SoftplusBlock of examples/custom-block.ts in value, gradient and Hessian", () => {
    for (const x0 of [-2.5, 0.3, 1.7]) {
      const results = [softplus, softplusElementwise].map((op) => {
        const tape = new Tape();
        const x = new AdjFloat(x0);
        const J = withTape(tape, () => np.square(op(np.sin(x))));
        const control = new Control(x);
        return {
          names: tape.blocks.map((b) => b.name),
          value: J.value,
          gradient: (computeGradient(J, control, { tape }) as AdjFloat).value,
          hessian: (computeHessian(J, control, 0.6, { tape }) as AdjFloat).value,
        };
      });
      expect(results[1].names).toEqual(["sin", "softplus", "square"]);
      expect(results[1].value).toBe(results[0].value);
      expect(results[1].gradient).toBeCloseTo(results[0].gradient, 15);
      expect(results[1].hessian).toBeCloseTo(results[0].hessian, 14);
      const s = Math.sin(x0);
      const expected = 2 * Math.log1p(Math.exp(s)) * sigmoid(s) * Math.cos(x0);
      expect(results[1].gradient).toBeCloseTo(expected, 14);
    }
  });

  it("numbers give numbers without recording; arrays give arrays entry by entry", () => {
    const tape = new Tape();
    withTape(tape, () => {
      expect(softplusElementwise(0)).toBeCloseTo(Math.LN2, 15);
    });
    expect(tape.blocks).toHaveLength(0);
    const y = softplusElementwise(np.array([-1, 0, 1]));
    expect(Array.from(y.data)).toEqual([-1, 0, 1].map((x) => Math.log1p(Math.exp(x))));
  });

  it("a binary operation broadcasts and passes the rule checker in both operands", () => {
    assertRule(
      (a, b) => np.sum(hypot(a as NDArray, b as NDArray)),
      [np.array([[1.2], [-0.8]]), np.array([0.5, -1.5, 2])],
    );
    assertRule((a, b) => hypot(a as AdjFloat, b as AdjFloat), [0.9, -1.3]);
    assertRule((a) => hypot(a as NDArray, 2), [np.array([0.4, -1.1])]);
    const z = hypot(np.array([[3], [5]]), np.array([4, 12]));
    expect(z.shape).toEqual([2, 2]);
    expect(z.toArray()).toEqual([
      [5, Math.hypot(3, 12)],
      [Math.hypot(5, 4), 13],
    ]);
    expect(() => hypot(np.array([1, 2]), np.array([1, 2, 3]))).toThrow(ShapeMismatchError);
  });

  it("records on the tape option", () => {
    const tape = new Tape();
    softplusElementwise(new AdjFloat(1), { tape });
    hypot(new AdjFloat(1), new AdjFloat(2), { tape });
    expect(tape.blocks.map((b) => b.name)).toEqual(["softplus", "hypot"]);
  });

  it("rejects a malformed definition, naming the missing derivative", () => {
    expect(() =>
      defineElementwise({ name: "", f: Math.sin, df: Math.cos, d2f: (x: number) => -Math.sin(x) }),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      defineElementwise({ name: "half", f: Math.sin, df: Math.cos } as unknown as Parameters<
        typeof defineElementwise
      >[0]),
    ).toThrow(/d2f must be a function/);
    expect(() =>
      defineElementwise({ name: "pair", f: Math.max, da: () => 1 } as unknown as Parameters<
        typeof defineElementwise
      >[0]),
    ).toThrow(/db must be a function/);
  });
});
