import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectRates, expectSameNumbers } from "./compare.js";
import { type BrowserSession, openBrowser, runInBrowser } from "./harness.js";
import { run } from "./suites/jax.js";

const env = inject("browserEnv");
type JaxResult = Awaited<ReturnType<typeof run>>;

/** f = exp(tr(x y)); df/dx = f y^T, df/dy = f x^T (x, y 3 x 3, row-major). */
function seedGradient(x: number[], y: number[], f: number): [number[], number[]] {
  const dx = x.map((_, k) => f * y[3 * (k % 3) + Math.floor(k / 3)]);
  const dy = y.map((_, k) => f * x[3 * (k % 3) + Math.floor(k / 3)]);
  return [dx, dy];
}

describe.skipIf(env.skipReason !== "")(
  "tsadjoint/jax in Chromium: overloadJax on jax-js's wasm and cpu devices",
  () => {
    let session: BrowserSession;
    let browser: JaxResult;
    let node: JaxResult;
    beforeAll(async () => {
      session = await openBrowser(env);
      const { result, ms } = await runInBrowser<JaxResult>(session, "jax", "run");
      browser = result;
      const start = performance.now();
      node = await run();
      console.info(`jax: Chromium ${ms.toFixed(0)} ms, Node ${(performance.now() - start).toFixed(0)} ms`);
      console.info(
        `jax: devices ${browser.devices.join(", ")}; WebGPU adapter ${browser.webgpu.adapter}, jax-js webgpu ${browser.webgpu.jaxWebgpu} ${browser.webgpu.reason}`,
      );
    });
    afterAll(async () => {
      await session?.browser.close();
    });

    it("jax-js initialises its cpu and wasm devices in the browser", () => {
      expect(browser.devices).toEqual(expect.arrayContaining(["cpu", "wasm"]));
    });

    it("the overload_jax seed example on wasm: gradient f y^T, f x^T to float32 accuracy, Taylor rate about 2", () => {
      const { inputs, value, gradient, taylorFunction, blocks } = browser.wasm.seed;
      const [x, y] = inputs;
      let trace = 0;
      for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) trace += x[3 * i + k] * y[3 * k + i];
      expect(Math.abs(value - Math.exp(trace)) / Math.exp(trace)).toBeLessThan(1e-6); // exp in float32
      const [dx, dy] = seedGradient(x, y, Math.exp(trace));
      gradient[0].forEach((g, k) => {
        expect(Math.abs(g - dx[k])).toBeLessThan(1e-5 * Math.exp(trace));
      });
      gradient[1].forEach((g, k) => {
        expect(Math.abs(g - dy[k])).toBeLessThan(1e-5 * Math.exp(trace));
      });
      expectRates(taylorFunction.R1, 2, "R1");
      expect(blocks).toEqual(["myFunc"]);
    });

    it("the seed example on cpu: exact float64 gradient, Taylor rates about 2 and 3", () => {
      const { inputs, value, gradient, taylorFunction, taylorHessian } = browser.cpu.seed;
      const [dx, dy] = seedGradient(inputs[0], inputs[1], value);
      gradient[0].forEach((g, k) => {
        expect(g).toBeCloseTo(dx[k], 13);
      });
      gradient[1].forEach((g, k) => {
        expect(g).toBeCloseTo(dy[k], 13);
      });
      expectRates(taylorFunction.R1, 2, "R1");
      expectRates(taylorHessian?.R2 ?? [], 3, "R2");
    });

    it("arithmetic stays float64 on wasm: the polynomial program equals cpu's to 1e-14, Taylor rates 2 and 3", () => {
      expectSameNumbers(browser.wasm.polynomial, browser.cpu.polynomial, 1e-14, { loose: /\.taylor\./ });
      expectRates(browser.wasm.polynomial.taylor.R1, 2, "R1");
      expectRates(browser.wasm.polynomial.taylor.R2, 3, "R2");
    });

    it("wasm evaluates exp in float32 (errors 1e-9 to 1e-6), cpu in float64; an overflow is refused", () => {
      const { exact, cpu, wasm, refusal } = browser.precision;
      let worstCpu = 0;
      let worstWasm = 0;
      exact.forEach((e, i) => {
        worstCpu = Math.max(worstCpu, Math.abs(cpu[i] - e) / e);
        worstWasm = Math.max(worstWasm, Math.abs(wasm[i] - e) / e);
      });
      expect(worstCpu).toBeLessThan(1e-15);
      expect(worstWasm).toBeGreaterThan(1e-9);
      expect(worstWasm).toBeLessThan(1e-6);
      expect(refusal).toMatch(/expOnWasm.*float32/);
    });

    it("WebGPU, where offered: jax-js computes in float32 there and refuses float64 (so tsadjoint/jax stays on cpu/wasm)", () => {
      const probe = browser.webgpu;
      if (!probe.jaxWebgpu) {
        // not offered by this browser / machine: the reason is reported, nothing else to check
        console.info(`jax: WebGPU not available: ${probe.reason}`);
        expect(probe.reason).not.toBe("");
        return;
      }
      const { x, value, gradient } = probe.float32 ?? { x: [], value: Number.NaN, gradient: [] };
      expect(x).toHaveLength(8);
      const exact = x.reduce((sum, v) => sum + Math.sin(v) ** 2, 0);
      // WGSL float32 sin is an approximation (measured about 5e-5 relative on SwiftShader)
      expect(Math.abs(value - exact) / exact).toBeLessThan(1e-3);
      x.forEach((v, i) => {
        expect(Math.abs(gradient[i] - Math.sin(2 * v))).toBeLessThan(1e-3);
      });
      console.info(
        `jax: WebGPU float32 sum(sin(x)^2) relative error ${(Math.abs(value - exact) / exact).toExponential(1)}`,
      );
      expect(probe.float64?.error).toMatch(/float64/);
    });

    it("agrees with Node: wasm and cpu results to 1e-14 (the same wasm kernels run in both)", () => {
      const strip = ({ webgpu: _, ...rest }: JaxResult) => rest;
      const worst = expectSameNumbers(strip(browser), strip(node), 1e-14, { loose: /\.taylor\w*\./ });
      console.info(`jax: largest relative difference from Node ${worst.toExponential(1)}`);
      expect(session.errors).toEqual([]);
    });
  },
);
