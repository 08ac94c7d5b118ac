import fc from "fast-check";
import {
  AdjFloat,
  assertRule,
  Control,
  computeGradient,
  computeHessian,
  computeTLM,
  InvalidArgumentError,
  MissingRuleError,
  np,
  ShapeMismatchError,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import { overloadFunction, type RawValue } from "../../src/custom/overload-function.js";

type NDArray = InstanceType<typeof np.NDArray>;

/** Entry-by-entry map over an NDArray and further NDArrays or numbers of its shape. */
function map(f: (...values: number[]) => number, first: NDArray, ...rest: RawValue[]): NDArray {
  const values = [first, ...rest];
  const out = new Float64Array(first.size);
  for (let i = 0; i < out.length; i++) {
    out[i] = f(...values.map((v) => (typeof v === "number" ? v : v.data[i])));
  }
  return new np.NDArray(out, first.shape);
}

/** Sum of the entries. */
function total(value: RawValue): number {
  if (typeof value === "number") return value;
  let t = 0;
  for (const v of value.data) t += v;
  return t;
}

/**
 * f(x, a) = sin(x) * a with x an array, a a scalar (AdjFloat), all rules by hand.
 * J: d/dx = cos(x) a, d/da = sin(x). Second derivatives: xx = -sin(x) a, xa = cos(x), aa = 0.
 */
const scaledSine = overloadFunction((x: NDArray, a: number) => map((v) => Math.sin(v) * a, x), {
  name: "scaledSine",
  // ydot = cos(x) a xdot + sin(x) adot
  jvp: ({ inputs: [x, a], tangents: [dx, da] }) =>
    map((v, d) => Math.cos(v) * a * d + Math.sin(v) * da, x, dx),
  // xbar = cos(x) a ybar; abar = sum(sin(x) ybar)
  vjp: ({ inputs: [x, a], cotangents: [ybar] }) => [
    map((v, w) => Math.cos(v) * a * w, x, ybar),
    total(map((v, w) => Math.sin(v) * w, x, ybar)),
  ],
  // xhat = ybar (-sin(x) a xdot + cos(x) adot); ahat = sum(ybar cos(x) xdot)
  hvp: ({ inputs: [x, a], tangents: [dx, da], cotangents: [ybar] }) => [
    map((v, d, w) => w * (-Math.sin(v) * a * d + Math.cos(v) * da), x, dx, ybar),
    total(map((v, d, w) => w * Math.cos(v) * d, x, dx, ybar)),
  ],
});

/** Two outputs: (x^2, x * c) with c a constant number argument. */
const squareAndScale = overloadFunction(
  (x: NDArray, c: number) => [map((v) => v * v, x), map((v) => v * c, x)],
  {
    name: "squareAndScale",
    jvp: ({ inputs: [x, c], tangents: [dx] }) => [map((v, d) => 2 * v * d, x, dx), map((d) => c * d, dx)],
    vjp: ({ inputs: [x, c], cotangents: [y0, y1] }) => [
      map((v, w0, w1) => 2 * v * w0 + c * w1, x, y0, y1),
      undefined,
    ],
    hvp: ({ tangents: [dx], cotangents: [y0] }) => [map((d, w0) => 2 * d * w0, dx, y0), undefined],
  },
);

const shapes = fc.oneof(
  fc.constant<number[]>([]),
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
);

function arrayOf(shape: readonly number[], values: readonly number[]): NDArray {
  const size = shape.reduce((a, b) => a * b, 1);
  return new np.NDArray(
    Float64Array.from({ length: size }, (_, i) => values[i % values.length]),
    shape,
  );
}

describe("overloadFunction", () => {
  it("records ONE block per call with the user's rules; all rules pass assertRule", () => {
    fc.assert(
      fc.property(
        shapes,
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 1, maxLength: 5 }),
        fc.double({ min: 0.3, max: 2, noNaN: true }),
        (shape, values, a) => {
          const x = arrayOf(shape, values);
          assertRule((xv, av) => scaledSine(xv as NDArray, av as AdjFloat), [x, a]);
          assertRule(
            (xv) => {
              const [y0, y1] = squareAndScale(xv as NDArray, 1.7);
              return np.add(np.sin(y0), y1);
            },
            [x],
          );
        },
      ),
      { numRuns: 30 },
    );
    const tape = new Tape();
    const x = np.array([0.1, 0.2]);
    const y = withTape(tape, () => scaledSine(x, new AdjFloat(2)));
    expect(tape.blocks.map((b) => b.name)).toEqual(["scaledSine"]);
    expect(Array.from(y.data)).toEqual([Math.sin(0.1) * 2, Math.sin(0.2) * 2]);
  });

  it("numbers are constants, AdjFloats and arrays are dependencies; nested arrays are converted", () => {
    const tape = new Tape();
    const [y0, y1] = withTape(tape, () => squareAndScale([1, 2], 3));
    expect(Array.from(y0.data)).toEqual([1, 4]);
    expect(Array.from(y1.data)).toEqual([3, 6]);
    expect(tape.blocks[0].dependencies).toHaveLength(1);
    const a = new AdjFloat(0.5);
    const x = np.array([0.3]);
    const z = withTape(tape, () => np.sum(scaledSine(x, a)));
    expect(tape.blocks[1].dependencies).toHaveLength(2);
    expect(computeGradient(z, new Control(a), { tape }).value).toBeCloseTo(Math.sin(0.3), 14);
  });

  it("a missing rule throws MissingRuleError naming the function and the mode, never a zero", () => {
    const onlyJvp = overloadFunction((x: NDArray) => map((v) => v * v, x), {
      name: "square",
      jvp: ({ inputs: [x], tangents: [dx] }) => map((v, d) => 2 * v * d, x, dx),
    });
    const tape = new Tape();
    const x = np.array([1, 2]);
    const y = withTape(tape, () => np.sum(onlyJvp(x)));
    expect(computeTLM(y, new Control(x), np.array([1, 0]), { tape }).item()).toBeCloseTo(2, 14);
    const adjoint = () => computeGradient(y, new Control(x), { tape });
    expect(adjoint).toThrow(MissingRuleError);
    expect(adjoint).toThrow(/square.*adjoint.*vjp/);
    const noHvp = overloadFunction((v: number) => v * v, {
      name: "sq",
      jvp: ({ inputs: [v], tangents: [d] }) => 2 * v * d,
      vjp: ({ inputs: [v], cotangents: [w] }) => [2 * v * w],
    });
    const s = new AdjFloat(3);
    const t = withTape(tape, () => noHvp(s));
    expect(computeGradient(t, new Control(s), { tape }).value).toBe(6);
    const hessian = () => computeHessian(t, new Control(s), 1, { tape });
    expect(hessian).toThrow(MissingRuleError);
    expect(hessian).toThrow(/sq.*Hessian.*hvp/);
    const noRules = overloadFunction((v: number) => v * 2, { name: "double" });
    const d = withTape(tape, () => noRules(s));
    expect(() => computeTLM(d, new Control(s), 1, { tape })).toThrow(/double.*tangent-linear.*jvp/);
  });

  it("a rule returning the wrong shape is a typed error naming the rule", () => {
    const bad = overloadFunction((x: NDArray) => x, {
      name: "badIdentity",
      jvp: () => np.zeros([5]),
      vjp: () => [np.zeros([5])],
    });
    const tape = new Tape();
    const x = np.array([1, 2]);
    const y = withTape(tape, () => bad(x));
    expect(() => computeTLM(y, new Control(x), np.array([1, 0]), { tape })).toThrow(ShapeMismatchError);
    const total = withTape(tape, () => np.sum(y));
    expect(() => computeGradient(total, new Control(x), { tape })).toThrow(/vjp/);
    expect(() => bad("nope" as unknown as NDArray)).toThrow(InvalidArgumentError);
  });
});
