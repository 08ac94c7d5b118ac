import { AdjFloat, Control, InvalidArgumentError, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { maximize, minimize } from "tsadjoint/optimize";
import { describe, expect, it } from "vitest";

function rosenbrock() {
  const tape = new Tape();
  const x = new AdjFloat(-1.2);
  const y = new AdjFloat(1);
  const J = withTape(tape, () =>
    np.add(np.square(np.subtract(1, x)), np.multiply(100, np.square(np.subtract(y, np.square(x))))),
  );
  return new ReducedFunctional(J, [new Control(x), new Control(y)], { tape });
}

const values = (x: readonly AdjFloat[]) => x.map((v) => v.value);

describe("minimize / maximize on a ReducedFunctional", () => {
  it("minimize: L-BFGS-B on Rosenbrock from (-1.2, 1), as scipy (about 36 iterations)", () => {
    const rf = rosenbrock();
    const result = minimize(rf);
    expect(result.success).toBe(true);
    expect(values(result.x)[0]).toBeCloseTo(1, 4);
    expect(values(result.x)[1]).toBeCloseTo(1, 4);
    expect(result.iterations).toBeLessThanOrEqual(45);
    expect(result.method).toBe("L-BFGS-B");
    // the tape sits at the optimum
    expect(values(rf.controlValues())).toEqual(values(result.x));
    expect(rf.value()).toBeCloseTo(result.fun, 15);
  });

  it("minimize: a bound that becomes active (x <= 0.5) satisfies KKT", () => {
    const rf = rosenbrock();
    const result = minimize(rf, {
      bounds: [
        [null, 0.5],
        [null, null],
      ],
    });
    const [x, y] = values(result.x);
    expect(x).toBeCloseTo(0.5, 8);
    expect(y).toBeCloseTo(0.25, 4);
    const [gx, gy] = values(rf.derivative());
    expect(gx).toBeLessThan(0); // pushes outward at the upper bound
    expect(Math.abs(gy)).toBeLessThan(1e-4);
  });

  it("minimize: a bound-constrained quadratic with a known answer", () => {
    const tape = new Tape();
    const a = new AdjFloat(0);
    const b = new AdjFloat(0);
    // (a - 3)^2 + 2 (b + 1)^2, a in [0, 2], b in [0, 5] -> (2, 0)
    const J = withTape(tape, () =>
      np.add(np.square(np.subtract(a, 3)), np.multiply(2, np.square(np.add(b, 1)))),
    );
    const rf = new ReducedFunctional(J, [new Control(a), new Control(b)], { tape });
    const result = minimize(rf, {
      bounds: [
        [0, 2],
        [0, 5],
      ],
    });
    expect(values(result.x)[0]).toBeCloseTo(2, 10);
    expect(values(result.x)[1]).toBeCloseTo(0, 10);
    expect(result.fun).toBeCloseTo(1 + 2, 10);
  });

  it("Newton-CG uses Hessian actions and takes fewer iterations than L-BFGS-B on a well-conditioned problem", () => {
    const make = () => {
      const tape = new Tape();
      const xs = [0.9, -0.4, 0.3, 1.2, -0.7].map((v) => new AdjFloat(v));
      // sum_i (c_i x_i^2 + x_i^4 / 4) + 0.1 x_0 x_1
      const J = withTape(tape, () => {
        let total: AdjFloat = np.multiply(0.1, np.multiply(xs[0], xs[1]));
        xs.forEach((x, i) => {
          total = np.add(total, np.add(np.multiply(1 + 0.2 * i, np.square(x)), np.divide(np.power(x, 4), 4)));
        });
        return total;
      });
      return new ReducedFunctional(
        J,
        xs.map((x) => new Control(x)),
        { tape },
      );
    };
    const newton = minimize(make(), { method: "Newton-CG" });
    const lbfgs = minimize(make());
    expect(newton.success).toBe(true);
    expect(newton.hessianActions).toBeGreaterThan(0);
    expect(newton.iterations).toBeLessThan(lbfgs.iterations);
    for (const v of values(newton.x)) expect(Math.abs(v)).toBeLessThan(1e-5);
  });

  it("maximize and a single control; the callback sees every iteration and the control values", () => {
    const tape = new Tape();
    const x = new AdjFloat(0.1);
    const J = withTape(tape, () => np.multiply(x, np.exp(np.negative(x)))); // max at x = 1
    const rf = new ReducedFunctional(J, new Control(x), { tape });
    const seen: number[] = [];
    const result = maximize(rf, {
      method: "BFGS",
      callback: (state) => {
        seen.push(state.controls[0].value);
      },
    });
    expect(result.x.value).toBeCloseTo(1, 5);
    expect(result.fun).toBeCloseTo(Math.exp(-1), 10);
    expect(seen.length).toBe(result.iterations);
  });

  it("bad bounds are a typed error", () => {
    expect(() => minimize(rosenbrock(), { bounds: [[0, 1]] as never })).toThrow(InvalidArgumentError);
  });
});
