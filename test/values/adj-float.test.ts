import { AdjFloat, Control, computeGradient, np, Tape, withTape } from "tsadjoint";
import { describe, expect, it, vi } from "vitest";

describe("AdjFloat", () => {
  it("holds a number and records its methods", () => {
    const tape = new Tape();
    withTape(tape, () => {
      const x = new AdjFloat(2);
      const y = x.mul(x).add(1).sub(x.div(4)).pow(2).neg();
      expect(y.value).toBeCloseTo(-((4 + 1 - 0.5) ** 2), 14);
      const g = computeGradient(y, new Control(x)) as AdjFloat;
      // y = -(x^2 + 1 - x/4)^2, dy/dx = -2 (x^2 + 1 - x/4)(2x - 1/4)
      expect(g.value).toBeCloseTo(-2 * 4.5 * 3.75, 12);
    });
    expect(tape.blocks.length).toBe(6);
  });

  it("short methods match the numpy functions", () => {
    const x = new AdjFloat(0.4);
    for (const [method, fn] of [
      [x.exp(), Math.exp],
      [x.log(), Math.log],
      [x.sqrt(), Math.sqrt],
      [x.sin(), Math.sin],
      [x.cos(), Math.cos],
      [x.tanh(), Math.tanh],
      [x.abs(), Math.abs],
      [x.square(), (v: number) => v * v],
    ] as const) {
      expect(method.value).toBeCloseTo(fn(0.4), 15);
    }
  });

  it("refuses JavaScript arithmetic instead of silently losing the derivative", () => {
    const x = new AdjFloat(1);
    expect(() => (x as unknown as number) + 1).toThrow(TypeError);
    expect(() => (x as unknown as number) * 2).toThrow(/x.value/);
    expect(`${x}`).toBe("AdjFloat(1)");
  });

  it("numbers in give numbers out: nothing recorded", () => {
    const tape = new Tape();
    const y = withTape(tape, () => np.add(np.exp(1), 2));
    expect(typeof y).toBe("number");
    expect(tape.blocks.length).toBe(0);
  });

  it("rejects non-numbers with a typed message", () => {
    expect(() => new AdjFloat("1" as unknown as number)).toThrow(/expected a number/);
    expect(() => np.add({} as unknown as number, new AdjFloat(1))).toThrow(/np.add/);
  });

  it("methods record the same blocks as the np functions (one block each, same names)", () => {
    const tape = new Tape();
    withTape(tape, () => {
      const x = new AdjFloat(0.7);
      x.add(2).sub(x).mul(3).div(x).pow(x).neg().abs().exp().log().sqrt().square().sin().cos().tanh();
      np.tanh(
        np.cos(
          np.sin(
            np.square(
              np.sqrt(
                np.log(
                  np.exp(
                    np.abs(
                      np.negative(np.power(np.divide(np.multiply(np.subtract(np.add(x, 2), x), 3), x), x)),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    });
    const names = tape.blocks.map((block) => block.name);
    expect(names.slice(0, 14)).toEqual(names.slice(14));
    expect(names.slice(0, 5)).toEqual(["add", "subtract", "multiply", "divide", "power"]);
  });

  it("methods name the fix when the elementwise operations are not loaded", async () => {
    // a fresh module graph with values/adj-float alone: nothing has registered AdjFloat's arithmetic
    vi.resetModules();
    const { AdjFloat: Lone } = await import("../../src/values/adj-float.js");
    const { TsadjointError } = await import("../../src/errors.js");
    const x = new Lone(1);
    expect(() => x.add(1)).toThrow(TsadjointError);
    expect(() => x.sin()).toThrow(/AdjFloat\.sin.*import AdjFloat from 'tsadjoint'/);
    // loading the operations registers it
    await import("../../src/ops/elementwise.js");
    expect(x.add(1).value).toBe(2);
    vi.resetModules();
  });
});
