import fc from "fast-check";
import {
  AdjFloat,
  Control,
  computeGradient,
  computeHessian,
  computeJacobianMatrix,
  computeTLM,
  getWorkingTape,
  grad,
  hessian,
  hvp,
  InvalidArgumentError,
  jacobian,
  jvp,
  MissingRuleError,
  NDArray,
  NonScalarFunctionalError,
  np,
  type Scalar,
  ShapeMismatchError,
  setWorkingTape,
  stopAnnotating,
  Tape,
  TsadjointError,
  valueAndGrad,
  vjp,
  withTape,
} from "tsadjoint";
import { afterAll, describe, expect, it } from "vitest";

type Value = number | AdjFloat | NDArray;

function flat(value: Value): Float64Array {
  if (typeof value === "number") return Float64Array.of(value);
  if (value instanceof AdjFloat) return Float64Array.of(value.value);
  return value.data;
}

/** max |a - b| / max |b| (entrywise, infinity norm). */
function relError(a: Value, b: Value): number {
  const x = flat(a);
  const y = flat(b);
  expect(x.length).toBe(y.length);
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    difference = Math.max(difference, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return scale === 0 ? difference : difference / scale;
}

const measured = { drivers: 0, finiteDifferences: 0, secondDerivative: 0, columns: 0 };

function agree(a: Value, b: Value, tolerance: number, kind: keyof typeof measured): void {
  const error = relError(a, b);
  measured[kind] = Math.max(measured[kind], error);
  expect(error).toBeLessThanOrEqual(tolerance);
}

afterAll(() => {
  // the figures quoted in the issue note
  console.log("transforms: max relative error", JSON.stringify(measured));
});

const fresh = (x: NDArray) => new NDArray(x.data, x.shape);

/** Drivers on a private tape: the reference the transforms must match. */
function reference(f: (x: NDArray) => NDArray, x: NDArray, v: NDArray, w?: NDArray) {
  const tape = new Tape();
  const control = fresh(x);
  const J = withTape(tape, () => f(control));
  const c = new Control(control);
  const scalar = J.size === 1;
  return {
    gradient: scalar ? (computeGradient(J, c, { tape }) as NDArray) : undefined,
    pullback: w === undefined ? undefined : (computeGradient(J, c, { tape, adjValue: w }) as NDArray),
    tangent: computeTLM(J, c, v, { tape }) as NDArray,
    hessianAction: scalar ? (computeHessian(J, c, v, { tape }) as NDArray) : undefined,
    jacobian: computeJacobianMatrix(J, c, { tape, pointwise: false }),
  };
}

function finiteGradient(f: (x: NDArray) => NDArray, x: NDArray, h = 1e-6): NDArray {
  const out = new Float64Array(x.size);
  stopAnnotating(() => {
    for (let i = 0; i < x.size; i++) {
      const plus = Float64Array.from(x.data);
      const minus = Float64Array.from(x.data);
      plus[i] += h;
      minus[i] -= h;
      out[i] = (f(new NDArray(plus, x.shape)).item() - f(new NDArray(minus, x.shape)).item()) / (2 * h);
    }
  });
  return new NDArray(out, x.shape);
}

const x4 = np.array([0.3, -0.8, 1.1, 0.45]);
const v4 = np.array([0.7, -0.2, 0.5, 1.3]);
const w4 = np.array([-0.4, 0.9, 0.6, -1.1]);
const square2 = (x: NDArray) => np.reshape(x, [2, 2]);

/** Representative scalar functions of each family (inputs of size 4). */
const scalarFamilies: Record<string, (x: NDArray) => NDArray> = {
  "elementwise sum(sin(x)^2)": (x) => np.sum(np.square(np.sin(x))),
  "elementwise exp, tanh, power, divide": (x) =>
    np.sum(np.divide(np.multiply(np.exp(x), np.tanh(x)), np.add(np.power(x, 2), 1))),
  "elementwise arctan2, hypot, log1p": (x) => np.sum(np.add(np.arctan2(x, 1.5), np.log1p(np.hypot(x, 0.5)))),
  "reduction prod": (x) => np.prod(np.add(x, 2)),
  "reduction mean and norm": (x) => np.add(np.mean(np.square(x)), np.norm(np.multiply(x, x))),
  "reduction cumsum, axis sums": (x) => np.sum(np.square(np.sum(np.cumsum(square2(x), 1), 0))),
  "linalg det": (x) => np.linalg.det(np.add(square2(x), np.eye(2))),
  "linalg inv and matmul": (x) => np.sum(np.matmul(np.linalg.inv(np.add(square2(x), np.eye(2))), square2(x))),
  "linalg trace and einsum": (x) =>
    np.add(
      np.trace(np.matmul(square2(x), np.transpose(square2(x)))),
      np.einsum("ij,jk,ki->", square2(x), square2(x), square2(x)),
    ),
  "shape concatenate, flip, take": (x) =>
    np.sum(
      np.multiply(np.concatenate([np.flip(x), np.take(x, [2, 0, 3, 1])]), np.square(np.concatenate([x, x]))),
    ),
  "shape transpose, slice, stack": (x) =>
    np.sum(np.square(np.stack([np.transpose(square2(x)), np.sin(np.slice(square2(x), [{ step: -1 }]))], 0))),
};

/** Representative vector-valued maps of each family (inputs of size 4). */
const vectorFamilies: Record<string, (x: NDArray) => NDArray> = {
  "elementwise sin(x) x": (x) => np.multiply(np.sin(x), x),
  "reduction cumsum of squares": (x) => np.cumsum(np.square(x)),
  "linalg A x with A(x)": (x) =>
    np.matmul(np.add(square2(x), np.eye(2)), np.slice(x, [{ start: 0, stop: 2 }])),
  "shape concatenate and flip": (x) => np.concatenate([np.flip(np.exp(x)), np.multiply(x, x)]),
};

describe("grad, valueAndGrad, hvp, hessian agree with the drivers and finite differences", () => {
  for (const [name, f] of Object.entries(scalarFamilies)) {
    it(name, () => {
      const ref = reference(f, x4, v4);
      agree(grad(f)(x4), ref.gradient as NDArray, 1e-14, "drivers");
      const [value, gradient] = valueAndGrad(f)(x4);
      agree(
        value,
        stopAnnotating(() => f(x4)),
        1e-14,
        "drivers",
      );
      agree(gradient, ref.gradient as NDArray, 1e-14, "drivers");
      const [hv] = hvp(f, [x4], [v4]);
      agree(hv, ref.hessianAction as NDArray, 1e-14, "drivers");
      agree(grad(f)(x4), finiteGradient(f, x4), 1e-7, "finiteDifferences");
      // the dense Hessian against stacked hvp columns and the driver's Hessian actions
      const H = hessian(f)(x4);
      expect(H.shape).toEqual([4, 4]);
      for (let j = 0; j < 4; j++) {
        const e = np.array([0, 0, 0, 0].map((_, i) => (i === j ? 1 : 0)));
        const [column] = hvp(f, [x4], [e]);
        const dense = np.array([0, 1, 2, 3].map((i) => H.get(i, j)));
        agree(dense, column, 1e-14, "columns");
      }
      const Hv = np.matmul(H, v4);
      agree(Hv, ref.hessianAction as NDArray, 1e-13, "drivers");
    });
  }
});

describe("vjp, jvp, jacobian agree with the drivers", () => {
  for (const [name, f] of Object.entries(vectorFamilies)) {
    it(name, () => {
      const [y, pullback] = vjp(f, x4);
      const out = stopAnnotating(() => f(x4));
      const w = np.array(Array.from({ length: out.size }, (_, i) => Math.cos(i + 0.5)));
      const ref = reference(f, x4, v4, w);
      agree(y, out, 1e-14, "drivers");
      const [xbar] = pullback(w);
      agree(xbar, ref.pullback as NDArray, 1e-14, "drivers");
      const [y2, ydot] = jvp(f, [x4], [v4]);
      agree(y2, out, 1e-14, "drivers");
      agree(ydot, ref.tangent, 1e-14, "drivers");
      const J = jacobian(f)(x4);
      expect(J.shape).toEqual([out.size, 4]);
      agree(J, ref.jacobian as NDArray, 1e-14, "drivers");
      // jacobian = stacked jvp columns
      for (let j = 0; j < 4; j++) {
        const e = np.array([0, 1, 2, 3].map((i) => (i === j ? 1 : 0)));
        const [, column] = jvp(f, [x4], [e]);
        const dense = np.array(Array.from({ length: out.size }, (_, i) => J.get(i, j)));
        agree(dense, column, 1e-14, "columns");
      }
    });
  }
});

describe("several arguments, argnums and scalars", () => {
  const f = (a: NDArray, b: NDArray, k: Scalar) => np.sum(np.multiply(np.sin(np.multiply(a, b)), k));
  const a = np.array([0.2, 0.9, -0.4]);
  const b = np.array([1.3, -0.6, 0.8]);

  it("grad with a tuple of argnums equals computeGradient with a list of controls", () => {
    const tape = new Tape();
    const [ac, bc, kc] = [fresh(a), fresh(b), new AdjFloat(1.7)];
    const J = withTape(tape, () => f(ac, bc, kc));
    const [ga, gb, gk] = computeGradient(J, [new Control(ac), new Control(bc), new Control(kc)], { tape });
    const [ta, tb, tk] = grad(f, { argnums: [0, 1, 2] })(a, b, 1.7);
    expect(typeof tk).toBe("number");
    agree(ta, ga as NDArray, 1e-14, "drivers");
    agree(tb, gb as NDArray, 1e-14, "drivers");
    agree(tk, gk as AdjFloat, 1e-14, "drivers");
    agree(grad(f, { argnums: 1 })(a, b, 1.7), gb as NDArray, 1e-14, "drivers");
    // duplicated argnums give the same gradient twice (as JAX does)
    const [g0, g0again] = grad(f, { argnums: [0, 0] })(a, b, 1.7);
    agree(g0, g0again, 0, "drivers");
  });

  it("a number in gives a number out; an AdjFloat gives an AdjFloat", () => {
    const cube = (x: Scalar) => np.power(x, 3);
    const g = grad(cube)(2);
    expect(g).toBe(12);
    const [value, dv] = valueAndGrad(cube)(2);
    expect(value).toBe(8);
    expect(dv).toBe(12);
    const ga = stopAnnotating(() => grad(cube)(new AdjFloat(2)));
    expect(ga).toBeInstanceOf(AdjFloat);
    expect(ga.value).toBe(12);
    const [y, pullback] = vjp(cube, 2);
    expect(y).toBe(8);
    expect(pullback(1)).toEqual([12]);
    expect(jvp(cube, [2], [1])).toEqual([8, 12]);
    expect(hvp(cube, [2], [1])).toEqual([12]);
    expect(jacobian(cube)(2)).toBe(12);
    expect(hessian(cube)(2)).toBe(12);
  });

  it("the Hessian of several scalar arguments is the structure of structures (JAX's layout)", () => {
    const g = (p: Scalar, q: Scalar) => np.multiply(np.square(p), np.sin(q));
    const [[hpp, hpq], [hqp, hqq]] = hessian(g, { argnums: [0, 1] })(1.5, 0.4);
    expect(hpp).toBeCloseTo(2 * Math.sin(0.4), 14);
    expect(hpq).toBeCloseTo(2 * 1.5 * Math.cos(0.4), 14);
    expect(hqp).toBeCloseTo(hpq, 14);
    expect(hqq).toBeCloseTo(-1.5 * 1.5 * Math.sin(0.4), 14);
  });

  it("jacobian with respect to two arrays gives [out + a, out + b] blocks", () => {
    const h = (p: NDArray, q: NDArray) => np.multiply(np.sin(p), q);
    const [Jp, Jq] = jacobian(h, { argnums: [0, 1] })(a, b);
    expect(Jp.shape).toEqual([3, 3]);
    const expectedP = np.array(
      [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? Math.cos(a.data[i]) * b.data[i] : 0))),
    );
    const expectedQ = np.array(
      [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? Math.sin(a.data[i]) : 0))),
    );
    agree(Jp, expectedP, 1e-15, "drivers");
    agree(Jq, expectedQ, 1e-15, "drivers");
  });

  it("an argument the function ignores has a zero gradient", () => {
    const g = grad((p: NDArray, _q: NDArray) => np.sum(np.square(p)), { argnums: 1 })(a, b);
    expect(Array.from(g.data)).toEqual([0, 0, 0]);
    const [, pullback] = vjp((p: NDArray, _q: Scalar) => np.exp(p), a, 2);
    const [, q0] = pullback(np.ones([3]));
    expect(q0).toBe(0);
  });
});

describe("pytrees", () => {
  type Params = { w: NDArray; b: Scalar };
  const model = (params: Params, [u, s]: readonly [NDArray, Scalar]) =>
    np.sum(np.square(np.add(np.multiply(np.multiply(params.w, u), s), params.b)));
  const params: Params = { w: np.array([0.5, -1.2]), b: 0.3 };
  const input = [np.array([1.5, 0.7]), 2] as const;

  it("objects and tuples round-trip: gradients have the structure and types of the arguments", () => {
    const [gp, gi] = grad(model, { argnums: [0, 1] })(params, input);
    expect(Object.keys(gp)).toEqual(["w", "b"]);
    expect(gp.w).toBeInstanceOf(NDArray);
    expect(typeof gp.b).toBe("number");
    expect(Array.isArray(gi)).toBe(true);
    expect(gi[0]).toBeInstanceOf(NDArray);
    expect(typeof gi[1]).toBe("number");
    // against the drivers on the flattened leaves
    const tape = new Tape();
    const leaves = [fresh(params.w), new AdjFloat(0.3), fresh(input[0]), new AdjFloat(2)] as const;
    const J = withTape(tape, () => model({ w: leaves[0], b: leaves[1] }, [leaves[2], leaves[3]]));
    const reference = computeGradient(
      J,
      leaves.map((leaf) => new Control(leaf)),
      { tape },
    );
    agree(gp.w, reference[0] as NDArray, 1e-14, "drivers");
    agree(gp.b, reference[1] as AdjFloat, 1e-14, "drivers");
    agree(gi[0], reference[2] as NDArray, 1e-14, "drivers");
    agree(gi[1], reference[3] as AdjFloat, 1e-14, "drivers");
  });

  it("vjp and jvp with tree outputs and tree tangents", () => {
    const f = (p: Params) => ({ y: np.multiply(p.w, p.b), z: [np.sum(p.w)] as const });
    const [out, pullback] = vjp(f, params);
    expect(Object.keys(out)).toEqual(["y", "z"]);
    const [ct] = pullback({ y: np.array([1, 2]), z: [np.array(1)] });
    // d/dw <(1,2), w b> + sum(w) = (1,2) b + 1; d/db = <(1,2), w>
    agree(ct.w, np.array([0.3 + 1, 0.6 + 1]), 1e-15, "drivers");
    expect(ct.b).toBeCloseTo(0.5 - 2.4, 15);
    const [, tangent] = jvp(f, [params], [{ w: [1, 0], b: 1 }]);
    // d y = w db + b dw = (0.5 + 0.3, -1.2); d z = 1
    agree(tangent.y, np.array([0.8, -1.2]), 1e-15, "drivers");
    agree(tangent.z[0], np.array(1), 1e-15, "drivers");
  });

  it("jacobian of a tree output keeps the output structure with the input structure at each leaf", () => {
    const f = (p: Params) => [np.multiply(p.w, p.b), np.sum(p.w)] as const;
    const [first, second] = jacobian(f)(params);
    expect(first.w.shape).toEqual([2, 2]);
    expect(first.b).toBeInstanceOf(NDArray);
    expect((first.b as NDArray).shape).toEqual([2]);
    expect(second.w.shape).toEqual([2]);
    expect(second.b).toBeInstanceOf(NDArray);
    agree(first.b, params.w, 1e-15, "drivers");
  });
});

describe("second derivatives by nesting: grad(grad(f))", () => {
  it("scalar: x^3 gives 6x, sin(x)^2 gives 2 cos(2x)", () => {
    for (const x of [-1.3, 0.2, 2]) {
      agree(grad(grad((t: Scalar) => np.power(t, 3)))(x), 6 * x, 1e-15, "secondDerivative");
      agree(
        grad(grad((t: Scalar) => np.square(np.sin(t))))(x),
        2 * Math.cos(2 * x),
        1e-15,
        "secondDerivative",
      );
    }
  });

  it("array: the gradient of <grad f, w> is H w (diagonal and dense Hessians)", () => {
    const f = (x: NDArray) => np.sum(np.square(np.sin(x)));
    const Hw = grad((x: NDArray) => np.sum(np.multiply(grad(f)(x), w4)))(x4);
    agree(Hw, np.multiply(np.cos(np.multiply(x4, 2)), np.multiply(w4, 2)), 1e-14, "secondDerivative");
    // f = (x.x)^2: grad = 4 (x.x) x, H = 4 (x.x) I + 8 x x^T
    const g = (x: NDArray) => np.square(np.sum(np.square(x)));
    const Hw2 = grad((x: NDArray) => np.sum(np.multiply(grad(g)(x), w4)))(x4);
    const xx = np.sum(np.square(x4)).item();
    const xw = np.sum(np.multiply(x4, w4)).item();
    const expected = np.add(np.multiply(w4, 4 * xx), np.multiply(x4, 8 * xw));
    agree(Hw2, expected, 1e-14, "secondDerivative");
    // and the dense Hessian from jacobian(grad(f))
    const H = jacobian(grad(g))(x4);
    agree(np.matmul(H, w4), expected, 1e-14, "secondDerivative");
    agree(H, hessian(g)(x4), 1e-14, "secondDerivative");
  });

  it("works inside stopAnnotating (the private tapes record anyway) and records nothing outside", () => {
    const tape = new Tape();
    const count = withTape(tape, () => {
      const value = stopAnnotating(() => grad(grad((t: NDArray) => np.sum(np.power(t, 3))))(np.array(2)));
      expect(value.item()).toBeCloseTo(12, 14);
      return tape.blocks.length;
    });
    expect(count).toBe(0);
  });

  it("a third derivative is a MissingRuleError naming the transform, never a number", () => {
    const cube = (t: Scalar) => np.power(t, 3);
    expect(() => grad(grad(grad(cube)))(2)).toThrow(MissingRuleError);
    expect(() => grad(grad(grad(cube)))(2)).toThrow(/grad: no second-order/);
    expect(() => hessian(grad(cube))(2)).toThrow(MissingRuleError);
    expect(() => hvp(grad(cube), [2], [1])).toThrow(MissingRuleError);
    expect(() => grad((t: Scalar) => hvp(cube, [t], [1])[0])(2)).toThrow(MissingRuleError);
  });
});

describe("the working tape", () => {
  function snapshot(tape: Tape) {
    return tape.blocks.flatMap((block) =>
      [...block.dependencies, ...block.outputs].map((v) => [v.saved, v.adj, v.tlm, v.hessian]),
    );
  }

  it("is untouched by calls on numbers and by calls with annotation off: same blocks, same values and slots", () => {
    const tape = new Tape();
    const previous = getWorkingTape();
    setWorkingTape(tape);
    try {
      const x = np.array([0.4, -0.3]);
      const J = np.sum(np.exp(np.multiply(x, x)));
      computeGradient(J, new Control(x));
      computeHessian(J, new Control(x), np.array([1, 2]));
      const before = snapshot(tape);
      const blocks = tape.blocks.slice();
      const f = (t: Scalar) => np.multiply(np.sin(t), np.exp(t));
      grad(f)(0.3);
      valueAndGrad(f)(0.3);
      grad(grad(f))(0.3);
      vjp(f, 0.3)[1](1);
      jvp(f, [0.3], [1]);
      hvp(f, [0.3], [1]);
      jacobian(f)(0.3);
      hessian(f)(0.3);
      stopAnnotating(() => {
        grad((t: NDArray) => np.sum(np.multiply(t, x)))(x); // x is on the tape; the call records nothing
        hessian((t: NDArray) => np.sum(np.exp(np.multiply(t, J))))(x);
      });
      expect(tape.blocks).toEqual(blocks);
      const after = snapshot(tape);
      expect(after.length).toBe(before.length);
      expect(after).toEqual(before);
      after.forEach((entry, i) => {
        for (let j = 0; j < entry.length; j++) expect(entry[j]).toBe(before[i][j]);
      });
    } finally {
      setWorkingTape(previous);
    }
  });

  it("gets exactly one block from a call on recorded values; the function's operations stay private", () => {
    const tape = new Tape();
    withTape(tape, () => {
      const x = np.exp(np.array([0.4, -0.3]));
      const count = tape.blocks.length;
      const before = snapshot(tape);
      const g = grad((t: NDArray) => np.sum(np.square(np.sin(np.multiply(t, t)))))(x);
      expect(tape.blocks.length).toBe(count + 1);
      expect(tape.blocks[count].name).toBe("grad");
      expect(tape.blocks[count].outputs[0]).toBe(g.blockVariable);
      const after = snapshot(tape).slice(0, before.length);
      expect(after).toEqual(before);
      after.forEach((entry, i) => {
        for (let j = 0; j < entry.length; j++) expect(entry[j]).toBe(before[i][j]);
      });
    });
  });

  it("a failed call leaves the working tape as it was and usable", () => {
    const tape = new Tape();
    withTape(tape, () => {
      const x = np.exp(np.array([0.4, -0.3]));
      const count = tape.blocks.length;
      expect(() => grad((t: NDArray) => np.sin(t))(x)).toThrow(NonScalarFunctionalError);
      expect(() =>
        grad((t: NDArray) => {
          np.sin(t);
          throw new Error("user error");
        })(x),
      ).toThrow("user error");
      expect(tape.blocks.length).toBe(count);
      const J = np.sum(np.square(x));
      expect((computeGradient(J, new Control(x)) as NDArray).data[0]).toBeCloseTo(2 * Math.exp(0.4), 14);
    });
  });
});

describe("bad input: typed errors naming the transform", () => {
  const x = np.array([1, 2, 3]);
  const f = (t: NDArray) => np.sum(np.square(t));

  function expectError(
    run: () => unknown,
    type: new (...args: never[]) => TsadjointError,
    operation: string,
    message: RegExp,
  ) {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(type);
      expect((error as TsadjointError).operation).toBe(operation);
      expect((error as Error).message).toMatch(message);
      return;
    }
    throw new Error("expected an error");
  }

  it("a non-scalar output for grad, valueAndGrad, hvp and hessian", () => {
    const vector = (t: NDArray) => np.sin(t);
    expectError(() => grad(vector)(x), NonScalarFunctionalError, "grad", /shape \[3\].*scalar/);
    expectError(() => valueAndGrad(vector)(x), NonScalarFunctionalError, "valueAndGrad", /scalar/);
    expectError(() => hvp(vector, [x], [x]), NonScalarFunctionalError, "hvp", /scalar/);
    expectError(() => hessian(vector)(x), NonScalarFunctionalError, "hessian", /scalar/);
    // @ts-expect-error: grad needs a scalar output, not an array of them
    expectError(() => grad((t: NDArray) => [np.sum(t)])(x), NonScalarFunctionalError, "grad", /structure/);
  });

  it("argnums out of range, negative, non-integer or empty", () => {
    expectError(
      () => grad(f, { argnums: 1 })(x),
      InvalidArgumentError,
      "grad",
      /argnums 1 is out of range.*1 argument/,
    );
    expectError(() => jacobian(f, { argnums: [0, 2] })(x), InvalidArgumentError, "jacobian", /argnums 2/);
    expectError(() => grad(f, { argnums: -1 }), InvalidArgumentError, "grad", /argnums must be/);
    expectError(
      () => hessian(f, { argnums: 0.5 }),
      InvalidArgumentError,
      "hessian",
      /argnums must be an integer/,
    );
    expectError(() => valueAndGrad(f, { argnums: [] }), InvalidArgumentError, "valueAndGrad", /non-empty/);
  });

  it("unknown option keys (checkOptions) and a non-function", () => {
    expectError(
      // @ts-expect-error: misspelt option
      () => grad(f, { argnum: 0 }),
      InvalidArgumentError,
      "grad",
      /unknown option "argnum" \(did you mean "argnums"\?\)/,
    );
    expectError(
      // @ts-expect-error: JAX's has_aux is not supported
      () => valueAndGrad(f, { has_aux: true }),
      InvalidArgumentError,
      "valueAndGrad",
      /unknown option "has_aux"/,
    );
    // @ts-expect-error: not a function
    expectError(() => grad("f"), InvalidArgumentError, "grad", /must be a function/);
  });

  it("leaves that are not numbers, AdjFloats or NDArrays; seeds of the wrong structure or shape", () => {
    // @ts-expect-error: a string is not a pytree leaf
    expectError(() => grad(f)("a"), InvalidArgumentError, "grad", /argument 0 is string/);
    const g = (p: { w: NDArray }) => np.sum(p.w);
    // @ts-expect-error: a Map is not a pytree
    expectError(() => grad(g)({ w: new Map() }), InvalidArgumentError, "grad", /argument 0\.w is Map/);
    expectError(() => jvp(f, [x], [np.array([1, 2])]), ShapeMismatchError, "jvp", /tangent/);
    // @ts-expect-error: tangents must be one per primal
    expectError(() => jvp(f, [x], []), InvalidArgumentError, "jvp", /one per primal/);
    const [, pullback] = vjp((p: NDArray) => ({ a: np.sin(p) }), x);
    // @ts-expect-error: the cotangent must have the output's structure
    expectError(() => pullback({ b: x }), InvalidArgumentError, "vjp", /keys a; missing a; unexpected b/);
    expectError(() => pullback({ a: np.array([1, 2]) }), ShapeMismatchError, "vjp", /cotangent/);
    expectError(
      () => grad((t: NDArray) => np.log(np.sum(t)))(np.array([-1, 1])),
      TsadjointError,
      "grad",
      /finite/,
    );
  });
});

describe("random points (property): the transforms equal the drivers", () => {
  it("grad, hvp and jvp on every scalar family at random points and directions", () => {
    // magnitudes 0.2 to 1.2, either sign (away from the kinks of norm and the like)
    const entry = fc
      .tuple(fc.double({ min: 0.2, max: 1.2, noNaN: true }), fc.boolean())
      .map(([m, negative]) => (negative ? -m : m));
    const vector = fc.array(entry, { minLength: 4, maxLength: 4 }).map((v) => np.array(v));
    fc.assert(
      fc.property(vector, vector, (x, v) => {
        for (const f of Object.values(scalarFamilies)) {
          const ref = reference(f, x, v);
          agree(grad(f)(x), ref.gradient as NDArray, 1e-14, "drivers");
          agree(hvp(f, [x], [v])[0], ref.hessianAction as NDArray, 1e-14, "drivers");
          agree(jvp(f, [x], [v])[1], ref.tangent, 1e-14, "drivers");
        }
      }),
      { numRuns: 15 },
    );
  });
});
