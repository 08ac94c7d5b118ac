import { mkdir, mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEFAULT_SETTINGS, runInference } from "../../examples/cr-inference/problem.js";
import type { InferenceReport } from "../../examples/cr-inference/report.js";
import { buildPlayground } from "../../playground/build.js";
import { type BrowserSession, CHROMIUM_ARGS, ROOT, serve } from "./harness.js";

const env = inject("browserEnv");
/** Screenshots of the playground are saved here (out/ is ignored by git). */
const SHOTS = join(ROOT, "out/browser");

describe.skipIf(env.skipReason !== "")("the playground, used as a person would in Chromium", () => {
  let session: BrowserSession & { requests: string[]; origin: string };
  let server: Server;
  let dir: string;
  let node: InferenceReport;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsadjoint-playground-"));
    await buildPlayground(dir);
    const served = await serve(dir);
    server = served.server;
    const browser = await chromium.launch({ executablePath: env.executablePath, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    const messages: string[] = [];
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    page.context().on("request", (request) => requests.push(request.url())); // the worker's too
    page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
    page.on("console", (message) => {
      messages.push(`${message.type()}: ${message.text()}`);
      if (message.type() === "error") errors.push(`console.error: ${message.text()}`);
    });
    await page.goto(`${served.url}/`);
    session = { browser, page, errors, messages, requests, origin: served.url };
    await mkdir(SHOTS, { recursive: true });
    node = await runInference(DEFAULT_SETTINGS);
  });
  afterAll(async () => {
    await session?.browser.close();
    await new Promise((done) => server?.close(done));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs the default inference in a worker to the CLI's p and k (1e-8 relative) with live plots", async () => {
    const { page } = session;
    const start = performance.now();
    await page.click("#run");
    await page.waitForSelector('#status[data-state="running"]');
    // the page stays responsive while the worker runs: the main thread answers an evaluate
    expect(await page.evaluate("1 + 1")).toBe(2);
    await page.waitForSelector('#status[data-state="done"]', { timeout: 0 });
    console.info(
      `playground: default inference ${((performance.now() - start) / 1000).toFixed(1)} s in Chromium`,
    );
    const value = async (id: string) => Number(await page.getAttribute(id, "data-value"));
    const p = await value("#result-p");
    const k = await value("#result-k");
    const [pNode, kNode] = node.parameters.map((entry) => entry.inferred);
    expect(Math.abs(p - pNode) / pNode).toBeLessThan(1e-8);
    expect(Math.abs(k - kNode) / kNode).toBeLessThan(1e-8);
    expect(Math.abs(p - 3) / 3).toBeLessThan(0.02);
    expect(Math.abs(k - 1)).toBeLessThan(0.05);
    console.info(`playground: p = ${p}, k = ${k} (Node: ${pNode}, ${kNode})`);
    for (const id of ["#plot-convergence", "#plot-flux", "#plot-sensors"]) {
      const marks = await page.locator(`${id} svg path, ${id} svg circle, ${id} svg line`).count();
      expect(marks, id).toBeGreaterThan(10);
    }
    // the live sensors plot was updated during the run (iterations where the worker's tape held the iterate)
    const liveSensorUpdates = Number(await page.getAttribute("#plot-sensors", "data-live-updates"));
    console.info(
      `playground: live sensor-plot updates ${liveSensorUpdates} of ${node.optimizer.iterations} iterations`,
    );
    expect(liveSensorUpdates).toBeGreaterThan(0);
    expect(await page.isVisible("#download")).toBe(true);
    await page.screenshot({ path: join(SHOTS, "playground-inference.png"), fullPage: true });
  });

  it("the downloadable report.json is the CLI's report (same keys, same p and k)", async () => {
    const text = await session.page.evaluate(
      "fetch(document.getElementById('download').href).then((r) => r.text())",
    );
    const report = JSON.parse(text as string) as InferenceReport;
    expect(Object.keys(report).sort()).toEqual(Object.keys(node).sort());
    expect(report.optimizer.iterations).toBe(node.optimizer.iterations);
    expect(report.parameters[0].inferred).toBeCloseTo(node.parameters[0].inferred, 8);
  });

  it("runs the quick start in the Code panel: the printed gradient is the closed form; the tape is drawn", async () => {
    const { page } = session;
    await page.click("#code-run");
    await page.waitForSelector('#code-output[data-state="done"]');
    const output = (await page.textContent("#code-output")) ?? "";
    const line = output.split("\n").find((l) => l.startsWith("dJ/d(x, k) ="));
    const gradient = (line ?? "")
      .replace(/.*\[|\].*/g, "")
      .split(",")
      .map(Number);
    const [x, kk] = [0.8, 2.5];
    const e = Math.exp(-(x * x) / 2);
    expect(gradient[0]).toBeCloseTo(kk * Math.cos(kk * x) * e - x * Math.sin(kk * x) * e, 12);
    expect(gradient[1]).toBeCloseTo(x * Math.cos(kk * x) * e, 12);
    expect(output).toMatch(/Taylor rate \(Hessian\) = 2\.9|Taylor rate \(Hessian\) = 3\.0/);
    const boxes = await page.locator("#tape-graph svg g.node").count();
    expect(boxes).toBe(6 + 8); // six blocks and eight values
    expect(await page.textContent("#tape-graph svg")).toContain("multiply");
    await page.locator("#code").screenshot({ path: join(SHOTS, "playground-code.png") });
  });

  it("Stop ends a running inference at once; the page is ready for the next run", async () => {
    const { page } = session;
    await page.fill('input[name="mesh"]', "48");
    await page.click("#run");
    await page.waitForSelector('#status[data-state="running"]');
    await page.click("#stop");
    await page.waitForSelector('#status[data-state="stopped"]');
    expect(await page.isEnabled("#run")).toBe(true);
    expect(await page.isDisabled("#stop")).toBe(true);
  });

  it("the jax-js engine (power law, cpu device) in the worker gives Node's p and k to 1e-8", async () => {
    const { page } = session;
    await page.fill('input[name="mesh"]', "8");
    await page.selectOption('select[name="engine"]', "jax");
    await page.fill('input[name="maxIterations"]', "6"); // jax-js's cpu device is an interpreter: keep it short
    await page.click("#run");
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 0 });
    expect(await page.getAttribute("#status", "data-state"), (await page.textContent("#status")) ?? "").toBe(
      "done",
    );
    const reference = await runInference({ ...DEFAULT_SETTINGS, mesh: 8, engine: "jax", maxIterations: 6 });
    const p = Number(await page.getAttribute("#result-p", "data-value"));
    const k = Number(await page.getAttribute("#result-k", "data-value"));
    expect(Math.abs(p - reference.parameters[0].inferred) / reference.parameters[0].inferred).toBeLessThan(
      1e-8,
    );
    expect(Math.abs(k - reference.parameters[1].inferred) / reference.parameters[1].inferred).toBeLessThan(
      1e-8,
    );
  });

  it("the TensorFlow.js engine (network CR) runs in the worker and reduces the misfit", async () => {
    const { page } = session;
    await page.selectOption('select[name="cr"]', "network");
    await page.selectOption('select[name="engine"]', "tfjs");
    await page.click("#run");
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 0 });
    expect(await page.getAttribute("#status", "data-state"), (await page.textContent("#status")) ?? "").toBe(
      "done",
    );
    const report = JSON.parse(
      (await page.evaluate(
        "fetch(document.getElementById('download').href).then((r) => r.text())",
      )) as string,
    ) as InferenceReport;
    expect(report.settings.engine).toBe("tfjs");
    expect(report.misfit.final).toBeLessThan(report.misfit.start / 10);
  });

  it("loads nothing from outside its own origin (works offline, no CDN) and reports no console errors", () => {
    const external = session.requests.filter(
      (url) => !url.startsWith(session.origin) && !/^(data|blob):/.test(url),
    );
    expect(external).toEqual([]);
    expect(session.errors).toEqual([]);
  });
});
