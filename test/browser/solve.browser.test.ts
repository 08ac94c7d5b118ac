import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectRates, expectSameNumbers } from "./compare.js";
import { type BrowserSession, openBrowser, runInBrowser } from "./harness.js";
import { run } from "./suites/solve.js";

const env = inject("browserEnv");
type SolveResult = ReturnType<typeof run>;

describe.skipIf(env.skipReason !== "")("tsadjoint/solve in Chromium: sparse solve and nonlinearSolve", () => {
  let session: BrowserSession;
  let browser: SolveResult;
  let node: SolveResult;
  beforeAll(async () => {
    session = await openBrowser(env);
    const { result, ms } = await runInBrowser<SolveResult>(session, "solve", "run");
    browser = result;
    const start = performance.now();
    node = run();
    console.info(`solve: Chromium ${ms.toFixed(0)} ms, Node ${(performance.now() - start).toFixed(0)} ms`);
  });
  afterAll(async () => {
    await session?.browser.close();
  });

  it("sparse Cholesky, LU and CG give the same solution; the residual A x - b vanishes", () => {
    const { cholesky, lu, cg } = browser.sparse.solutions;
    const n = cholesky.length;
    expect(n).toBe(40);
    for (let i = 0; i < n; i++) {
      // A = tridiag(-1, 4, -1), b = sin(linspace(0, 3, n))
      const Ax = 4 * cholesky[i] - (i > 0 ? cholesky[i - 1] : 0) - (i < n - 1 ? cholesky[i + 1] : 0);
      expect(Ax).toBeCloseTo(Math.sin((3 * i) / (n - 1)), 13);
      expect(lu[i]).toBeCloseTo(cholesky[i], 14);
      expect(cg[i]).toBeCloseTo(cholesky[i], 10);
    }
    // J = sum(x^2): dJ/db = 2 A^-T x; checked through A dJ/db = 2 x (A symmetric)
    const db = browser.sparse.gradient[1];
    for (let i = 0; i < n; i++) {
      const Adb = 4 * db[i] - (i > 0 ? db[i - 1] : 0) - (i < n - 1 ? db[i + 1] : 0);
      expect(Adb).toBeCloseTo(2 * cholesky[i], 12);
    }
  });

  it("sparse solve: Taylor rates about 2 and 3 with respect to the matrix entries and the right-hand side", () => {
    expectRates(browser.sparse.taylor.R1, 2, "R1");
    expectRates(browser.sparse.taylor.R2, 3, "R2");
  });

  it("nonlinearSolve: Newton converges, the residual vanishes, Taylor rates about 2 and 3", () => {
    const { u, newtonIterations, taylor } = browser.nonlinear;
    const n = u.length;
    const h = 1 / (n + 1);
    expect(newtonIterations).toBeGreaterThan(1);
    expect(newtonIterations).toBeLessThan(20);
    // -(k(u) u')' = f with k = 1 + u^2 (a = 1), central differences on the edges
    const at = (i: number) => (i < 0 || i >= n ? 0 : u[i]);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const flux = (e: number) => (1 + ((at(e) + at(e - 1)) / 2) ** 2) * ((at(e) - at(e - 1)) / h);
      const x = (i + 1) * h;
      const residual = (flux(i) - flux(i + 1)) / h - 80 * x * (1 - x);
      worst = Math.max(worst, Math.abs(residual));
    }
    expect(worst).toBeLessThan(1e-8);
    expectRates(taylor.R1, 2, "R1");
    expectRates(taylor.R2, 3, "R2");
  });

  it("agrees with Node: solutions and gradients to 1e-14", () => {
    const worst = expectSameNumbers(browser, node, 1e-14, { loose: /\.taylor\./ });
    console.info(`solve: largest relative difference from Node ${worst.toExponential(1)}`);
    expect(session.errors).toEqual([]);
  });
});
