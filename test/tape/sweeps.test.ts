import {
  AdjFloat,
  Control,
  computeHessian,
  defineLinear,
  np,
  ReducedFunctional,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it, vi } from "vitest";
import { findPath, hessianSweep, tlmSweep } from "../../src/tape/sweeps.js";

// the batch logarithm kernels count the entries they take (the power loops' ln a), otherwise unchanged
const logged = vi.hoisted(() => ({ entries: 0 }));
vi.mock("../../src/ops/kernels/transcendental.js", async (original) => {
  const kernels = await original<typeof import("../../src/ops/kernels/transcendental.js")>();
  return {
    ...kernels,
    logInto: (x: Float64Array, out: Float64Array, n = x.length) => {
      logged.entries += n;
      kernels.logInto(x, out, n);
    },
    logRun: (x: Float64Array, i: number, out: Float64Array, o: number, n: number) => {
      logged.entries += n;
      kernels.logRun(x, i, out, o, n);
    },
  };
});

import type { NDArray } from "../../src/values/ndarray.js";

/** The seed's flux J = sum((|g|^2 + 1e-12)^((p - 2) / 2) g)^2), returning its intermediates too. */
function flux(g: NDArray, p: AdjFloat) {
  const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
  const f = np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
  const f2 = np.power(f, 2);
  return { mu, f, f2, J: np.sum(f2) };
}

function entries(value: unknown): number[] {
  if (typeof value === "number") return [value];
  return Array.from((value as NDArray).data);
}

/** Whether two lists hold the same float64 values, bit for bit. */
function same(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

describe("tlmSweep", () => {
  it("with forSecondOrder skips the tangents only tangent-free blocks read, and the Hessian action is unchanged bit for bit", () => {
    const rng = np.random.default_rng(7);
    const tape = new Tape();
    const g = rng.normal(0, 1, [30, 2]);
    const p = new AdjFloat(3.3);
    const { mu, f, f2, J } = withTape(tape, () => flux(g, p));
    const direction = [rng.normal(0, 1, [30, 2]), 0.4];
    const path = findPath(tape, [g.blockVariable, p.blockVariable], [J.blockVariable], "test");
    const run = (forSecondOrder: boolean) => {
      tlmSweep(path, direction, { forSecondOrder });
      hessianSweep(path, [1]);
      return [...entries(g.blockVariable.hessian), ...entries(p.blockVariable.hessian)];
    };
    const full = run(false);
    // every tangent on the path when the option is off
    expect(J.blockVariable.tlm).toBeDefined();
    expect(f2.blockVariable.tlm).toBeDefined();
    const skipping = run(true);
    // f^2 feeds only the sum (linear): neither its tangent nor J's is computed; f's is (f^2's second order reads it)
    expect(J.blockVariable.tlm).toBeUndefined();
    expect(f2.blockVariable.tlm).toBeUndefined();
    expect(f.blockVariable.tlm).toBeDefined();
    expect(mu.blockVariable.tlm).toBeDefined();
    expect(same(skipping, full)).toBe(true);
    // computeHessian and ReducedFunctional.hessian take the skipping sweep: the same numbers
    const [hg, hp] = computeHessian(J, [new Control(g), new Control(p)], direction as [NDArray, number], {
      tape,
    });
    expect(same([...hg.data, hp.value], full)).toBe(true);
    const rf = new ReducedFunctional(J, [new Control(g), new Control(p)], { tape });
    const [rg, rp] = rf.hessian(direction as [NDArray, number]);
    expect(same([...rg.data, rp.value], full)).toBe(true);
  });

  it("with forSecondOrder still computes the tangents a nonlinear block after a linear one reads", () => {
    const rng = np.random.default_rng(3);
    const double = defineLinear<void>({
      name: "double",
      apply: (x) => np.multiply(x, 2),
      transpose: (y) => np.multiply(y, 2),
    });
    const tape = new Tape();
    const x = rng.normal(0, 1, [12]);
    // x -> linear -> linear -> nonlinear: the tangents through both linear blocks are read by the power
    const J = withTape(tape, () => np.sum(np.power(double(double(x)), 3)));
    const path = findPath(tape, [x.blockVariable], [J.blockVariable], "test");
    const v = rng.normal(0, 1, [12]);
    tlmSweep(path, [v]);
    hessianSweep(path, [1]);
    const full = entries(x.blockVariable.hessian);
    tlmSweep(path, [v], { forSecondOrder: true });
    hessianSweep(path, [1]);
    expect(same(entries(x.blockVariable.hessian), full)).toBe(true);
    // J = sum (4x)^3 = 64 sum x^3: H v = 384 x v entry by entry
    full.forEach((h, i) => {
      expect(h).toBeCloseTo(384 * x.data[i] * v.data[i], 10);
    });
  });
});

describe("hessianSweep", () => {
  it("with controlAdjoints false leaves the controls' adjoints out and gives the same second-order adjoints bit for bit", () => {
    const rng = np.random.default_rng(11);
    const tape = new Tape();
    const g = rng.normal(0, 1, [25, 2]);
    const p = new AdjFloat(2.7);
    const { f, J } = withTape(tape, () => flux(g, p));
    const path = findPath(tape, [g.blockVariable, p.blockVariable], [J.blockVariable], "test");
    const direction = [rng.normal(0, 1, [25, 2]), -0.3];
    tlmSweep(path, direction);
    hessianSweep(path, [1]);
    const full = [...entries(g.blockVariable.hessian), ...entries(p.blockVariable.hessian)];
    const fAdjoint = entries(f.blockVariable.adj);
    expect(g.blockVariable.adj).toBeDefined();
    tlmSweep(path, direction);
    hessianSweep(path, [1], { controlAdjoints: false });
    expect(same([...entries(g.blockVariable.hessian), ...entries(p.blockVariable.hessian)], full)).toBe(true);
    expect(g.blockVariable.adj).toBeUndefined();
    expect(p.blockVariable.adj).toBeUndefined();
    // the intermediates' adjoints (the second-order terms' seeds) are computed as before
    expect(same(entries(f.blockVariable.adj), fAdjoint)).toBe(true);
  });
  it("with controlAdjoints false makes no adjoint call for a block whose only adjoint would go to a control", () => {
    let transposes = 0;
    const double = defineLinear<void>({
      name: "double",
      apply: (x) => np.multiply(x, 2),
      transpose: (y) => {
        transposes++;
        return np.multiply(y, 2);
      },
    });
    const rng = np.random.default_rng(4);
    const tape = new Tape();
    const x = rng.normal(0, 1, [8]);
    const J = withTape(tape, () => np.sum(np.power(double(x), 3)));
    const path = findPath(tape, [x.blockVariable], [J.blockVariable], "test");
    const v = rng.normal(0, 1, [8]);
    tlmSweep(path, [v]);
    transposes = 0;
    hessianSweep(path, [1]);
    expect(transposes).toBe(2); // the adjoint and the second-order adjoint
    const full = entries(x.blockVariable.hessian);
    tlmSweep(path, [v]);
    transposes = 0;
    hessianSweep(path, [1], { controlAdjoints: false });
    expect(transposes).toBe(1); // the second-order adjoint only
    expect(same(entries(x.blockVariable.hessian), full)).toBe(true);
  });
  it("after a tangent sweep forSecondOrder, a power with a recorded exponent takes ln a from its tangent loop (the same numbers)", () => {
    const rng = np.random.default_rng(9);
    const tape = new Tape();
    const g = rng.normal(0, 1, [40, 2]);
    const p = new AdjFloat(3.1);
    const { J } = withTape(tape, () => flux(g, p));
    const path = findPath(tape, [g.blockVariable, p.blockVariable], [J.blockVariable], "test");
    const direction = [rng.normal(0, 1, [40, 2]), 0.2];
    const run = (forSecondOrder: boolean) => {
      tlmSweep(path, direction, { forSecondOrder });
      logged.entries = 0;
      hessianSweep(path, [1]);
      return [...entries(g.blockVariable.hessian), ...entries(p.blockVariable.hessian)];
    };
    const fresh = run(false);
    const freshCalls = logged.entries;
    const kept = run(true);
    // the power over 40 points took its 40 logarithms again without the kept ones
    expect(freshCalls - logged.entries).toBe(40);
    expect(same(kept, fresh)).toBe(true);
    // kept values are used once: a second Hessian sweep after the same tangent sweep takes them again
    logged.entries = 0;
    hessianSweep(path, [1]);
    expect(logged.entries).toBe(freshCalls);
    expect(same([...entries(g.blockVariable.hessian), ...entries(p.blockVariable.hessian)], fresh)).toBe(
      true,
    );
  });
});
