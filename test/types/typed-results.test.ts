/**
 * @file Type-level tests of the typed results (issue 9, section 2): derivatives, tangents, Hessian actions,
 * replayed values and `minimize(...).x` are typed by the controls and outputs, and `overloadFunction` rules
 * are typed by the function's parameters. Compiled by `npm run check` (`tsc --noEmit` includes `test/`):
 * every `expectTypeOf` must hold and every `@ts-expect-error` line must be an error. The runtime part
 * checks that the values really have the types the signatures promise.
 */
import {
  AdjFloat,
  Control,
  computeGradient,
  computeHessian,
  computeJacobianAction,
  computeJacobianMatrix,
  computeTLM,
  type NDArray,
  np,
  type OverloadedInput,
  OverloadedValue,
  overloadFunction,
  type PerControl,
  ReducedFunction,
  ReducedFunctional,
  registerOverloadedType,
  Tape,
  withTape,
} from "tsadjoint";
import { minimize } from "tsadjoint/optimize";
import { describe, expect, expectTypeOf, it } from "vitest";

/** A user type: a pair of numbers, registered with its vector space. */
class Pair extends OverloadedValue {
  constructor(
    readonly a: number,
    readonly b: number,
  ) {
    super();
  }
  raw(): Pair {
    return this;
  }
}
registerOverloadedType<Pair, Pair>({
  name: "Pair (typed-results test)",
  isRaw: (v): v is Pair => v instanceof Pair,
  wrap: (v) => v,
  space: {
    zerosLike: () => new Pair(0, 0),
    add: (x, y) => new Pair(x.a + y.a, x.b + y.b),
    scale: (x, s) => new Pair(x.a * s, x.b * s),
    dot: (x, y) => x.a * y.a + x.b * y.b,
    norm: (x) => Math.hypot(x.a, x.b),
    copy: (x) => new Pair(x.a, x.b),
    size: () => 2,
    toFloat64Array: (x) => Float64Array.of(x.a, x.b),
    fromFloat64Array: (_like, d) => new Pair(d[0] ?? 0, d[1] ?? 0),
    shape: () => [2],
  },
});

/** J(p, s) = sum(sin(p) * s) with p an NDArray and s an AdjFloat, and two outputs [sin(p) s, s^3]. */
function record() {
  const tape = new Tape();
  const p = np.array([0.5, 1.5]);
  const s = new AdjFloat(1.3);
  const [y, z, J] = withTape(tape, () => {
    const y = np.multiply(np.sin(p), s);
    const z = np.power(s, 3);
    return [y, z, np.sum(y)] as const;
  });
  return { tape, p, s, y, z, J };
}

describe("typed results (type level; compiled by npm run check)", () => {
  it("Control infers its value type", () => {
    expectTypeOf(new Control(new AdjFloat(1))).toEqualTypeOf<Control<AdjFloat>>();
    expectTypeOf(new Control(np.array([1, 2]))).toEqualTypeOf<Control<NDArray>>();
    expectTypeOf(new Control(new Pair(1, 2))).toEqualTypeOf<Control<Pair>>();
    expectTypeOf(new Control(new AdjFloat(1)).tapeValue()).toEqualTypeOf<AdjFloat>();
    // @ts-expect-error a number is not a control value (wrap it in an AdjFloat)
    expect(() => new Control(1)).toThrow();
  });

  it("the drivers: one control gives one value of its type, a tuple a tuple, an array an array", () => {
    const { tape, p, s, y, z, J } = record();
    const gs = computeGradient(J, new Control(s), { tape });
    expectTypeOf(gs).toEqualTypeOf<AdjFloat>();
    expect(gs).toBeInstanceOf(AdjFloat);
    // @ts-expect-error the derivative of one AdjFloat control is not an NDArray
    const wrong: NDArray = computeGradient(J, new Control(s), { tape });
    expect(wrong).toBeInstanceOf(AdjFloat);

    const g = computeGradient(J, [new Control(p), new Control(s)], { tape });
    expectTypeOf(g).toEqualTypeOf<[NDArray, AdjFloat]>();
    expect(g[0]).toBeInstanceOf(np.NDArray);
    expect(g[1]).toBeInstanceOf(AdjFloat);
    // @ts-expect-error a tuple result cannot be indexed out of range
    expect(g[2]).toBeUndefined();
    // @ts-expect-error nor destructured past its length
    const [, , third] = g;
    expect(third).toBeUndefined();

    const many: Control<NDArray>[] = [new Control(p)];
    expectTypeOf(computeGradient(J, many, { tape })).toEqualTypeOf<NDArray[]>();

    const tlm = computeTLM(y, [new Control(p), new Control(s)], [np.ones([2]), 1], { tape });
    expectTypeOf(tlm).toEqualTypeOf<NDArray>();
    expectTypeOf(computeTLM(J, new Control(s), 1, { tape })).toEqualTypeOf<NDArray>();
    expectTypeOf(computeTLM(z, new Control(s), 1, { tape })).toEqualTypeOf<AdjFloat>();
    // @ts-expect-error an AdjFloat control takes a number or an AdjFloat direction, not an array
    expect(() => computeTLM(J, new Control(s), np.ones([2]), { tape })).toThrow();
    // @ts-expect-error one direction per control
    expect(() => computeTLM(J, [new Control(p), new Control(s)], [np.ones([2])], { tape })).toThrow();

    const h = computeHessian(J, [new Control(p), new Control(s)], [np.array([1, 0]), 0.5], { tape });
    expectTypeOf(h).toEqualTypeOf<[NDArray, AdjFloat]>();
    expectTypeOf(computeHessian(J, new Control(p), np.ones([2]), { tape })).toEqualTypeOf<NDArray>();
  });

  it("ReducedFunctional: derivative, hessian, tlm, evaluate and controlValues", () => {
    const { tape, p, s, J } = record();
    const one = new ReducedFunctional(J, new Control(s), { tape });
    expectTypeOf(one.derivative()).toEqualTypeOf<AdjFloat>();
    expectTypeOf(one.derivative().value).toEqualTypeOf<number>();
    expectTypeOf(one.hessian(1)).toEqualTypeOf<AdjFloat>();
    expectTypeOf(one.tlm(1)).toEqualTypeOf<number>();
    expectTypeOf(one.evaluate).parameter(0).toEqualTypeOf<number | AdjFloat>();
    expectTypeOf(one.controlValues()).toEqualTypeOf<[AdjFloat]>();
    expectTypeOf(one.controls[0].tapeValue()).toEqualTypeOf<AdjFloat>();
    // @ts-expect-error an AdjFloat control is not evaluated at an array
    expect(() => one.evaluate(np.array([1, 2]))).toThrow();
    // @ts-expect-error nor at a string
    expect(() => one.evaluate("2")).toThrow();

    const two = new ReducedFunctional(J, [new Control(p), new Control(s)], { tape });
    expectTypeOf(two).toEqualTypeOf<ReducedFunctional<readonly [Control<NDArray>, Control<AdjFloat>]>>();
    const [dp, ds] = two.derivative();
    expectTypeOf(dp).toEqualTypeOf<NDArray>();
    expectTypeOf(ds).toEqualTypeOf<AdjFloat>();
    expect(dp).toBeInstanceOf(np.NDArray);
    expect(ds).toBeInstanceOf(AdjFloat);
    expectTypeOf(two.hessian([np.ones([2]), 0])).toEqualTypeOf<[NDArray, AdjFloat]>();
    expectTypeOf(two.controlValues()).toEqualTypeOf<[NDArray, AdjFloat]>();
    // NDArray values are accepted as NDArrays, nested number arrays or typed arrays; AdjFloat ones as numbers
    expectTypeOf(two.evaluate).toBeCallableWith([np.array([1, 2]), 2]);
    expectTypeOf(two.evaluate).toBeCallableWith([[1, 2], new AdjFloat(2)]);
    expectTypeOf(two.evaluate).toBeCallableWith([Float64Array.of(1, 2), 2]);
    expect(two.evaluate([np.array([0.5, 1.5]), 1.3])).toBeCloseTo(J.item(), 14);
    // a typed functional is still a ReducedFunctional for code written against the untyped one
    const general: ReducedFunctional = two;
    expectTypeOf(general.derivative()).toEqualTypeOf<OverloadedValue | OverloadedValue[]>();
    expectTypeOf(general.evaluate).parameter(0).toEqualTypeOf<unknown>();
    // @ts-expect-error one value for two controls
    expect(() => two.evaluate([np.array([1, 2])])).toThrow();
    // @ts-expect-error the values in the wrong order
    expect(() => two.evaluate([2, np.array([1, 2])])).toThrow();
  });

  it("ReducedFunction: outputs and controls type jacAction, adjJacAction, hessAction and jacMatrix", () => {
    const { tape, p, s, y, z } = record();
    const rf = new ReducedFunction([y, z], [new Control(p), new Control(s)], { tape });
    expectTypeOf(rf.evaluate([np.array([0.5, 1.5]), 1.3])).toEqualTypeOf<[NDArray, AdjFloat]>();
    expectTypeOf(rf.outputValues()).toEqualTypeOf<[NDArray, AdjFloat]>();
    const [dy, dz] = rf.jacAction([np.ones([2]), 1]);
    expectTypeOf(dy).toEqualTypeOf<NDArray>();
    expectTypeOf(dz).toEqualTypeOf<AdjFloat>();
    expect(dz).toBeInstanceOf(AdjFloat);
    expectTypeOf(rf.adjJacAction([np.ones([2]), undefined])).toEqualTypeOf<[NDArray, AdjFloat]>();
    expectTypeOf(rf.hessAction([np.ones([2]), 0], [np.ones([2]), 1])).toEqualTypeOf<[NDArray, AdjFloat]>();
    const blocks = rf.jacMatrix();
    expectTypeOf(blocks).toEqualTypeOf<[[NDArray, NDArray], [NDArray, NDArray]]>();
    expect(blocks[1][1].shape).toEqual([]);
    // @ts-expect-error one adjoint seed per output
    expect(() => rf.adjJacAction([np.ones([2])])).toThrow();
    // @ts-expect-error an AdjFloat output takes a number seed, not an array
    expect(() => rf.adjJacAction([np.ones([2]), np.ones([2])])).toThrow();

    const general: ReducedFunction = rf;
    expectTypeOf(general.jacAction).returns.toEqualTypeOf<OverloadedValue | OverloadedValue[]>();
    const single = new ReducedFunction(y, new Control(p), { tape });
    expectTypeOf(single.jacAction(np.ones([2]))).toEqualTypeOf<NDArray>();
    expectTypeOf(single.adjJacAction(np.ones([2]))).toEqualTypeOf<NDArray>();
    expectTypeOf(single.jacMatrix()).toEqualTypeOf<NDArray>();
    expectTypeOf(single.controlValues()).toEqualTypeOf<[NDArray]>();

    expectTypeOf(computeJacobianAction([y, z], new Control(s), 1, { tape })).toEqualTypeOf<
      [NDArray, AdjFloat]
    >();
    expectTypeOf(computeJacobianMatrix(z, [new Control(p), new Control(s)], { tape })).toEqualTypeOf<
      [NDArray, NDArray]
    >();
  });

  it("minimize(...).x is typed like the controls", () => {
    const tape = new Tape();
    const a = new AdjFloat(0.3);
    const b = np.array([1, -1]);
    const J = withTape(tape, () => np.add(np.square(np.subtract(a, 1)), np.sum(np.square(b))));
    const one = minimize(new ReducedFunctional(J, new Control(a), { tape }));
    expectTypeOf(one.x).toEqualTypeOf<AdjFloat>();
    expect(one.x.value).toBeCloseTo(1, 5);
    const both = minimize(new ReducedFunctional(J, [new Control(a), new Control(b)], { tape }), {
      callback: ({ controls }) => {
        expectTypeOf(controls).toEqualTypeOf<[AdjFloat, NDArray]>();
      },
    });
    expectTypeOf(both.x).toEqualTypeOf<[AdjFloat, NDArray]>();
    expect(both.x[1]).toBeInstanceOf(np.NDArray);
  });

  it("a registered user type keeps its type", () => {
    const tape = new Tape();
    const v = withTape(tape, () => new Pair(1, 2));
    const control = new Control(v);
    expectTypeOf<PerControl<typeof control>>().toEqualTypeOf<Pair>();
    const g = computeGradient(v, control, { tape, adjValue: new Pair(3, 4) });
    expectTypeOf(g).toEqualTypeOf<Pair>();
    expect(g).toBeInstanceOf(Pair);
    expect([g.a, g.b]).toEqual([3, 4]);
  });

  it("np functions: numbers give numbers, AdjFloats AdjFloats, NDArrays NDArrays", () => {
    const x = new AdjFloat(1);
    const v = np.array([1, 2]);
    expectTypeOf(np.sin(x)).toEqualTypeOf<AdjFloat>();
    expectTypeOf(np.sin(1)).toEqualTypeOf<number>();
    expectTypeOf(np.sin(v)).toEqualTypeOf<NDArray>();
    expectTypeOf(np.add(x, 1)).toEqualTypeOf<AdjFloat>();
    expectTypeOf(np.add(1, 2)).toEqualTypeOf<number>();
    expectTypeOf(np.multiply(v, x)).toEqualTypeOf<NDArray>();
    expectTypeOf(np.sum(v)).toEqualTypeOf<NDArray>();
    expectTypeOf(np.sum(x)).toEqualTypeOf<AdjFloat>();
    expectTypeOf(np.sum(2)).toEqualTypeOf<number>();
    expectTypeOf(np.clip(x, 0, 1)).toEqualTypeOf<AdjFloat>();
    expectTypeOf(np.vdot(v, v)).toEqualTypeOf<AdjFloat>();
    expect(np.sin(x)).toBeInstanceOf(AdjFloat);
    expect(typeof np.sin(1)).toBe("number");
  });

  it("overloadFunction: rules are typed by the function's parameters and results", () => {
    const scale = overloadFunction((x: NDArray, a: number) => np.multiply(x, a), {
      jvp: ({ inputs: [x, a], tangents: [dx, da], outputs: [y] }) => {
        expectTypeOf(x).toEqualTypeOf<NDArray>();
        expectTypeOf(a).toEqualTypeOf<number>();
        expectTypeOf(dx).toEqualTypeOf<NDArray>();
        expectTypeOf(da).toEqualTypeOf<number>();
        expectTypeOf(y).toEqualTypeOf<NDArray>();
        return np.add(np.multiply(dx, a), np.multiply(x, da));
      },
      vjp: ({ inputs: [x, a], cotangents: [ybar], needed: [needX] }) => {
        expectTypeOf(ybar).toEqualTypeOf<NDArray>();
        expectTypeOf(needX).toEqualTypeOf<boolean>();
        return [np.multiply(ybar, a), np.vdot(x, ybar).value];
      },
      hvp: ({ tangents: [dx, da], cotangents: [ybar] }) => [np.multiply(ybar, da), np.vdot(dx, ybar).value],
    });
    expectTypeOf(scale).parameters.toEqualTypeOf<[x: OverloadedInput<NDArray>, a: OverloadedInput<number>]>();
    expectTypeOf<OverloadedInput<number>>().toEqualTypeOf<number | AdjFloat>();
    expectTypeOf(scale).returns.toEqualTypeOf<NDArray>();

    const split = overloadFunction((x: NDArray) => [np.sin(x), np.vdot(x, x).value], {
      jvp: ({ inputs: [x], tangents: [dx] }) => [np.multiply(np.cos(x), dx), 2 * np.vdot(x, dx).value],
      // a missing entry is a zero
      vjp: () => [],
      hvp: () => [],
    });
    expectTypeOf(split).returns.toEqualTypeOf<[NDArray, AdjFloat]>();

    const tape = new Tape();
    const p = np.array([0.5, 1.5]);
    const s = new AdjFloat(2);
    const y = withTape(tape, () => np.sum(scale(p, s)));
    const [gp, gs] = computeGradient(y, [new Control(p), new Control(s)], { tape });
    expect(Array.from(gp.data)).toEqual([2, 2]);
    expect(gs.value).toBeCloseTo(2, 14);
    const [sine, norm2] = withTape(tape, () => split(p));
    expect(sine).toBeInstanceOf(np.NDArray);
    expect(norm2).toBeInstanceOf(AdjFloat);

    overloadFunction((x: NDArray) => x, {
      // @ts-expect-error an NDArray input's adjoint is an NDArray, not a number
      vjp: () => [1],
    });
    overloadFunction((x: NDArray, a: number) => np.multiply(x, a), {
      // @ts-expect-error one result per input, not more
      vjp: ({ cotangents: [ybar] }) => [ybar, 0, 0],
    });
    overloadFunction((x: NDArray) => [x, x], {
      // @ts-expect-error one tangent per output: the function has two
      jvp: ({ tangents: [dx] }) => [dx],
    });
  });
});
