import { NDArray } from "tsadjoint";
import { describe, expect, it } from "vitest";
import { constitutiveModel } from "../../../examples/cr-inference/constitutive.js";
import {
  DEFAULT_SETTINGS,
  recordProblem,
  runInference,
  START,
  syntheticData,
} from "../../../examples/cr-inference/problem.js";
import { taylorTest } from "../../../src/verify/taylor.js";

function flatten(values: unknown): Float64Array {
  const list = (Array.isArray(values) ? values : [values]) as { raw(): number | NDArray }[];
  const parts = list.map((value) => {
    const raw = value.raw();
    return raw instanceof NDArray ? Array.from(raw.data) : [raw];
  });
  return Float64Array.from(parts.flat());
}

function relativeDifference(a: Float64Array, b: Float64Array): number {
  let difference = 0;
  let size = 0;
  for (let i = 0; i < a.length; i++) {
    difference = Math.max(difference, Math.abs(a[i] - b[i]));
    size = Math.max(size, Math.abs(a[i]), Math.abs(b[i]));
  }
  return difference / size;
}

describe("constitutive-relation inference", () => {
  it("the default run (power law, native, mesh 32, 1% noise) recovers p within 2% and k within 5%", async () => {
    const report = await runInference(DEFAULT_SETTINGS);
    const [p, k] = report.parameters;
    expect(p.name).toBe("p");
    expect(p.relativeError).toBeLessThan(0.02);
    expect(k.relativeError).toBeLessThan(0.05);
    expect(report.taylor.rate).toBeGreaterThan(1.9);
    expect(report.taylor.hessianRate).toBeGreaterThan(2.9);
    // the fit reaches the noise level: the final misfit is about the misfit of the noiseless truth
    expect(report.misfit.final).toBeLessThan(1.1 * report.misfit.truth);
    expect(report.solves.forward).toBeGreaterThan(report.optimizer.iterations);
    expect(report.solves.adjoint).toBeGreaterThan(0);
    expect(report.problem).toMatchObject({
      nodes: 33 * 33,
      elements: 2 * 32 * 32,
      unknowns: 31 * 31,
      sensors: 100,
    });
    expect(report.figures.sensors).toHaveLength(200);
    // the Laplace approximation: 95% intervals that contain the truth, of the width the noise implies
    const { uncertainty } = report;
    expect(uncertainty.hessianActions).toBe(2);
    expect(uncertainty.parameters.map((entry) => entry.coversTruth)).toEqual([true, true]);
    for (const entry of uncertainty.parameters) {
      expect(entry.standardDeviation).toBeGreaterThan(0);
      expect(entry.standardDeviation / entry.inferred).toBeLessThan(0.02);
    }
    expect(Math.abs(uncertainty.correlation?.[0][1] ?? 2)).toBeLessThan(1);
    expect(report.figures.fluxBand).toHaveLength(101);
    for (const point of report.figures.fluxBand) expect(point.upper).toBeGreaterThanOrEqual(point.lower);
    expect(report.figures.convergence[0].iteration).toBe(0);
  });

  it("Newton-CG (Hessian actions through the nonlinear solve) recovers the same parameters", async () => {
    const report = await runInference({ ...DEFAULT_SETTINGS, mesh: 16, optimizer: "newton-cg" });
    const [p, k] = report.parameters;
    expect(p.relativeError).toBeLessThan(0.02);
    expect(k.relativeError).toBeLessThan(0.05);
    expect(report.solves.hessianActions).toBeGreaterThan(0);
  });

  it("the network CR (native) reduces the misfit 100x and its flux stays within 10% of the truth", async () => {
    const report = await runInference({ ...DEFAULT_SETTINGS, mesh: 16, cr: "network", maxIterations: 100 });
    expect(report.problem.controls).toBe(16 + 16 + 16 * 16 + 16 + 16 + 1);
    expect(report.misfit.reduction).toBeGreaterThan(100);
    expect(report.fluxError.inferred).toBeLessThan(0.1);
    // flux band and spectrum only: 321 Hessian actions, a few dozen directions determined by the data
    expect(report.uncertainty.parameters).toEqual([]);
    expect(report.uncertainty.hessianActions).toBe(321);
    expect(report.figures.spectrum).toHaveLength(321);
    expect(report.uncertainty.determinedDirections).toBeGreaterThan(3);
    expect(report.uncertainty.determinedDirections).toBeLessThan(100);
    expect(report.taylor.rate).toBeGreaterThan(1.9);
  });

  it("Newton-CG on the network stops at the noise level (discrepancy principle), not at the iteration limit", async () => {
    const report = await runInference({
      ...DEFAULT_SETTINGS,
      mesh: 8,
      cr: "network",
      optimizer: "newton-cg",
      maxIterations: 100,
    });
    expect(report.optimizer.stopReason).toBe("discrepancy-principle");
    expect(report.optimizer.iterations).toBeLessThan(40);
    expect(report.misfit.final).toBeLessThan(1.5 * report.misfit.truth);
    expect(report.fluxError.inferred).toBeLessThan(0.05);
  });

  it("Taylor rates of the reduced functional through the nonlinear solve: >= 1.9, >= 2.9 with the Hessian", async () => {
    const data = syntheticData({ ...DEFAULT_SETTINGS, mesh: 8 });
    for (const engine of ["native", "jax"] as const) {
      const cr = await constitutiveModel("power-law", engine, { p0: START.p, k0: START.k, seed: 1 });
      const { rf } = recordProblem(data, cr, 0.1);
      for (const point of [
        [2, 0.5],
        [3.3, 1.4],
      ]) {
        expect(taylorTest(rf, point, [0.2, -0.1])).toBeGreaterThan(1.9);
        expect(taylorTest(rf, point, [0.2, -0.1], { hessian: true })).toBeGreaterThan(2.9);
      }
      cr.dispose();
    }
  });

  it("native and jax (cpu) gradients and Hessian actions agree to 1e-8 relative", async () => {
    const data = syntheticData({ ...DEFAULT_SETTINGS, mesh: 8 });
    for (const kind of ["power-law", "network"] as const) {
      const results = [];
      for (const engine of ["native", "jax"] as const) {
        const cr = await constitutiveModel(kind, engine, {
          p0: START.p,
          k0: START.k,
          seed: 3,
          jaxDevice: "cpu",
        });
        const { rf } = recordProblem(data, cr, 0);
        const direction = cr.initial.map((value) =>
          value instanceof NDArray
            ? new NDArray(
                value.data.map((_, i) => Math.sin(i + 1)),
                value.shape,
              )
            : 0.3,
        );
        results.push({
          value: rf.value(),
          gradient: flatten(rf.derivative()),
          hessian: flatten(rf.hessian(direction)),
        });
        cr.dispose();
      }
      const [native, jax] = results;
      expect(Math.abs(native.value - jax.value) / native.value).toBeLessThan(1e-12);
      expect(relativeDifference(native.gradient, jax.gradient)).toBeLessThan(1e-8);
      expect(relativeDifference(native.hessian, jax.hessian)).toBeLessThan(1e-8);
    }
  });

  it("the network on TensorFlow.js (float32) gives the native gradient and Hessian action to float32 accuracy", async () => {
    const data = syntheticData({ ...DEFAULT_SETTINGS, mesh: 8 });
    const gradients: Float64Array[] = [];
    const hessians: Float64Array[] = [];
    for (const engine of ["native", "tfjs"] as const) {
      const cr = await constitutiveModel("network", engine, { p0: START.p, k0: START.k, seed: 3 });
      const { rf } = recordProblem(data, cr, 0);
      const gradient = rf.derivative();
      gradients.push(flatten(gradient));
      // the Hessian goes through TensorFlow.js's second derivatives of a tanh network (safe activations)
      hessians.push(flatten(rf.hessian(gradient)));
      cr.dispose();
    }
    expect(relativeDifference(gradients[0], gradients[1])).toBeLessThan(1e-4);
    expect(relativeDifference(hessians[0], hessians[1])).toBeLessThan(1e-4);
  });
});
