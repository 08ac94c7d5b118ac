import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectRates, referenceGradient } from "../engines/tfjs/helpers.js";
import { expectSameNumbers } from "./compare.js";
import { type BrowserSession, openBrowser, runInBrowser } from "./harness.js";
import { ACTIVATIONS, type availableBackends, run, SIZES } from "./suites/tfjs.js";

const env = inject("browserEnv");
type TfResult = Awaited<ReturnType<typeof run>>;
type Backends = Awaited<ReturnType<typeof availableBackends>>;

/** The largest error of a float32 gradient against the float64 reference, relative to the largest entry. */
function gradientError(result: TfResult): number {
  const reference = referenceGradient(
    result.parameters.map((p) => Float64Array.from(p)),
    SIZES,
    ACTIVATIONS,
    15,
  );
  let scale = 0;
  let worst = 0;
  reference.gradient.forEach((g, k) => {
    g.forEach((v, i) => {
      scale = Math.max(scale, Math.abs(v));
      worst = Math.max(worst, Math.abs(result.gradient[k][i] - v));
    });
  });
  return worst / scale;
}

function checkBackend(result: TfResult, backend: string): void {
  expect(result.backend).toBe(backend);
  const reference = referenceGradient(
    result.parameters.map((p) => Float64Array.from(p)),
    SIZES,
    ACTIVATIONS,
    15,
  );
  expect(Math.abs(result.value - reference.value) / reference.value).toBeLessThan(1e-5);
  expect(gradientError(result)).toBeLessThan(1e-5);
  // float32 steps: every rate above order - 0.25, the last above order - 0.1 (as the Node tfjs tests)
  expectRates(result.taylor.R1, 2);
  expectRates(result.taylor.R2, 3);
  expect(result.tensorsAfter).toBe(result.tensorsBefore);
  expect(result.lossAfter).toBeLessThan(result.lossBefore / 100);
  expect(result.refusal).toMatch(/Tanh/);
}

describe.skipIf(env.skipReason !== "")(
  "tsadjoint/tfjs in Chromium: runTensorflowGraph on cpu and webgl",
  () => {
    let session: BrowserSession;
    let backends: Backends;
    const results: Record<string, TfResult> = {};
    const times: Record<string, number> = {};
    beforeAll(async () => {
      session = await openBrowser(env);
      backends = (await runInBrowser<Backends>(session, "tfjs", "availableBackends")).result;
      console.info(`tfjs: backends in Chromium ${JSON.stringify(backends)}`);
      for (const backend of ["cpu", "webgl"]) {
        if (!backends.available.includes(backend)) continue;
        const { result, ms } = await runInBrowser<TfResult>(session, "tfjs", "run", [backend]);
        results[backend] = result;
        times[backend] = ms;
      }
      const start = performance.now();
      results.node = await run("cpu");
      times.node = performance.now() - start;
      console.info(
        `tfjs: ${Object.entries(times)
          .map(([k, ms]) => `${k} ${ms.toFixed(0)} ms`)
          .join(", ")}`,
      );
    });
    afterAll(async () => {
      await session?.browser.close();
    });

    it("TensorFlow.js offers cpu in the browser", () => {
      expect(backends.available).toContain("cpu");
    });

    it("cpu: gradient of the seed network against a float64 reference, Taylor rates 2 and 3, flat memory, training, refusal", () => {
      checkBackend(results.cpu, "cpu");
    });

    it("webgl (where the browser has WebGL): the same checks on the GPU backend", () => {
      if (!backends.available.includes("webgl")) {
        console.info(`tfjs: webgl not available: ${backends.reasons.webgl}`);
        expect(backends.reasons.webgl).toBeTruthy();
        return;
      }
      checkBackend(results.webgl, "webgl");
      console.info(`tfjs: webgl gradient error vs float64 ${gradientError(results.webgl).toExponential(1)}`);
    });

    it("cpu agrees with Node's cpu backend to 1e-14 (the same float32 kernels in JavaScript)", () => {
      const { backend: _b, ...browser } = results.cpu;
      const { backend: _n, ...node } = results.node;
      const worst = expectSameNumbers(browser, node, 1e-14, { loose: /\.taylor\./ });
      console.info(`tfjs: cpu largest relative difference from Node ${worst.toExponential(1)}`);
      expect(session.errors).toEqual([]);
    });
  },
);
