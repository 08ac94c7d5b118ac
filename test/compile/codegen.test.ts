import {
  AdjFloat,
  Control,
  compileFunctional,
  NDArray,
  np,
  ReducedFunctional,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/compile/buffers.js";
import { groupRunner, groupSource, reverseAssignments } from "../../src/compile/codegen.js";
import { buildProgram, type GroupStep } from "../../src/compile/program.js";
import { findPath } from "../../src/tape/sweeps.js";

/** The seed's flux J = sum(f^2), f = (|g|^2 + 1e-12)^((p-2)/2) g. */
function flux(g: NDArray, p: AdjFloat): NDArray {
  const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
  const f = np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
  return np.sum(np.power(f, 2));
}

/**
 * A recorded functional, its program and store. The tape's block list is read once before compiling: it
 * records the scalar operations on p as per-operation blocks (a scalar segment would run as a fallback step).
 */
function recorded(n: number, seed: number, objective: (g: NDArray, p: AdjFloat) => NDArray) {
  const rng = np.random.default_rng(seed);
  const tape = new Tape();
  const g = rng.normal(0, 1, [n, 2]);
  const p = new AdjFloat(3.2);
  const J = withTape(tape, () => objective(g, p));
  void tape.blocks;
  const rf = new ReducedFunctional(J, [new Control(g), new Control(p)], { tape });
  const controls = rf.controls.map((c) => c.blockVariable);
  const output = rf.functional.blockVariable;
  const path = findPath(tape, controls, [output], "test");
  const program = buildProgram(path.blocks, controls, output, true, "test");
  return { rf, rng, program, store: new Store(program, (slot) => slot.saved) };
}

/** Whether two results hold the same float64 entries (NaN equal to NaN). */
function same(a: unknown, b: unknown): boolean {
  const entries = (v: unknown) =>
    v instanceof NDArray ? Array.from(v.data) : v instanceof AdjFloat ? [v.value] : [Number(v)];
  const x = entries(a);
  const y = entries(b);
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]) || (v === 0 && y[i] === 0));
}

describe("reverseAssignments", () => {
  it("lets a group assign the reverse buffers it writes first (whole and contiguous), never the functional's", () => {
    const { program } = recorded(40, 1, flux);
    const assigned = reverseAssignments(program);
    const bases = new Set([...assigned.values()].flatMap((set) => [...set]));
    const g = program.slots[program.controls[0]].base;
    // g is read contiguously by the last group (f = mu g), the first step of the reverse sweep to touch it
    expect(bases.has(g)).toBe(true);
    expect(bases.has(program.slots[program.functional].base)).toBe(false);
    // p is a scalar (an accumulator, added after the loop): never assigned
    expect(bases.has(program.slots[program.controls[1]].base)).toBe(false);
    // each base is assigned by one group only
    const count = [...assigned.values()].reduce((total, set) => total + set.size, 0);
    expect(count).toBe(bases.size);
  });

  it("keeps every derivative of the uncompiled path, bit for bit, over calls in any order (no stale buffer)", () => {
    const { rf, rng } = recorded(60, 2, flux);
    const compiled = compileFunctional(rf);
    const direction: [NDArray, number] = [rng.normal(0, 1, [60, 2]), 0.3];
    const other: [NDArray, number] = [rng.normal(0, 1, [60, 2]), -0.2];
    const calls = ["derivative", "hessian", "hessian2", "tlm", "derivative", "hessian", "derivative"];
    calls.forEach((call, k) => {
      const point: [NDArray, number] = [rng.normal(0, 1, [60, 2]), 2.5 + 0.3 * k];
      expect(compiled.evaluate(point)).toBe(rf.evaluate(point));
      if (call === "derivative") {
        const [dg, dp] = compiled.derivative();
        const [ug, up] = rf.derivative();
        expect(same(dg, ug) && same(dp, up)).toBe(true);
      } else if (call === "tlm") {
        expect(compiled.tlm(direction)).toBe(rf.tlm(direction));
      } else {
        const v = call === "hessian" ? direction : other;
        const [hg, hp] = compiled.hessian(v);
        const [ug, up] = rf.hessian(v);
        expect(same(hg, ug) && same(hp, up)).toBe(true);
        // a second Hessian action at the same point: the assigned buffers are overwritten, not added to
        const [hg2] = compiled.hessian(v);
        expect(same(hg2, ug)).toBe(true);
      }
    });
  });
});

describe("groupRunner", () => {
  it("tells the Hessian action to skip a tangent loop that writes only J's tangent", () => {
    const { program, store } = recorded(30, 3, flux);
    const groups = program.steps.filter((s): s is GroupStep => s.kind === "group");
    const needs = groups.map((group) => groupRunner(program, group, store).tangentForHessian);
    // the last group (f = mu g, f^2, sum) writes only J's tangent; the power's group fills ln a for later
    expect(needs[needs.length - 1]).toBe(false);
    expect(needs.slice(0, -1).every((need) => need)).toBe(true);
  });
});

describe("groupSource", () => {
  it("writes no control's first-order adjoint in the second-order loops (only the derivative needs it)", () => {
    const { program, store } = recorded(30, 5, flux);
    const assigned = reverseAssignments(program);
    const groups = program.steps.filter((s): s is GroupStep => s.kind === "group");
    const sources = groups.map((group) => groupSource(program, group, store, assigned.get(group)));
    for (const k of program.controls) {
      const base = program.slots[k].base;
      const write = new RegExp(`\\bA${base}\\[[^\\]]*\\] (\\+?=)`);
      // the adjoint loops write it, the second-order loops only its second-order adjoint
      expect(sources.some((s) => write.test(s.adjoint))).toBe(true);
      expect(sources.some((s) => write.test(s.second))).toBe(false);
      expect(sources.some((s) => new RegExp(`\\bH${base}\\[`).test(s.second))).toBe(true);
    }
  });

  it("writes finite constants as exact literals (negative ones in parentheses) and binds -0 by name", () => {
    const objective = (g: NDArray, p: AdjFloat) =>
      np.sum(
        np.multiply(
          np.add(np.multiply(g, -2.5), -0),
          np.power(np.add(np.multiply(g, 0.1), 1 / 3), np.multiply(p, 0.7)),
        ),
      );
    const { rf, rng, program, store } = recorded(20, 4, objective);
    const sources = program.steps
      .filter((s): s is GroupStep => s.kind === "group")
      .map((group) => groupSource(program, group, store));
    const text = sources.map((s) => s.forward + s.second).join("\n");
    expect(text).toContain("(-2.5)");
    expect(text).toContain(String(1 / 3));
    expect(text).toContain("0.1");
    // -0 is not a literal (the parser reads -0 as a negation; it is passed by value)
    expect(sources.some((s) => s.values.some((v) => Object.is(v, -0)))).toBe(true);
    const compiled = compileFunctional(rf);
    const point: [NDArray, number] = [rng.normal(0, 1, [20, 2]), 1.9];
    const direction: [NDArray, number] = [rng.normal(0, 1, [20, 2]), 0.4];
    expect(compiled.evaluate(point)).toBe(rf.evaluate(point));
    const [dg, dp] = compiled.derivative();
    const [ug, up] = rf.derivative();
    expect(same(dg, ug) && same(dp, up)).toBe(true);
    const [hg, hp] = compiled.hessian(direction);
    const [vg, vp] = rf.hessian(direction);
    expect(same(hg, vg) && same(hp, vp)).toBe(true);
  });
});
