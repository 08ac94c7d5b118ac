import { type Array as JaxArray, numpy as jnp } from "@jax-js/jax";
import { Control, computeGradient, EngineLimitError, Tape, withTape } from "tsadjoint";
import { f64, jaxDevices, overloadJax } from "tsadjoint/jax";
import { describe, expect, it, vi } from "vitest";
import { array, type NDArray } from "../../../src/values/ndarray.js";

/** Non-uniform data: jax-js folds small all-equal arrays in JS at full precision, which would hide wasm's float32. */
const points = array(Array.from({ length: 16 }, (_, i) => 0.37 * i - 2.3 + 0.01 * Math.sin(7 * i)));

function maxRelativeError(actual: Float64Array, expected: (i: number) => number): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = expected(i);
    worst = Math.max(worst, Math.abs(actual[i] - e) / Math.max(Math.abs(e), 1e-300));
  }
  return worst;
}

describe("devices: cpu is exact float64, wasm computes transcendentals in float32", () => {
  it("both devices are initialised with init('cpu', 'wasm')", () => {
    expect(jaxDevices).toEqual(expect.arrayContaining(["cpu", "wasm"]));
  });

  it("exp(sin(x)) and its gradient: cpu to round-off, wasm to about 1e-7 .. 1e-5", () => {
    const fn = (x: JaxArray) => jnp.exp(jnp.sin(x));
    const value = (x: number) => Math.exp(Math.sin(x));
    const derivative = (x: number) => Math.cos(x) * Math.exp(Math.sin(x));
    const errors: Record<string, { value: number; gradient: number }> = {};
    for (const device of ["cpu", "wasm"] as const) {
      const f = overloadJax(fn, { device });
      const tape = new Tape();
      const y = withTape(tape, () => f(points));
      const gradient = computeGradient(y, new Control(points), {
        tape,
        adjValue: array(new Float64Array(16).fill(1), [16]),
      }) as NDArray;
      errors[device] = {
        value: maxRelativeError(y.data, (i) => value(points.data[i])),
        gradient: maxRelativeError(gradient.data, (i) => derivative(points.data[i])),
      };
      f.dispose();
    }
    expect(errors.cpu.value).toBeLessThan(1e-15);
    expect(errors.cpu.gradient).toBeLessThan(1e-14);
    expect(errors.wasm.value).toBeGreaterThan(1e-9);
    expect(errors.wasm.value).toBeLessThan(1e-5);
    expect(errors.wasm.gradient).toBeGreaterThan(1e-9);
    expect(errors.wasm.gradient).toBeLessThan(1e-4);
  });

  it("arithmetic (matmul, sums, products) stays float64 on wasm", () => {
    const f = overloadJax((a: JaxArray, b: JaxArray) => jnp.matmul(a, b), { device: "wasm" });
    const a = array([
      [0.1, 0.2, 0.3],
      [0.4, 0.5, 0.6],
    ]);
    const b = array([[0.7], [0.8], [0.9]]);
    const c = f(a, b);
    expect(c.data[0]).toBe(0.1 * 0.7 + 0.2 * 0.8 + 0.3 * 0.9);
    f.dispose();
  });

  it("a wasm value that overflows float32 (exp(100)) is an EngineLimitError, never a silent Infinity", () => {
    const fn = (x: JaxArray) => jnp.exp(x);
    const x = array([100, 1.5]);
    const cpu = overloadJax(fn, { device: "cpu" });
    expect(cpu(x).data[0]).toBe(Math.exp(100));
    const wasm = overloadJax(fn, { device: "wasm", name: "expOnWasm" });
    expect(() => wasm(x)).toThrow(EngineLimitError);
    expect(() => wasm(x)).toThrow(/expOnWasm.*float32/);
    // a value that is infinite in float64 too is returned as it is
    const log = overloadJax((v: JaxArray) => jnp.log(v), { device: "wasm" });
    expect(log(array([0, 2])).data[0]).toBe(Number.NEGATIVE_INFINITY);
    cpu.dispose();
    wasm.dispose();
    log.dispose();
  });
});

describe("float64 constants under jit: f64(value)", () => {
  const x = array([1, 2, 3, 0.7]);
  const exact = Array.from(x.data, (v) => v * 0.1);

  it("x * 0.1 is rounded to float32 under jit; x * f64(0.1) is exact; without jit both are exact", () => {
    const plainJit = overloadJax((v: JaxArray) => v.mul(0.1), { jit: true });
    const constantJit = overloadJax((v: JaxArray) => v.mul(f64(0.1)), { jit: true });
    const plainEager = overloadJax((v: JaxArray) => v.mul(0.1), { jit: false });
    const rounded = plainJit(x).data;
    expect(maxRelativeError(rounded, (i) => exact[i])).toBeGreaterThan(1e-9); // 0.1 became 0.10000000149011612
    expect(rounded[0]).toBe(Math.fround(0.1));
    expect(Array.from(constantJit(x).data)).toEqual(exact);
    expect(Array.from(plainEager(x).data)).toEqual(exact);
    // the derivative carries the same constant
    const tape = new Tape();
    const y = withTape(tape, () => constantJit(x));
    const g = computeGradient(y, new Control(x), { tape, adjValue: array([1, 1, 1, 1]) });
    expect(Array.from(g.data)).toEqual([0.1, 0.1, 0.1, 0.1]);
    for (const f of [plainJit, constantJit, plainEager]) f.dispose();
  });

  it("f64 gives a float64 0-d array and rejects non-numbers", () => {
    const c = f64(0.1);
    expect(c.dtype).toBe(jnp.float64);
    expect(c.shape).toEqual([]);
    expect(c.item()).toBe(0.1);
    expect(() => f64("0.1" as unknown as number)).toThrow(/f64/);
  });
});

describe("Float16Array shim", () => {
  it("is installed on Node 20 and is only a placeholder", async () => {
    const shim = await import("../../../src/engines/jax/float16-shim.js");
    const nodeMajor = Number(process.versions.node.split(".")[0]);
    if (nodeMajor < 22) {
      expect(shim.float16ShimInstalled).toBe(true);
      expect((globalThis as { Float16Array?: unknown }).Float16Array).toBe(shim.Float16ArrayPlaceholder);
      expect(() => new shim.Float16ArrayPlaceholder()).toThrow(/Float16Array is not available/);
    }
    expect(
      new Float64Array([1]) instanceof
        (globalThis as unknown as { Float16Array: typeof Object }).Float16Array,
    ).toBe(false);
  });

  it("leaves an existing Float16Array alone", async () => {
    const globals = globalThis as { Float16Array?: unknown };
    const previous = globals.Float16Array;
    class NativeFloat16Array {}
    globals.Float16Array = NativeFloat16Array;
    try {
      vi.resetModules();
      const fresh = await import("../../../src/engines/jax/float16-shim.js");
      expect(fresh.float16ShimInstalled).toBe(false);
      expect(globals.Float16Array).toBe(NativeFloat16Array);
    } finally {
      globals.Float16Array = previous;
    }
  });
});
