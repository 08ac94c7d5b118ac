import { assertRule, Control, computeGradient, type NDArray, np, Tape, withTape } from "tsadjoint";
import { describe, expect, it } from "vitest";

describe("NDArray methods", () => {
  it("x.mul(y).sum() records and differentiates like the np functions", () => {
    const tape = new Tape();
    const x = np.array([1, 2, 3]);
    const y = np.array([4, 5, 6]);
    const J = withTape(tape, () => x.mul(y).add(1).square().sum());
    expect(J.item()).toBe(25 + 121 + 361);
    const [gx, gy] = computeGradient(J, [new Control(x), new Control(y)], { tape });
    expect(Array.from(gx.data)).toEqual([2 * 5 * 4, 2 * 11 * 5, 2 * 19 * 6]);
    expect(Array.from(gy.data)).toEqual([2 * 5 * 1, 2 * 11 * 2, 2 * 19 * 3]);
  });

  it("every method passes the rule checker", () => {
    const a = np.array([
      [0.5, 0.7],
      [1.1, 1.3],
    ]);
    const b = np.array([
      [0.2, -0.4],
      [0.9, 0.6],
    ]);
    const unary = ["neg", "abs", "exp", "log", "sqrt", "square", "sin", "cos", "tanh"] as const;
    for (const name of unary) assertRule((x) => (x as NDArray)[name](), [a]);
    for (const name of ["add", "sub", "mul", "div"] as const)
      assertRule((x, y) => (x as NDArray)[name](y as NDArray), [a, b]);
    assertRule((x) => (x as NDArray).pow(2.5), [a]);
    assertRule((x) => (x as NDArray).sum(1), [a]);
    assertRule((x) => (x as NDArray).mean(0, true), [a]);
    assertRule((x) => (x as NDArray).prod(), [a]);
    assertRule((x) => (x as NDArray).max(1), [a]);
    assertRule((x) => (x as NDArray).min(0), [a]);
    assertRule((x) => (x as NDArray).reshape([4]), [a]);
    assertRule((x) => (x as NDArray).T, [a]);
    assertRule((x) => (x as NDArray).transpose([1, 0]), [a]);
    assertRule((x, y) => (x as NDArray).matmul(y as NDArray), [a, b]);
    assertRule((x, y) => (x as NDArray).dot(y as NDArray), [a, b]);
  });
});
