import {
  AdjFloat,
  Control,
  ControlCountMismatchError,
  ControlNotOnTapeError,
  InvalidArgumentError,
  np,
  type OverloadedValue,
  ShapeMismatchError,
  stopAnnotating,
  Tape,
  taylorTest,
  taylorToDict,
  ValueNotOnTapeError,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import { ReducedFunction } from "../../src/reduced/reduced-function.js";

type NDArray = InstanceType<typeof np.NDArray>;

function data(value: OverloadedValue): number[] {
  const raw = value.raw();
  return typeof raw === "number" ? [raw] : Array.from((raw as NDArray).data);
}

function expectClose(actual: readonly number[], expected: readonly number[], digits = 12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => {
    expect(v).toBeCloseTo(expected[i], digits);
  });
}

/** F(x, s) = [sin(x) s, x^2 + s^2 (shape [3]), s^3 (AdjFloat)] with x [3], s scalar. */
function problem() {
  const tape = new Tape();
  const x = np.array([0.5, 1.5, -0.25]);
  const s = new AdjFloat(1.3);
  const outputs = withTape(tape, () => [
    np.multiply(np.sin(x), s),
    np.add(np.square(x), np.square(s)),
    np.power(s, 3),
  ]);
  const rf = new ReducedFunction(outputs, [new Control(x), new Control(s)], { tape });
  return { tape, x, s, outputs, rf };
}

/** The same F as plain numbers, for checks. */
function plain(x: readonly number[], s: number) {
  return {
    f0: x.map((v) => Math.sin(v) * s),
    f1: x.map((v) => v * v + s * s),
    f2: s ** 3,
  };
}

describe("ReducedFunction", () => {
  it("evaluate replays at new values and returns one value per output, like the constructor got", () => {
    const { rf, tape } = problem();
    const blocks = tape.blocks.length;
    const values = rf.evaluate([np.array([0.1, 0.2, 0.3]), 2]);
    const expected = plain([0.1, 0.2, 0.3], 2);
    expectClose(data(values[0]), expected.f0, 14);
    expectClose(data(values[1]), expected.f1, 14);
    expect((values[2] as AdjFloat).value).toBeCloseTo(expected.f2, 14);
    expect(tape.blocks.length).toBe(blocks);
    // single output and single control: single values in and out
    const tape2 = new Tape();
    const x = np.array([1, 2]);
    const y = withTape(tape2, () => np.exp(x));
    const rf2 = new ReducedFunction(y, new Control(x), { tape: tape2 });
    const single = rf2.evaluate(np.array([0, 1]));
    expectClose(Array.from(single.data), [1, Math.E], 14);
    expectClose(data(rf2.jacAction(np.array([1, 1]))), [1, Math.E], 14);
    expectClose(data(rf2.adjJacAction(np.array([2, 0]))), [2, 0], 14);
  });

  it("jacAction, adjJacAction and hessAction match the formulas", () => {
    const { rf } = problem();
    const [x, s] = [[0.5, 1.5, -0.25], 1.3];
    const [dx, ds] = [[0.3, -0.2, 0.7], -0.4];
    const action = rf.jacAction([np.array(dx), ds]);
    expectClose(
      data(action[0]),
      x.map((v, i) => Math.cos(v) * dx[i] * s + Math.sin(v) * ds),
    );
    expectClose(
      data(action[1]),
      x.map((v, i) => 2 * v * dx[i] + 2 * s * ds),
    );
    expect((action[2] as AdjFloat).value).toBeCloseTo(3 * s * s * ds, 12);

    const [w0, w1, w2] = [[1, -2, 0.5], [0.25, 0.5, -1], 0.7];
    const adjoint = rf.adjJacAction([np.array(w0), np.array(w1), w2]);
    expectClose(
      data(adjoint[0]),
      x.map((v, i) => Math.cos(v) * s * w0[i] + 2 * v * w1[i]),
    );
    const sBar = x.reduce((t, v, i) => t + Math.sin(v) * w0[i] + 2 * s * w1[i], 0) + 3 * s * s * w2;
    expect((adjoint[1] as AdjFloat).value).toBeCloseTo(sBar, 12);

    // Hessian of <w, F>: d2/dx2 = diag(-sin(x) s w0 + 2 w1); d2/dxds = cos(x) w0; d2/ds2 = sum(2 w1) + 6 s w2
    const hessian = rf.hessAction([np.array(dx), ds], [np.array(w0), np.array(w1), w2]);
    expectClose(
      data(hessian[0]),
      x.map((v, i) => (-Math.sin(v) * s * w0[i] + 2 * w1[i]) * dx[i] + Math.cos(v) * w0[i] * ds),
    );
    const sHat =
      x.reduce((t, v, i) => t + Math.cos(v) * w0[i] * dx[i], 0) +
      (2 * (w1[0] + w1[1] + w1[2]) + 6 * s * w2) * ds;
    expect((hessian[1] as AdjFloat).value).toBeCloseTo(sHat, 12);
  });

  it("keeps no hidden state: results do not depend on earlier calls", () => {
    const fresh = problem().rf;
    const direction = [np.array([0.3, -0.2, 0.7]), -0.4] as const;
    const seeds = [np.array([1, -2, 0.5]), np.array([0.25, 0.5, -1]), 0.7];
    const first = fresh.hessAction(direction, seeds).map(data);
    const used = problem().rf;
    used.adjJacAction([np.array([5, 5, 5]), undefined, 3]);
    used.jacAction([np.array([1, 1, 1]), 2]);
    used.evaluate([np.array([0.5, 1.5, -0.25]), 1.3]);
    const second = used.hessAction(direction, seeds).map(data);
    expect(second).toEqual(first);
  });

  it("jacMatrix gives [output][control] blocks of shape [...outShape, ...controlShape]", () => {
    const { rf } = problem();
    const J = rf.jacMatrix();
    expect(J.map((row) => row.map((b) => [...b.shape]))).toEqual([
      [[3, 3], [3]],
      [[3, 3], [3]],
      [[3], []],
    ]);
    expect(J[2][1].item()).toBeCloseTo(3 * 1.3 * 1.3, 12);
  });

  it("checks controls, outputs, counts and shapes with typed errors", () => {
    const { rf, tape, x } = problem();
    expect(() => rf.evaluate([np.array([1, 2]), 1])).toThrow(ShapeMismatchError);
    // @ts-expect-error one value for two controls (typed as a tuple): a ControlCountMismatchError at run time
    expect(() => rf.evaluate([np.array([1, 2, 3])])).toThrow(ControlCountMismatchError);
    // @ts-expect-error one direction for two controls
    expect(() => rf.jacAction([np.array([1, 2, 3])])).toThrow(ControlCountMismatchError);
    expect(() => rf.adjJacAction([np.array([1, 2, 3]), np.array([1, 2, 3])])).toThrow(
      ControlCountMismatchError,
    );
    expect(() => rf.adjJacAction([np.array([1, 2]), undefined, 1])).toThrow(ShapeMismatchError);
    const stray = new AdjFloat(2);
    expect(() => new ReducedFunction(rf.outputs[0], new Control(stray), { tape })).toThrow(
      ControlNotOnTapeError,
    );
    const offTape = stopAnnotating(() => np.sin(x));
    expect(() => new ReducedFunction(offTape, new Control(x), { tape })).toThrow(ValueNotOnTapeError);
    expect(() => new ReducedFunction([], new Control(x), { tape })).toThrow(InvalidArgumentError);
    expect(() => new ReducedFunction(rf.outputs[0], [], { tape })).toThrow(InvalidArgumentError);
  });

  it("Taylor tests with several outputs and controls: rates about 1, 2 and (with v) 3", () => {
    const { rf } = problem();
    const m = [np.array([0.5, 1.5, -0.25]), 1.3];
    const h = [np.array([0.3, -0.2, 0.7]), -0.4];
    const v = [np.array([1, -2, 0.5]), np.array([0.25, 0.5, -1]), 0.7];
    expect(taylorTest(rf, m, h)).toBeGreaterThan(1.9);
    expect(taylorTest(rf, m, h, { v })).toBeGreaterThan(2.9);
    const report = taylorToDict(rf, m, h, { v });
    expect(report.R0.rates.every((r) => Math.abs(r - 1) < 0.1)).toBe(true);
    expect(report.R1.rates.every((r) => Math.abs(r - 2) < 0.1)).toBe(true);
    expect(report.R2?.rates.every((r) => r > 2.9)).toBe(true);
    // a wrong Jacobian action is caught: rate 1
    type Inputs = Parameters<typeof rf.evaluate>[0];
    const wrong = {
      evaluate: (values: Inputs) => rf.evaluate(values),
      jacAction: (direction: Inputs) =>
        rf.jacAction(direction).map((value, i) => (i === 1 ? np.multiply(value, 1.1) : value)),
      hessAction: (direction: Inputs, seeds: Parameters<typeof rf.hessAction>[1]) =>
        rf.hessAction(direction, seeds),
      controlValues: () => rf.controlValues(),
      controls: rf.controls,
      outputs: rf.outputs,
    };
    expect(taylorTest(wrong, m, h)).toBeLessThan(1.1);
  });

  it("Taylor tests leave the controls and the tape as they found them; bad options are typed errors", () => {
    const { rf, tape } = problem();
    rf.evaluate([np.array([0.2, 0.4, 0.6]), 0.9]);
    const blocks = tape.blocks.length;
    const before = rf.outputValues();
    taylorTest(rf, [np.array([0.5, 1.5, -0.25]), 1.3], [np.array([1, 1, 1]), 1], {
      v: [np.array([1, 1, 1]), np.array([1, 1, 1]), 1],
    });
    expect(tape.blocks.length).toBe(blocks);
    expect(data(rf.controlValues()[0])).toEqual([0.2, 0.4, 0.6]);
    expect(rf.controlValues()[1].value).toBe(0.9);
    expect(rf.outputValues().map(data)).toEqual(before.map(data));
    const m = [np.array([0.5, 1.5, -0.25]), 1.3];
    const h = [np.array([0.3, -0.2, 0.7]), -0.4];
    expect(() => taylorTest(rf, m, h, { hessian: true })).toThrow(InvalidArgumentError);
    expect(() => taylorTest(rf, m, h, { dJdm: 1 })).toThrow(InvalidArgumentError);
    expect(() => taylorTest(rf, m, h, { v: [1] })).toThrow(InvalidArgumentError);
  });
});
