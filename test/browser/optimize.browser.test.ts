import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectSameNumbers } from "./compare.js";
import { type BrowserSession, openBrowser, runInBrowser } from "./harness.js";
import { run } from "./suites/optimize.js";

const env = inject("browserEnv");
type OptimizeSuiteResult = ReturnType<typeof run>;

describe.skipIf(env.skipReason !== "")("tsadjoint/optimize in Chromium: Rosenbrock", () => {
  let session: BrowserSession;
  let browser: OptimizeSuiteResult;
  let node: OptimizeSuiteResult;
  beforeAll(async () => {
    session = await openBrowser(env);
    const { result, ms } = await runInBrowser<OptimizeSuiteResult>(session, "optimize", "run");
    browser = result;
    const start = performance.now();
    node = run();
    console.info(`optimize: Chromium ${ms.toFixed(0)} ms, Node ${(performance.now() - start).toFixed(0)} ms`);
  });
  afterAll(async () => {
    await session?.browser.close();
  });

  it("L-BFGS-B from (-1.2, 1): 36 iterations and 44 evaluations, as in Node and scipy 1.17", () => {
    for (const run of [browser.plain, browser.taped]) {
      expect(run.success).toBe(true);
      expect(run.stopReason).toBe("function-tolerance");
      expect(run.iterations).toBe(36);
      expect(run.functionEvaluations).toBe(44);
      expect(Math.abs(run.x[0] - 1)).toBeLessThan(1e-5);
      expect(Math.abs(run.x[1] - 1)).toBeLessThan(1e-5);
    }
  });

  it("L-BFGS-B with the bound x0 <= 0.5 stops at (0.5, 0.25)", () => {
    expect(browser.bounded.success).toBe(true);
    expect(browser.bounded.x[0]).toBe(0.5);
    expect(browser.bounded.x[1]).toBeCloseTo(0.25, 5);
  });

  it("BFGS and Newton-CG (Hessian actions from the tape) reach the minimum", () => {
    expect(browser.bfgs.success).toBe(true);
    expect(browser.newton.success).toBe(true);
    expect(browser.newton.hessianActions).toBeGreaterThan(0);
    for (const run of [browser.bfgs, browser.newton]) {
      expect(Math.abs(run.x[0] - 1)).toBeLessThan(1e-5);
      expect(Math.abs(run.x[1] - 1)).toBeLessThan(1e-5);
    }
  });

  it("agrees with Node: the same iterates, counts and stop reasons, numbers to 1e-14", () => {
    const worst = expectSameNumbers(browser, node, 1e-14);
    console.info(`optimize: largest relative difference from Node ${worst.toExponential(1)}`);
    expect(session.errors).toEqual([]);
  });
});
