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
import {
  chainRegisters,
  chainSource,
  powerLogKernel,
  reverseAssignments,
} from "../../src/compile/codegen.js";
import { buildProgram, type GroupStep } from "../../src/compile/program.js";
import { collapsedStride, rowChains } from "../../src/compile/rows.js";
import { logInto } from "../../src/ops/kernels/transcendental.js";
import { findPath } from "../../src/tape/sweeps.js";

type Objective = (g: NDArray, p: AdjFloat) => NDArray;

/** The seed's flux J = sum(f^2), f = (|g|^2 + 1e-12)^((p-2)/2) g. */
const flux: Objective = (g, p) => {
  const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
  const f = np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
  return np.sum(np.power(f, 2));
};

/** A recorded functional of g (shape `shape`) and p, with its program (p's operations as single blocks). */
function recorded(shape: number[], seed: number, objective: Objective) {
  const rng = np.random.default_rng(seed);
  const tape = new Tape();
  const g = rng.normal(0, 1, shape);
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

/** The float64 entries of a result. */
function entries(v: unknown): number[] {
  return v instanceof NDArray ? Array.from(v.data) : v instanceof AdjFloat ? [v.value] : [Number(v)];
}

/** Whether two results agree entry by entry: bit for bit (tolerance 0) or to `tolerance` relative. */
function agree(a: unknown, b: unknown, tolerance: number): boolean {
  const x = entries(a);
  const y = entries(b);
  const scale = Math.max(1e-300, ...y.map(Math.abs));
  return (
    x.length === y.length &&
    x.every((v, i) => (tolerance === 0 ? v === y[i] : Math.abs(v - y[i]) <= tolerance * scale))
  );
}

/** Compiled against uncompiled: value, gradient and Hessian action at two new points. */
function expectSame(
  rf: ReturnType<typeof recorded>["rf"],
  shape: number[],
  seed: number,
  tolerance: number,
): void {
  const rng = np.random.default_rng(seed);
  const compiled = compileFunctional(rf);
  for (let k = 0; k < 2; k++) {
    const point: [NDArray, number] = [rng.normal(0, 1, shape), 2.6 + 0.4 * k];
    const direction: [NDArray, number] = [rng.normal(0, 1, shape), 0.3];
    expect(agree(compiled.evaluate(point), rf.evaluate(point), tolerance)).toBe(true);
    const [dg, dp] = compiled.derivative();
    const [ug, up] = rf.derivative();
    expect(agree(dg, ug, tolerance) && agree(dp, up, tolerance)).toBe(true);
    const [hg, hp] = compiled.hessian(direction);
    const [vg, vp] = rf.hessian(direction);
    expect(agree(hg, vg, tolerance) && agree(hp, vp, tolerance)).toBe(true);
  }
}

describe("collapsedStride", () => {
  it("walks contiguous axes as one and refuses axes that do not collapse", () => {
    expect(collapsedStride([4, 3, 2], [6, 2, 1], 1, 3)).toBe(1);
    expect(collapsedStride([4, 3, 2], [6, 2, 1], 0, 1)).toBe(6);
    expect(collapsedStride([4, 3, 2], [1, 0, 0], 1, 3)).toBe(0);
    expect(collapsedStride([4, 1, 2], [2, 99, 1], 0, 3)).toBe(1);
    expect(collapsedStride([4, 3, 2], [6, 1, 3], 1, 3)).toBeUndefined();
  });
});

describe("rowChains", () => {
  it("runs the flux's groups (sum over the row, + 1e-12, power, f = mu g and J) as one row loop", () => {
    const { program } = recorded([50, 2], 1, flux);
    const chains = rowChains(program);
    const fused = chains.filter((c) => c.row !== undefined);
    expect(fused).toHaveLength(1);
    expect(fused[0].row).toEqual({ rows: 50, inner: 2, split: 1 });
    const groups = program.steps.filter((s) => s.kind === "group" && s.shape.length > 0);
    expect(fused[0].steps).toEqual(groups);
    // every step appears once, in program order
    expect(chains.flatMap((c) => c.steps)).toEqual(program.steps);
  });

  it("keeps a group apart when it reads a whole sum of the earlier group (complete only after its loop)", () => {
    const objective: Objective = (g, p) => {
      const row = np.sum(np.multiply(g, g), 1);
      const whole = np.sum(np.multiply(g, p));
      return np.sum(np.multiply(np.add(row, 1), whole));
    };
    const { rf, program } = recorded([30, 3], 2, objective);
    for (const chain of rowChains(program)) {
      if (chain.row === undefined) continue;
      // no chain holds both the group summing g p and a group reading that sum
      const outs = new Set(
        chain.steps.flatMap((s) => (s.kind === "group" ? s.members.map((m) => m.out) : [])),
      );
      const reads = chain.steps.flatMap((s) => (s.kind === "group" ? s.members.flatMap((m) => m.args) : []));
      const scalars = [...outs].filter((k) => program.slots[k].size === 1);
      expect(scalars.some((k) => reads.includes(k))).toBe(false);
    }
    expectSame(rf, [30, 3], 3, 1e-14);
  });
});

describe("chainSource", () => {
  it("gives the uncompiled flux's numbers bit for bit over several tiles of rows (the last one partial)", () => {
    const { rf, program, store } = recorded([2500, 2], 4, flux);
    const [chain] = rowChains(program).filter((c) => c.row !== undefined);
    const row = chain.row;
    if (row === undefined) throw new Error("no chain");
    const groups = chain.steps.filter((s): s is GroupStep => s.kind === "group");
    const source = chainSource(program, groups, row, store, reverseAssignments(program));
    // one loop over the rows per mode; the power runs per tile in the forward loop
    expect(source.forward).toContain("r0 += 1024");
    for (const text of [source.tangent, source.adjoint, source.second])
      expect(text.match(/for \(let r = 0/g)).toHaveLength(1);
    // the [n] adjoints (of |g|^2, |g|^2 + 1e-12 and mu) live in per-row registers, not in buffers
    const registers = chainRegisters(program, groups, row);
    expect(registers.size).toBe(3);
    for (const base of registers) {
      expect(source.second).toContain(`ra${base} += `);
      expect(source.second).not.toMatch(new RegExp(`\\b[AH]${base}\\[`));
      expect(source.adjoint).not.toMatch(new RegExp(`\\bA${base}\\[`));
    }
    // the Hessian action's tangent loop leaves out the group writing only J's tangent
    const functional = `T${program.slots[program.functional].base}[0]`;
    expect(source.tangent).toContain(functional);
    expect(source.hessianTangent).toBeDefined();
    expect(source.hessianTangent).not.toContain(functional);
    // a row reads each entry of a buffer it does not write once, at its start; written buffers in place
    const g = `V${program.slots[program.controls[0]].base}`;
    for (const text of [source.tangent, source.adjoint, source.second]) {
      expect(text).toMatch(new RegExp(`const ld\\d+ = ${g}\\[\\(i \\+ 0\\)\\];`));
      expect(text.match(new RegExp(`\\b${g}\\[`, "g"))).toHaveLength(row.inner);
    }
    expect(source.tangent).toMatch(/\bT\d+\[r\] = /);
    // |g|^2, a sum over each row's entries, adds up in a register stored once per row (no cleared buffer)
    const s = program.slots.find((slot) => slot.producer !== undefined && slot.shape.length === 1);
    if (s === undefined) throw new Error("no [n] slot");
    for (const [text, channel] of [
      [source.forward, "V"],
      [source.tangent, "T"],
    ]) {
      expect(text).not.toContain(".fill(0)");
      expect(text).toMatch(
        new RegExp(
          `let (rs\\w+) = 0;[\\s\\S]*\\1 \\+= [\\s\\S]*${channel}${s.base}\\[r\\] = \\(fw\\d+ = \\1\\);`,
        ),
      );
    }
    // what a row stores and reads again (|g|^2 + 1e-12 reads |g|^2; g's adjoint is assigned, then added to)
    // comes from the register holding the stored value, not from memory
    expect(source.forward).toMatch(/V\d+\[r\] = \((fw\d+) = rs\w+\);\n[\s\S]*const v0 = \1 \+ 1e-12;/);
    const a = g.replace("V", "A");
    expect(source.adjoint).toMatch(
      new RegExp(
        `${a}\\[\\(i \\+ 0\\)\\] = \\((fw\\d+) = [\\s\\S]*${a}\\[\\(i \\+ 0\\)\\] = \\(fw\\d+ = \\1 \\+ `,
      ),
    );
    // the Hessian action's tangents fused into the second-order loop: each row's tangents stay in registers
    // (nothing reads them from memory), while the separate tangent loop stores them; ln a comes from one
    // kernel call before either loop, into a cache the loop reads
    const fused = source.secondWithTangents ?? "";
    expect(fused.match(/for \(let r = 0/g)).toHaveLength(1);
    for (const base of [s.base, ...registers]) {
      expect(source.hessianTangent).toMatch(new RegExp(`\\bT${base}\\[r\\] = `));
      expect(fused).not.toMatch(new RegExp(`\\bT${base}\\b`));
    }
    expect(source.hessianTangent).toMatch(/X\d+\(V\d+, C\d+, 2500\);/);
    expect(fused).not.toMatch(/\bC\d+\[[^\]]*\] = /);
    expect(fused).not.toContain(functional);
    expectSame(rf, [2500, 2], 5, 0);
  });

  it("takes the power's ln a by one kernel call over the whole base before a loop: the rule's log, or logInto", () => {
    const { rf, program, store } = recorded([600, 2], 8, flux);
    const [chain] = rowChains(program).filter((c) => c.row !== undefined);
    const row = chain.row;
    if (row === undefined) throw new Error("no chain");
    const groups = chain.steps.filter((s): s is GroupStep => s.kind === "group");
    const sourceOf = () => chainSource(program, groups, row, store, reverseAssignments(program));
    const saved = powerLogKernel.table;
    try {
      for (const table of [false, true]) {
        powerLogKernel.table = table;
        const source = sourceOf();
        // one kernel call before the tangent, the adjoint and the fused loops, no logarithm per entry
        for (const text of [source.tangent, source.adjoint, source.secondWithTangents ?? ""]) {
          expect(text).toMatch(/X\d+\(V\d+, C\d+, 600\);/);
          expect(text).not.toMatch(/\.db\(|Math\.log/);
        }
        // the second-order loop after the tangent loop reads the tangent loop's cache
        expect(source.second).not.toMatch(/X\d+\(V\d+, C\d+/);
        expect(source.values.includes(logInto)).toBe(table);
      }
      // the rule's own logarithm (Math.log today): bit for bit
      powerLogKernel.table = false;
      expectSame(rf, [600, 2], 9, 0);
      // the table log differs from Math.log in the last bit for a few entries
      powerLogKernel.table = true;
      expectSame(rf, [600, 2], 9, 1e-14);
    } finally {
      powerLogKernel.table = saved;
    }
  });

  it("loops over rows of more than 4 entries and over several trailing axes, to 1e-14 of the uncompiled path", () => {
    const objective: Objective = (g, p) => {
      const s = np.sum(np.multiply(g, g), [1, 2]);
      const m = np.power(np.add(s, 0.5), np.multiply(p, 0.25));
      const f = np.multiply(np.reshape(np.multiply(m, 2), [m.shape[0], 1, 1]), np.sin(g));
      return np.sum(np.multiply(f, f));
    };
    const shape = [40, 3, 2];
    const { rf, program } = recorded(shape, 6, objective);
    const fused = rowChains(program).filter((c) => c.row !== undefined);
    expect(fused.map((c) => c.row)).toContainEqual({ rows: 40, inner: 6, split: 1 });
    expectSame(rf, shape, 7, 1e-14);
  });
});
