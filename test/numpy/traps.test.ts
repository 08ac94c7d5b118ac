import fc from "fast-check";
import {
  AdjFloat,
  assertRule,
  Control,
  computeGradient,
  InvalidArgumentError,
  np,
  ReducedFunctional,
  ShapeMismatchError,
  Tape,
  TsadjointError,
  withTape,
} from "tsadjoint";
import { minimize } from "tsadjoint/optimize";
import { describe, expect, it } from "vitest";
import type { NDArray } from "../../src/values/ndarray.js";

function values(x: unknown): number[] {
  if (typeof x === "number") return [x];
  if (x instanceof AdjFloat) return [x.value];
  return Array.from((x as NDArray).data);
}
function scalar(x: unknown): number {
  return values(x)[0] as number;
}

/** J(q) = sum(where(q > 0, q^2, -q)), recorded at `at` on a fresh tape. */
function piecewise(at: number[]) {
  const tape = new Tape();
  return withTape(tape, () => {
    const q = np.array(at);
    const J = np.sum(np.where(np.greater(q, 0), np.square(q), np.negative(q)));
    return { q, J, rf: new ReducedFunctional(J, new Control(q), { tape }) };
  });
}

describe("np comparisons are recorded (replay recomputes them)", () => {
  it("np.where(np.greater(q, 0), ...) replayed at a new point gives the program's value", () => {
    const { rf } = piecewise([-3, 2]);
    expect(scalar(rf.evaluate(np.array([3, -2])))).toBe(11); // 3^2 + 2
    const gradient = rf.derivative() as NDArray;
    expect(values(gradient)).toEqual([6, -1]); // 2q where q > 0, -1 elsewhere
  });

  it("every comparison and logical function recomputes on replay", () => {
    const cases: [string, (q: NDArray) => NDArray][] = [
      ["greater", (q) => np.greater(q, 0)],
      ["greater_equal", (q) => np.greater_equal(q, 0)],
      ["less", (q) => np.less(q, 0)],
      ["less_equal", (q) => np.less_equal(q, 0)],
      ["equal", (q) => np.equal(q, 2)],
      ["not_equal", (q) => np.not_equal(q, 2)],
      ["logical_not", (q) => np.logical_not(np.greater(q, 0))],
      ["logical_and", (q) => np.logical_and(np.greater(q, 0), np.less(q, 5))],
      ["logical_or", (q) => np.logical_or(np.greater(q, 4), np.less(q, -1))],
      ["logical_xor", (q) => np.logical_xor(np.greater(q, 0), np.less(q, 3))],
      ["sign", (q) => np.sign(q)],
      ["isfinite", (q) => np.isfinite(np.log(np.add(q, 4)))],
      ["isnan", (q) => np.isnan(np.sqrt(q))],
    ];
    for (const [name, mask] of cases) {
      const tape = new Tape();
      const { rf, fresh } = withTape(tape, () => {
        const q = np.array([-3, 2, 0.5]);
        const J = np.sum(np.multiply(mask(q), q));
        return { rf: new ReducedFunctional(J, new Control(q), { tape }), fresh: mask };
      });
      const at = np.array([3, -2, 2]);
      const expected = np.sum(np.multiply(fresh(at), at)) as NDArray;
      expect([name, scalar(rf.evaluate(at))]).toEqual([name, expected.data[0]]);
      // the mask has zero derivative: dJ/dq = mask
      expect([name, values(rf.derivative())]).toEqual([name, values(fresh(at))]);
    }
  });

  it("where with a recorded condition passes the rule checker (all four modes)", () => {
    const x = np.array([-1.5, 0.7, 2, -0.4]);
    assertRule(
      (q) => np.where(np.greater(q as NDArray, 0), np.square(q as NDArray), np.negative(q as NDArray)),
      [x],
    );
    assertRule(
      (q) =>
        np.multiply(
          np.logical_or(np.less(q as NDArray, -1), np.greater_equal(q as NDArray, 1)),
          np.sin(q as NDArray),
        ),
      [x],
    );
    assertRule((q) => np.multiply(np.sign(q as NDArray), np.exp(q as NDArray)), [x]);
  });

  it("where(greater(a, b), a, b) over random shapes passes the rule checker (property)", () => {
    const away = fc.double({ min: 0.1, max: 2, noNaN: true }).chain((m) => fc.constantFrom(m, -m));
    const pair = fc
      .array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 })
      .chain((shape) => {
        const size = shape.reduce((p, n) => p * n, 1);
        return fc.tuple(
          fc.array(away, { minLength: size, maxLength: size }),
          fc.array(away, { minLength: size, maxLength: size }),
          fc.constant(shape),
        );
      })
      .filter(([a, b]) => a.every((v, i) => Math.abs(v - (b[i] as number)) > 0.1));
    fc.assert(
      fc.property(pair, fc.integer({ min: 1, max: 1000 }), ([a, b, shape], seed) => {
        const x = np.array(a, shape);
        const y = np.array(b, shape);
        assertRule(
          (p, q) =>
            np.where(np.greater(p as NDArray, q as NDArray), np.square(p as NDArray), np.sin(q as NDArray)),
          [x, y],
          { seed },
        );
      }),
      { numRuns: 40 },
    );
  });

  it("a comparison's output has zero derivative in all modes", () => {
    const tape = new Tape();
    withTape(tape, () => {
      const q = np.array([1, -1]);
      const mask = np.greater(q, 0);
      const J = np.sum(mask);
      const rf = new ReducedFunctional(J, new Control(q), { tape });
      expect(values(rf.derivative())).toEqual([0, 0]);
      expect(values(rf.tlm(np.array([1, 1])))).toEqual([0]);
      expect(values(rf.hessian(np.array([1, 1])))).toEqual([0, 0]);
    });
  });

  it("minimize optimises the program (the branch taken at the optimum, not at the recording)", () => {
    // J(q) = sum(where(q > 1, (q - 3)^2, (q + 1)^2 + 4)): the minimum 0 is at q = 3, in the branch q > 1,
    // while the recording at q = 0 sits in the other branch (whose minimum would be q = -1, J = 4).
    const tape = new Tape();
    const rf = withTape(tape, () => {
      const q = np.array([0, 0.5]);
      const J = np.sum(
        np.where(np.greater(q, 1), np.square(np.subtract(q, 3)), np.add(np.square(np.add(q, 1)), 4)),
      );
      return new ReducedFunctional(J, new Control(q), { tape });
    });
    const result = minimize(rf, { method: "L-BFGS-B", bounds: [[0, 5]] });
    const x = result.x as NDArray;
    // from q = 0 the gradient points to 0 (bound) in the recorded branch; the true minimum of the program
    // on [0, 5] is at q = 3 (J = 0) but a local method stays near 0, where J is 5: the reported value must be
    // the program's value at the returned point either way
    const check = np.sum(
      np.where(np.greater(x, 1), np.square(np.subtract(x, 3)), np.add(np.square(np.add(x, 1)), 4)),
    ) as NDArray;
    expect(result.fun).toBeCloseTo(check.data[0], 12);
  });

  it("minimize reaches the optimum across a branch switch", () => {
    // relu-like: J(q) = sum(where(q > 0, (q - 2)^2, 4 - 4 q)) is convex and C1 at 0; minimum q = 2
    const tape = new Tape();
    const rf = withTape(tape, () => {
      const q = np.array([-1, -3]);
      const J = np.sum(
        np.where(np.greater(q, 0), np.square(np.subtract(q, 2)), np.subtract(4, np.multiply(q, 4))),
      );
      return new ReducedFunctional(J, new Control(q), { tape });
    });
    const result = minimize(rf, { method: "BFGS" });
    expect(values(result.x)[0]).toBeCloseTo(2, 5);
    expect(values(result.x)[1]).toBeCloseTo(2, 5);
    expect(result.fun).toBeLessThan(1e-9);
  });

  it("np.clip, np.maximum and np.max recompute their selections on replay", () => {
    const tape = new Tape();
    const rf = withTape(tape, () => {
      const q = np.array([-3, 2, 0.5]);
      const J = np.add(np.add(np.sum(np.clip(q, -1, 1)), np.sum(np.maximum(q, 0))), np.max(q));
      return new ReducedFunctional(J, new Control(q), { tape });
    });
    const at = np.array([3, -2, 0.25]);
    // clip: 1 - 1 + 0.25; maximum: 3 + 0 + 0.25; max: 3
    expect(scalar(rf.evaluate(at))).toBeCloseTo(0.25 + 3.25 + 3, 14);
    expect(values(rf.derivative())).toEqual([0 + 1 + 1, 0, 1 + 1]);
  });

  it("np.take with indices computed on the tape is refused (the indices would be frozen)", () => {
    const q = np.array([0, 1]);
    const indices = np.add(q, 0);
    expect(() => np.take(np.array([5, 6, 7]), indices)).toThrow(InvalidArgumentError);
  });
});

describe("NDArray with JavaScript operators", () => {
  const x = np.array([1, 2]);
  it("+, *, - and < throw a TypeError like AdjFloat's", () => {
    // @ts-expect-error the operators are refused on purpose
    expect(() => x + 1).toThrow(TypeError);
    // @ts-expect-error the operators are refused on purpose
    expect(() => x * 2).toThrow(TypeError);
    expect(() => -(x as unknown as number)).toThrow(TypeError);
    expect(() => (x as unknown as number) < 3).toThrow(TypeError);
    expect(() => (new AdjFloat(1) as unknown as number) < 3).toThrow(TypeError);
  });
  it("string conversion works as for AdjFloat", () => {
    expect(`${x}`).toBe("array([1, 2])");
    expect(String(x)).toBe("array([1, 2])");
    expect(x.toString()).toBe("array([1, 2])");
    expect(`${new AdjFloat(1.5)}`).toBe("AdjFloat(1.5)");
  });
});

describe("np options objects reject unknown keys", () => {
  const x = np.array([
    [1, 2],
    [3, 4],
  ]);
  const cases: [string, () => unknown][] = [
    ["sum", () => np.sum(x, { axes: 0 } as never)],
    ["mean", () => np.mean(x, { keepdim: true } as never)],
    ["prod", () => np.prod(x, { axs: 0 } as never)],
    ["max", () => np.max(x, { axis: 0, keep: true } as never)],
    ["min", () => np.min(x, { Axis: 0 } as never)],
    ["norm", () => np.norm(x, { order: 2 } as never)],
    ["cumsum", () => np.cumsum(x, { axes: 0 } as never)],
    ["solve_triangular", () => np.linalg.solve_triangular(x, [1, 2], { lowr: true } as never)],
    ["concatenate", () => np.concatenate([x, x], { axes: 1 } as never)],
    ["stack", () => np.stack([x, x], { axes: 1 } as never)],
    ["take", () => np.take(x, [0], { axes: 1 } as never)],
    ["squeeze", () => np.squeeze(x, { axes: 0 } as never)],
    ["flip", () => np.flip(x, { axes: 0 } as never)],
    ["transpose", () => np.transpose(x, { axis: [1, 0] } as never)],
    ["diagonal", () => np.diagonal(x, { ofset: 1 } as never)],
    ["slice entry", () => np.slice(x, [{ begin: 1 } as never])],
  ];
  for (const [name, call] of cases) {
    it(`np.${name}`, () => {
      expect(call).toThrow(InvalidArgumentError);
      expect(call).toThrow(/unknown option|unknown key/);
    });
  }
  it("np.sum names the misspelt key and the accepted ones", () => {
    expect(() => np.sum(x, { axes: 0 } as never)).toThrow(/"axes".*did you mean "axis".*"keepdims"/);
  });
  it("np.slice with a malformed spec entry is an error, not the whole axis", () => {
    expect(() => np.slice(x, [[2, 5]] as never)).toThrow(InvalidArgumentError);
    expect(() => np.slice(x, ["a"] as never)).toThrow(InvalidArgumentError);
    expect(() => np.slice(x, [null] as never)).toThrow(InvalidArgumentError);
  });
});

describe("np wrong-typed arguments are typed errors", () => {
  const x = np.array([1, 2, 3]);
  const cases: [string, () => unknown, RegExp][] = [
    ["full value", () => np.full([2], "a" as never), /np\.full.*fill/],
    ["linspace stop", () => np.linspace(0, "a" as never, 3), /np\.linspace.*stop/],
    ["linspace num", () => np.linspace(0, 1, -1), /np\.linspace.*num/],
    ["arange", () => np.arange("a" as never), /np\.arange/],
    ["slice start", () => np.slice(x, [{ start: "a" as never }]), /np\.slice.*start/],
    ["normal scale < 0", () => np.random.default_rng(1).normal(0, -1, [2]), /scale/],
    ["uniform low", () => np.random.default_rng(1).uniform("a" as never, 1, [2]), /low/],
    ["transpose axes string", () => np.transpose(x, "ab" as never), /np\.transpose.*axes/],
    ["take null", () => np.take(x, null as never), /np\.take.*indices/],
    ["take strings", () => np.take(x, ["a"] as never), /np\.take.*ind/],
    ["default_rng string", () => np.random.default_rng("a" as never), /default_rng.*seed/],
    ["reshape string", () => np.reshape(x, "ab" as never), /np\.reshape.*shape/],
    ["zeros string", () => np.zeros("a" as never), /np\.zeros.*shape/],
    ["moveaxis", () => np.moveaxis(x, "a" as never, 0), /np\.moveaxis/],
    ["expand_dims", () => np.expand_dims(x, "a" as never), /np\.expand_dims/],
    ["sum keepdims", () => np.sum(x, 0, "yes" as never), /np\.sum.*keepdims/],
    ["eye", () => np.eye("a" as never), /np\.eye/],
    ["add string", () => np.add(x, "a" as never), /np\.add/],
    ["sin null", () => np.sin(null as never), /np\.sin/],
    ["trace axis", () => np.trace(np.eye(2), "a" as never), /np\.trace/],
    ["einsum", () => np.einsum("ij", null as never), /np\.einsum/],
  ];
  for (const [name, call, message] of cases) {
    it(name, () => {
      let error: unknown;
      try {
        call();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(TsadjointError);
      expect((error as Error).message).toMatch(message);
    });
  }
  it("errors do not contradict themselves (no 'shapes [] and [] do not fit')", () => {
    for (const call of [
      () => np.add(np.zeros([2]), np.zeros([3])),
      () => np.matmul(np.zeros([2]), np.zeros([3])),
    ]) {
      let message = "";
      try {
        call();
      } catch (error) {
        message = (error as Error).message;
        expect(error).toBeInstanceOf(ShapeMismatchError);
      }
      expect(message).not.toMatch(/shapes \[\] and \[\]/);
    }
  });
  it("a failed call leaves the tape usable", () => {
    const tape = new Tape();
    withTape(tape, () => {
      const q = new AdjFloat(2);
      expect(() => np.linspace(0, "a" as never, 3)).toThrow(TsadjointError);
      const J = np.square(q);
      expect((computeGradient(J, new Control(q), { tape }) as AdjFloat).value).toBe(4);
    });
  });
});
