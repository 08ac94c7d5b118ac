import {
  AdjFloat,
  Control,
  ControlCountMismatchError,
  InvalidArgumentError,
  NonScalarFunctionalError,
  np,
  OverloadedValue,
  ReducedFunctional,
  registerOverloadedType,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";

function record() {
  const tape = new Tape();
  const x = new AdjFloat(1);
  const y = new AdjFloat(0.5);
  // J = sin(x^2) * exp(y)
  const J = withTape(tape, () => np.multiply(np.sin(np.square(x)), np.exp(y)));
  return { tape, x, y, J };
}

describe("ReducedFunctional", () => {
  it("evaluate replays at new values without recording; the tape keeps the new values", () => {
    const { tape, x, J } = record();
    const rf = new ReducedFunctional(J, new Control(x), { tape });
    const blocks = tape.blocks.length;
    expect(rf.evaluate(2)).toBeCloseTo(Math.sin(4) * Math.exp(0.5), 14);
    expect(tape.blocks.length).toBe(blocks);
    expect((rf.controls[0].tapeValue() as AdjFloat).value).toBe(2);
    expect(x.value).toBe(1); // values are immutable
    expect(rf.evaluate(new AdjFloat(1))).toBeCloseTo(Math.sin(1) * Math.exp(0.5), 14);
  });

  it("derivative, tlm and hessian with one control", () => {
    const { tape, x, J } = record();
    const rf = new ReducedFunctional(J, new Control(x), { tape });
    rf.evaluate(2);
    const e = Math.exp(0.5);
    expect(rf.derivative().value).toBeCloseTo(4 * Math.cos(4) * e, 13);
    expect(rf.tlm(0.5)).toBeCloseTo(0.5 * 4 * Math.cos(4) * e, 13);
    expect(rf.hessian(1).value).toBeCloseTo((2 * Math.cos(4) - 16 * Math.sin(4)) * e, 12);
  });

  it("hessian works without a prior derivative, and calls leave no state that changes the next", () => {
    const first = record();
    const rf1 = new ReducedFunctional(first.J, new Control(first.x), { tape: first.tape });
    const h1 = rf1.hessian(1).value;
    const second = record();
    const rf2 = new ReducedFunctional(second.J, new Control(second.x), { tape: second.tape });
    rf2.derivative();
    rf2.tlm(3);
    rf2.derivative({ adjInput: 7 });
    const h2 = rf2.hessian(1).value;
    expect(h1).toBe(h2);
    expect(rf1.derivative().value).toBe(rf2.derivative().value);
    expect(rf1.hessian(1).value).toBe(h1);
  });

  it("several controls give arrays; derivativeComponents zeroes the others", () => {
    const { tape, x, y, J } = record();
    const rf = new ReducedFunctional(J, [new Control(x), new Control(y)], { tape });
    const [gx, gy] = rf.derivative();
    expect(gx.value).toBeCloseTo(2 * Math.cos(1) * Math.exp(0.5), 14);
    expect(gy.value).toBeCloseTo(Math.sin(1) * Math.exp(0.5), 14);
    const partial = new ReducedFunctional(J, [new Control(x), new Control(y)], {
      tape,
      derivativeComponents: [1],
    });
    const [px, py] = partial.derivative();
    expect(px.value).toBe(0);
    expect(py.value).toBeCloseTo(gy.value, 15);
    const [hx, hy] = partial.hessian([1, 1]);
    expect(hx.value).toBe(0);
    expect(hy.value).toBeCloseTo(Math.sin(1) * Math.exp(0.5), 14); // d2J/dy2 only
    expect(rf.evaluate([2, 0])).toBeCloseTo(Math.sin(4), 14);
  });

  it("scale multiplies the functional and its derivatives; callbacks see every call", () => {
    const { tape, x, J } = record();
    const seen: string[] = [];
    const rf = new ReducedFunctional(J, new Control(x), {
      tape,
      scale: -2,
      callbacks: {
        evalCbPre: () => seen.push("evalPre"),
        evalCbPost: (value) => seen.push(`evalPost ${value.toFixed(3)}`),
        deriveCbPre: () => seen.push("derivePre"),
        deriveCbPost: () => seen.push("derivePost"),
        hessianCbPre: () => seen.push("hessianPre"),
        hessianCbPost: () => seen.push("hessianPost"),
      },
    });
    const value = rf.evaluate(1);
    expect(value).toBeCloseTo(-2 * Math.sin(1) * Math.exp(0.5), 14);
    expect(rf.derivative().value).toBeCloseTo(-2 * 2 * Math.cos(1) * Math.exp(0.5), 13);
    rf.hessian(1);
    expect(seen).toEqual([
      "evalPre",
      `evalPost ${value.toFixed(3)}`,
      "derivePre",
      "derivePost",
      "hessianPre",
      "hessianPost",
    ]);
  });

  it("errors: mismatched value counts, a non-scalar functional, a bad component", () => {
    const { tape, x, y, J } = record();
    const rf = new ReducedFunctional(J, [new Control(x), new Control(y)], { tape });
    // @ts-expect-error one value for two controls (typed as a tuple)
    expect(() => rf.evaluate([1])).toThrow(ControlCountMismatchError);
    // @ts-expect-error one value for two controls
    expect(() => rf.evaluate([1])).toThrow(/2 control\(s\) but 1 value/);
    // @ts-expect-error three directions for two controls
    expect(() => rf.hessian([1, 2, 3])).toThrow(ControlCountMismatchError);
    expect(() => new ReducedFunctional(J, new Control(x), { tape, derivativeComponents: [3] })).toThrow(
      InvalidArgumentError,
    );
    // the tape is still usable after the errors
    expect(rf.evaluate([1, 0.5])).toBeCloseTo(Math.sin(1) * Math.exp(0.5), 14);

    class Vec extends OverloadedValue {
      constructor(readonly entries: number[]) {
        super();
      }
      raw() {
        return this;
      }
    }
    registerOverloadedType<Vec, Vec>({
      name: "Vec",
      isRaw: (v): v is Vec => v instanceof Vec,
      wrap: (v) => v,
      space: {
        zerosLike: (v) => new Vec(v.entries.map(() => 0)),
        add: (a, b) => new Vec(a.entries.map((e, i) => e + b.entries[i])),
        scale: (a, s) => new Vec(a.entries.map((e) => e * s)),
        dot: (a, b) => a.entries.reduce((t, e, i) => t + e * b.entries[i], 0),
        norm: (a) => Math.hypot(...a.entries),
        copy: (a) => new Vec([...a.entries]),
        size: (a) => a.entries.length,
        toFloat64Array: (a) => Float64Array.from(a.entries),
        fromFloat64Array: (_l, d) => new Vec(Array.from(d)),
        shape: (a) => [a.entries.length],
      },
    });
    const vector = new Vec([1, 2]);
    expect(() => new ReducedFunctional(vector, new Control(vector))).toThrow(NonScalarFunctionalError);
  });
});
