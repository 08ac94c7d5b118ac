import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectRates, expectSameNumbers } from "./compare.js";
import { type BrowserSession, openBrowser, runInBrowser } from "./harness.js";
import { run } from "./suites/core.js";

const env = inject("browserEnv");
type CoreResult = ReturnType<typeof run>;

describe.skipIf(env.skipReason !== "")(
  "core in Chromium: tape, AdjFloat, ReducedFunctional, drivers, Taylor tests",
  () => {
    let session: BrowserSession;
    let browser: CoreResult;
    let node: CoreResult;
    beforeAll(async () => {
      session = await openBrowser(env);
      const { result, ms } = await runInBrowser<CoreResult>(session, "core", "run");
      browser = result;
      const start = performance.now();
      node = run();
      console.info(`core: Chromium ${ms.toFixed(0)} ms, Node ${(performance.now() - start).toFixed(0)} ms`);
    });
    afterAll(async () => {
      await session?.browser.close();
    });

    it("the quick start: value, gradient and Hessian action match the closed form", () => {
      const [x, k] = [0.8, 2.5];
      const e = Math.exp(-(x * x) / 2);
      const s = Math.sin(k * x);
      const c = Math.cos(k * x);
      const { quickstart } = browser;
      expect(quickstart.value).toBeCloseTo(s * e, 15);
      expect(quickstart.gradient[0]).toBeCloseTo(k * c * e - x * s * e, 14);
      expect(quickstart.gradient[1]).toBeCloseTo(x * c * e, 14);
      // H [1, 0] = [d2J/dx2, d2J/dk dx]
      const dxx = -k * k * s * e - 2 * k * x * c * e - s * e + x * x * s * e;
      const dkx = c * e - k * x * s * e - x * x * c * e;
      expect(quickstart.hessianAction[0]).toBeCloseTo(dxx, 13);
      expect(quickstart.hessianAction[1]).toBeCloseTo(dkx, 13);
      expect(quickstart.replayed).toBeCloseTo(Math.sin(2.0 * 0.5) * Math.exp(-0.125), 15);
      expect(quickstart.restored).toBe(quickstart.value);
      expect(quickstart.blocks).toEqual(["multiply", "sin", "square", "divide", "exp", "multiply"]);
      expect(quickstart.dot).toMatch(/^digraph "tape" \{/);
    });

    it("Taylor rates about 1, 2 and 3", () => {
      expectRates(browser.quickstart.taylor.R0, 1, "R0");
      expectRates(browser.quickstart.taylor.R1, 2, "R1");
      expectRates(browser.quickstart.taylor.R2, 3, "R2");
    });

    it("computeGradient / computeTLM / computeHessian on sum(tanh(x @ w)) match the closed form", () => {
      const { xa, gradient, tlm, hessian } = browser.drivers;
      const w = [1, 2, 3, 4];
      const dx = [1, 1, 1, 1];
      const dw = [0.5, -0.5, 0.25, 1];
      let tlmExpected = 0;
      for (let i = 0; i < 3; i++) {
        const row = xa.slice(4 * i, 4 * i + 4);
        const z = row.reduce((sum, v, j) => sum + v * w[j], 0);
        const t = Math.tanh(z);
        const d1 = 1 - t * t; // tanh'
        const d2 = -2 * t * d1; // tanh''
        const zDot = row.reduce((sum, v, j) => sum + dx[j] * w[j] + v * dw[j], 0);
        tlmExpected += d1 * zDot;
        for (let j = 0; j < 4; j++) {
          expect(gradient[0][4 * i + j]).toBeCloseTo(d1 * w[j], 14);
          expect(hessian[0][4 * i + j]).toBeCloseTo(d2 * zDot * w[j] + d1 * dw[j], 12);
        }
      }
      expect(tlm).toBeCloseTo(tlmExpected, 13);
    });

    it("a ReducedFunction's Jacobian matrix", () => {
      const [a0, a1] = [0.3, -1.2];
      expect(browser.vectorFunction.jacobianShape).toEqual([2, 2]);
      const expected = [a1, a0, Math.cos(a0), 2 * a1];
      for (const [i, v] of browser.vectorFunction.jacobian.entries()) expect(v).toBeCloseTo(expected[i], 15);
    });

    it("typed errors keep their class, operation and message; a failed call leaves the tape usable", () => {
      const { errors } = browser;
      expect(errors.shapeMismatch).toMatchObject({
        name: "ShapeMismatchError",
        operation: "np.add",
        isTsadjointError: true,
      });
      expect(errors.shapeMismatchClass).toMatchObject({ name: "ShapeMismatchError", operation: "np.matmul" });
      expect(errors.badTaylorSteps).toMatchObject({
        name: "InvalidArgumentError",
        operation: "taylorToDict",
      });
      expect(errors.plusOnAdjFloat?.name).toBe("TypeError");
      expect(errors.plusOnAdjFloat?.message).toMatch(/JavaScript operators/);
      expect(browser.afterErrors).toEqual(browser.quickstart.gradient);
    });

    it("agrees with Node to 1e-14 (every number, the DOT text and the error messages)", () => {
      const worst = expectSameNumbers(browser, node, 1e-14, { loose: /\.taylor\./ });
      console.info(`core: largest relative difference from Node ${worst.toExponential(1)}`);
      expect(session.errors).toEqual([]);
    });
  },
);
