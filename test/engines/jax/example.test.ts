import { describe, expect, it } from "vitest";
import { jaxSeed } from "../../../examples/jax-seed.js";

describe("examples/jax-seed.ts", () => {
  it("the overload_jax seed example: gradient of exp(tr(x y)), Taylor rates about 2 and 3, one block", () => {
    const result = jaxSeed();
    expect(result.blocks).toEqual(["jax:myFunc"]);
    expect(result.taylorRate).toBeGreaterThanOrEqual(1.9);
    expect(result.taylorRateHessian).toBeGreaterThanOrEqual(2.9);
    expect(result.gradient[0]).toHaveLength(9);
    // f = exp(tr(x y)); df/dx = f y^T, df/dy = f x^T
    const [x, y] = result.inputs;
    let trace = 0;
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) trace += x[3 * i + k] * y[3 * k + i];
    expect(result.value).toBeCloseTo(Math.exp(trace), 14);
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 3; k++) {
        expect(result.gradient[0][3 * i + k]).toBeCloseTo(result.value * y[3 * k + i], 13);
        expect(result.gradient[1][3 * i + k]).toBeCloseTo(result.value * x[3 * k + i], 13);
      }
    }
    // the wasm device evaluates exp in float32: close, but not float64-exact
    expect(result.wasmRelativeDifference).toBeLessThan(1e-5);
    expect(result.wasmRelativeDifference).toBeGreaterThan(0);
  });
});
