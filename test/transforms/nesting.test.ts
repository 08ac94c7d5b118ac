import {
  AdjFloat,
  assertRule,
  Control,
  computeGradient,
  computeHessian,
  computeTLM,
  grad,
  hessian,
  hvp,
  jacobian,
  jvp,
  MissingRuleError,
  NDArray,
  np,
  ReducedFunction,
  ReducedFunctional,
  type Scalar,
  stopAnnotating,
  Tape,
  TransformBlock,
  taylorTest,
  valueAndGrad,
  vjp,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";

const x0 = np.array([0.3, -0.8, 1.1]);
const w0 = np.array([0.6, 1.2, -0.5]);

/** f(x) = sum(sin(x)^2) + (x.x)^2: grad = sin(2x) + 4 (x.x) x, H = diag(2 cos 2x) + 4 (x.x) I + 8 x x^T. */
const f = (x: NDArray) => np.add(np.sum(np.square(np.sin(x))), np.square(np.sum(np.square(x))));
function gradF(x: Float64Array): Float64Array {
  const xx = x.reduce((s, v) => s + v * v, 0);
  return x.map((v) => Math.sin(2 * v) + 4 * xx * v);
}
function hessianF(x: Float64Array, v: Float64Array): Float64Array {
  const xx = x.reduce((s, t) => s + t * t, 0);
  const xv = x.reduce((s, t, i) => s + t * v[i], 0);
  return x.map((t, i) => 2 * Math.cos(2 * t) * v[i] + 4 * xx * v[i] + 8 * t * xv);
}

/** A scalar result as a number (ReducedFunctional.evaluate gives a number or a 0-d value). */
function scalarOf(value: unknown): number {
  if (typeof value === "number") return value;
  if (value instanceof AdjFloat) return value.value;
  return (value as NDArray).item();
}

function close(actual: Float64Array, expected: Float64Array, tolerance: number): void {
  const scale = Math.max(...Array.from(expected, Math.abs), 1e-300);
  const error = Math.max(...Array.from(actual, (a, i) => Math.abs(a - expected[i])));
  expect(error / scale).toBeLessThan(tolerance);
}

describe("grad inside a recorded program: one TransformBlock whose rules are Hessian actions", () => {
  it("ReducedFunctional over a program that calls grad(f) gives exact first derivatives", () => {
    const tape = new Tape();
    const x = new NDArray(Float64Array.from(x0.data), [3]);
    const J = withTape(tape, () => {
      const y = np.multiply(x, 1.5); // x -> 1.5 x, recorded
      return np.sum(np.multiply(grad(f)(y), w0)); // <grad f(1.5 x), w>
    });
    expect(tape.blocks.filter((b) => b instanceof TransformBlock).map((b) => b.name)).toEqual(["grad"]);
    const rf = new ReducedFunctional(J, new Control(x), { tape });
    const dJ = rf.derivative() as NDArray;
    // dJ/dx = 1.5 H(1.5 x) w
    const expected = hessianF(
      x0.data.map((v) => 1.5 * v),
      w0.data,
    ).map((v) => 1.5 * v);
    close(dJ.data, expected, 1e-14);
    // replay at a new point: the block recomputes the gradient there
    const x1 = np.array([0.1, 0.4, -0.2]);
    const value = scalarOf(rf.evaluate(x1));
    const g1 = gradF(x1.data.map((v) => 1.5 * v));
    expect(value).toBeCloseTo(
      g1.reduce((s, v, i) => s + v * w0.data[i], 0),
      13,
    );
    close(
      (rf.derivative() as NDArray).data,
      hessianF(
        x1.data.map((v) => 1.5 * v),
        w0.data,
      ).map((v) => 1.5 * v),
      1e-14,
    );
    expect(taylorTest(rf, x0, np.array([0.1, -0.2, 0.05]))).toBeGreaterThan(1.9);
  });

  it("computeTLM through the grad block is the Hessian action", () => {
    const tape = new Tape();
    const x = new NDArray(Float64Array.from(x0.data), [3]);
    const g = withTape(tape, () => grad(f)(np.multiply(x, 1)));
    const tlm = computeTLM(g, new Control(x), w0, { tape }) as NDArray;
    close(tlm.data, hessianF(x0.data, w0.data), 1e-14);
    const rf = new ReducedFunction(g, new Control(x), { tape });
    const jac = rf.jacMatrix() as NDArray;
    expect(jac.shape).toEqual([3, 3]);
    close(jac.data, (hessian(f)(x0) as NDArray).data, 1e-14);
  });

  it("the rule checker passes on grad, valueAndGrad and vjp blocks (first order) and on their values (second order)", () => {
    const cubic = (x: NDArray) => np.sum(np.multiply(np.power(x, 3), np.sin(x)));
    assertRule((x) => grad(cubic)(x as NDArray), [x0], { skipHessian: true });
    assertRule((x) => valueAndGrad(cubic)(x as NDArray)[1], [x0], { skipHessian: true });
    assertRule((x) => valueAndGrad(cubic)(x as NDArray)[0], [x0], { skipHessian: true });
    const map = (x: NDArray, k: Scalar) => np.multiply(np.exp(np.multiply(x, k)), x);
    // the value of vjp / jvp has all four modes (a nested tape, like pointMap)
    assertRule((x, k) => vjp(map, x as NDArray, k as AdjFloat)[0], [x0, 0.7]);
    assertRule((x, k) => jvp(map, [x as NDArray, k as AdjFloat], [w0, 1])[0], [x0, 0.7]);
    // the pullback as a function of the primal and of the cotangent
    assertRule((x, c) => vjp(map, x as NDArray, 0.7)[1](c as NDArray)[0], [x0, w0], { skipHessian: true });
    assertRule((k, c) => vjp(map, x0, k as AdjFloat)[1](c as NDArray)[1], [0.7, w0], { skipHessian: true });
  });

  it("grad of a scalar recorded AdjFloat: d/dz of g(z) = f'(2 z) is 2 f''(2 z)", () => {
    const tape = new Tape();
    const z = new AdjFloat(0.8);
    const cube = (t: Scalar) => np.power(t, 3);
    const g = withTape(tape, () => grad(cube)(z.mul(2)));
    expect(g).toBeInstanceOf(AdjFloat);
    expect(g.value).toBeCloseTo(3 * 1.6 * 1.6, 14);
    expect((computeGradient(g, new Control(z), { tape }) as AdjFloat).value).toBeCloseTo(2 * 6 * 1.6, 13);
    // a second-order driver through the grad block is a third derivative: an error, never a number
    expect(() => computeHessian(g, new Control(z), 1, { tape })).toThrow(MissingRuleError);
  });

  it("values f captures from the enclosing scope are dependencies of the block", () => {
    const tape = new Tape();
    const x = new NDArray(Float64Array.from(x0.data), [3]);
    const s = new AdjFloat(1.3);
    // g(x, s) = grad_x sum(s x^3) = 3 s x^2; J = <g, w>; dJ/ds = <3 x^2, w>, dJ/dx = 6 s x w
    const J = withTape(tape, () => {
      const scale = s.mul(1);
      const g = grad((t: NDArray) => np.sum(np.multiply(np.power(t, 3), scale)))(x);
      return np.sum(np.multiply(g, w0));
    });
    const [dx, ds] = computeGradient(J, [new Control(x), new Control(s)], { tape });
    close(
      (dx as NDArray).data,
      x0.data.map((v, i) => 6 * 1.3 * v * w0.data[i]),
      1e-14,
    );
    expect((ds as AdjFloat).value).toBeCloseTo(
      x0.data.reduce((acc, v, i) => acc + 3 * v * v * w0.data[i], 0),
      14,
    );
  });

  it("jvp's tangent output: adjoint by a Hessian action (in the primal and the tangent), no TLM rule", () => {
    const tape = new Tape();
    const x = new NDArray(Float64Array.from(x0.data), [3]);
    const v = new NDArray(Float64Array.from(w0.data), [3]);
    // t = J_f2(x) v for f2(x) = sin(x) * sum(x); J = sum(t^2)
    const f2 = (t: NDArray) => np.multiply(np.sin(t), np.sum(t));
    const J = withTape(tape, () => np.sum(np.square(jvp(f2, [x], [v])[1])));
    const [dx, dv] = computeGradient(J, [new Control(x), new Control(v)], { tape }) as NDArray[];
    const value = (a: Float64Array, b: Float64Array) =>
      stopAnnotating(() => np.sum(np.square(jvp(f2, [np.array(a)], [np.array(b)])[1])).item());
    const h = 1e-6;
    for (let i = 0; i < 3; i++) {
      const plus = Float64Array.from(x0.data);
      const minus = Float64Array.from(x0.data);
      plus[i] += h;
      minus[i] -= h;
      expect(dx.data[i]).toBeCloseTo((value(plus, w0.data) - value(minus, w0.data)) / (2 * h), 6);
      const vp = Float64Array.from(w0.data);
      const vm = Float64Array.from(w0.data);
      vp[i] += h;
      vm[i] -= h;
      expect(dv.data[i]).toBeCloseTo((value(x0.data, vp) - value(x0.data, vm)) / (2 * h), 6);
    }
    expect(() => computeTLM(J, new Control(x), w0, { tape })).toThrow(MissingRuleError);
  });

  it("hvp, jacobian and hessian recorded on recorded values: replay recomputes them, derivatives are MissingRuleErrors", () => {
    const tape = new Tape();
    const x = new NDArray(Float64Array.from(x0.data), [3]);
    const [hv, J, H] = withTape(tape, () => {
      const y = np.multiply(x, 1);
      return [hvp(f, [y], [w0])[0], jacobian((t: NDArray) => np.sin(t))(y), hessian(f)(y)] as const;
    });
    expect(tape.blocks.map((b) => b.name)).toEqual(["multiply", "hvp", "jacobian", "hessian"]);
    const rf = new ReducedFunction([hv, J, H], new Control(x), { tape });
    const x1 = np.array([0.5, 0.2, -0.9]);
    const [hv1, J1, H1] = rf.evaluate(x1) as NDArray[];
    close(hv1.data, hessianF(x1.data, w0.data), 1e-14);
    close(J1.data, (jacobian((t: NDArray) => np.sin(t))(x1) as NDArray).data, 1e-15);
    close(H1.data, (hessian(f)(x1) as NDArray).data, 1e-15);
    const total = withTape(tape, () => np.sum(hv));
    expect(() => computeGradient(total, new Control(x), { tape })).toThrow(MissingRuleError);
    expect(() => computeGradient(total, new Control(x), { tape })).toThrow(
      /hvp: no adjoint rule when nested/,
    );
    const entry = withTape(tape, () => np.sum(H));
    expect(() => computeTLM(entry, new Control(x), w0, { tape })).toThrow(/hessian: no tangent-linear rule/);
  });

  it("a call on fresh NDArrays with annotation on records one block (as any np operation does)", () => {
    const tape = new Tape();
    const x = new NDArray(Float64Array.from(x0.data), [3]);
    // x has never met a tape: still recorded, so a Control created afterwards sees the dependency
    const g = withTape(tape, () => grad(f)(x));
    const J = withTape(tape, () => np.sum(np.multiply(g, x)));
    const dJ = computeGradient(J, new Control(x), { tape }) as NDArray;
    const grad0 = gradF(x0.data);
    const Hx = hessianF(x0.data, x0.data);
    close(
      dJ.data,
      grad0.map((v, i) => v + Hx[i]),
      1e-14,
    );
  });
});
