import { ruleThresholds } from "tsadjoint";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectRates, expectSameNumbers } from "./compare.js";
import { type BrowserSession, openBrowser, runInBrowser } from "./harness.js";
import { run } from "./suites/numpy.js";

const env = inject("browserEnv");
type NumpyResult = ReturnType<typeof run>;

describe.skipIf(env.skipReason !== "")(
  "tsadjoint/numpy in Chromium: the rule checker on a representative set",
  () => {
    let session: BrowserSession;
    let browser: NumpyResult;
    let node: NumpyResult;
    beforeAll(async () => {
      session = await openBrowser(env);
      const { result, ms } = await runInBrowser<NumpyResult>(session, "numpy", "run");
      browser = result;
      const start = performance.now();
      node = run();
      console.info(`numpy: Chromium ${ms.toFixed(0)} ms, Node ${(performance.now() - start).toFixed(0)} ms`);
    });
    afterAll(async () => {
      await session?.browser.close();
    });

    it("checks 21 operations", () => {
      expect(browser.cases.map((c) => c.name)).toEqual(node.cases.map((c) => c.name));
      expect(browser.cases).toHaveLength(21);
    });

    it("every operation passes the rule checker in the browser (recompute, TLM, dot product, rates 1, 2, 3)", () => {
      for (const c of browser.cases) {
        expect(c.recomputeError, c.name).toBeLessThanOrEqual(ruleThresholds.recompute);
        expect(c.tlmError, c.name).toBeLessThanOrEqual(ruleThresholds.tlm);
        expect(c.dotProductError, c.name).toBeLessThanOrEqual(ruleThresholds.dotProduct);
        expect(c.rateR0, c.name).toBeGreaterThanOrEqual(ruleThresholds.rateR0);
        expect(c.rateR1, c.name).toBeGreaterThanOrEqual(ruleThresholds.rateR1);
        expect(c.rateR2, c.name).toBeGreaterThanOrEqual(ruleThresholds.rateR2);
      }
    });

    it("a composite program's Taylor rates are about 1, 2 and 3", () => {
      expectRates(browser.composite.R0, 1, "R0");
      expectRates(browser.composite.R1, 2, "R1");
      expectRates(browser.composite.R2, 3, "R2");
      expect(browser.composite.blocks).toBe(9);
    });

    it("compileFunctional generates code in Chromium and gives the uncompiled tape's numbers (1e-14)", () => {
      expect(browser.compiled.mode).toBe("generated");
      const worst = expectSameNumbers(browser.compiled.compiled, browser.compiled.uncompiled, 1e-14);
      console.info(
        `numpy: compiled flux vs the uncompiled tape in Chromium, largest difference ${worst.toExponential(1)}`,
      );
      expectSameNumbers(browser.compiled, node.compiled, 1e-14);
    });

    it("agrees with Node: the composite's value and gradient to 1e-14, the rates to 1e-3", () => {
      const exact = ({ composite }: NumpyResult) => ({
        value: composite.value,
        gradient: composite.gradient,
      });
      const worst = expectSameNumbers(exact(browser), exact(node), 1e-14);
      console.info(`numpy: largest relative difference from Node ${worst.toExponential(1)}`);
      // rates are logarithms of ratios of remainders near round-off (see compare.ts); the checker's error
      // measures (round-off-sized) are checked against the thresholds above instead
      const rates = ({ cases, composite }: NumpyResult) => ({
        cases: cases.map((c) => [c.rateR0, c.rateR1, c.rateR2]),
        composite: [composite.R0, composite.R1, composite.R2],
      });
      expectSameNumbers(rates(browser), rates(node), 1e-3);
      expect(session.errors).toEqual([]);
    });
  },
);
