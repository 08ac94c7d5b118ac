/**
 * @file The compiled flux alone (`node --conditions=tsadjoint-source --import tsx bench/flux-compiled.ts [n]
 * [repeats] [--dump] [--check] [--phases] [--table-log]`): compiled gradient and Hessian-vector product of J = sum(f^2), f = mu g,
 * mu = (|g|^2 + 1e-12)^((p-2)/2), at new points, with wall and CPU times; `--check` compares the compiled
 * results bit for bit with the uncompiled ReducedFunctional's; `--dump` prints the generated loops.
 */
import { AdjFloat, Control, compileFunctional, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { objective, timeStats as stats, WARMUPS } from "./flux.js";

type NDArray = InstanceType<typeof np.NDArray>;

const args = process.argv.slice(2);
const n = Number(args.find((a) => !a.startsWith("--")) ?? 1e5);
const repeats = Number(args.filter((a) => !a.startsWith("--"))[1] ?? 31);
const rng = np.random.default_rng(0);
const g0 = rng.normal(0, 1, [n, 2]);
const vg = rng.normal(0, 1, [n, 2]);
const p0 = 3.2;
const vp = 0.3;
const tape = new Tape();
const gControl = new np.NDArray(g0.data, g0.shape);
const pControl = new AdjFloat(p0);
const J = withTape(tape, () => objective(gControl, pControl));
void tape.blocks; // explodes scalar segments into per-op blocks
const rf = new ReducedFunctional(J, [new Control(gControl), new Control(pControl)], { tape });
const g1 = new np.NDArray(
  g0.data.map((v) => v * 1.001),
  g0.shape,
);
let flip = false;
const nextPoint = (): [NDArray, number] => {
  flip = !flip;
  return [flip ? g1 : g0, p0];
};
if (args.includes("--table-log")) {
  // what the compiled loops would do if the power rule took ln with the table log: one logInto call per
  // loop (the rule takes Math.log today, so --check then reports last-bit differences)
  const { powerLogKernel } = await import("../src/compile/codegen.js");
  powerLogKernel.table = true;
}
const compiled = compileFunctional(rf);
if (args.includes("--dump")) {
  const { chainSource, groupSource, reverseAssignments } = await import("../src/compile/codegen.js");
  const { rowChains } = await import("../src/compile/rows.js");
  // biome-ignore lint/suspicious/noExplicitAny: a debugging dump of private fields
  const c = compiled as any;
  const assigned = reverseAssignments(c.program);
  for (const { steps, row } of rowChains(c.program)) {
    const [step] = steps;
    if (step.kind !== "group") continue;
    const s =
      row === undefined
        ? groupSource(c.program, step, c.store, assigned.get(step))
        : // biome-ignore lint/suspicious/noExplicitAny: the chain's steps are groups
          chainSource(c.program, steps as any, row, c.store, assigned);
    console.log(
      `--- forward\n${s.forward}\n--- tangent\n${s.tangent}\n--- adjoint\n${s.adjoint}\n--- second\n${s.second}`,
    );
    if (s.secondWithTangents !== undefined) console.log(`--- second with tangents\n${s.secondWithTangents}`);
  }
}
if (args.includes("--check")) {
  let same = true;
  const bits = (a: number, b: number) => Object.is(a, b);
  for (const point of [nextPoint(), nextPoint()]) {
    const j1 = rf.evaluate(point);
    const [dg1, dp1] = rf.derivative();
    const [hg1, hp1] = rf.hessian([vg, vp]);
    const j2 = compiled.evaluate(point);
    const [dg2, dp2] = compiled.derivative();
    const [hg2, hp2] = compiled.hessian([vg, vp]);
    const j3 = compiled.evaluate(point);
    const [hg3, hp3] = compiled.hessian([vg, vp]);
    if (!bits(j1, j2) || !bits(j1, j3)) same = false;
    if (!bits(dp1.value, dp2.value) || !bits(hp1.value, hp2.value) || !bits(hp1.value, hp3.value)) {
      console.log("scalar mismatch", dp1.value, dp2.value, hp1.value, hp2.value, hp3.value);
      same = false;
    }
    let bad = 0;
    for (let i = 0; i < dg1.data.length; i++) {
      if (
        !bits(dg1.data[i], dg2.data[i]) ||
        !bits(hg1.data[i], hg2.data[i]) ||
        !bits(hg1.data[i], hg3.data[i])
      )
        bad++;
    }
    if (bad > 0) {
      console.log(`${bad} array entries differ`);
      same = false;
    }
  }
  console.log(same ? "check: bit-identical to the uncompiled ReducedFunctional" : "check: MISMATCH");
}
let sink = 0;
// warm up past malloc's growth to its steady state, as every flux bench does (WARMUPS in bench/flux.ts)
const gradient = stats(
  () => {
    compiled.evaluate(nextPoint());
    const [dg] = compiled.derivative();
    sink += dg.data[0];
  },
  repeats,
  WARMUPS,
);
const hvp = stats(
  () => {
    compiled.evaluate(nextPoint());
    const [hg] = compiled.hessian([vg, vp]);
    sink += hg.data[0];
  },
  repeats,
  WARMUPS,
);
const fmt = (s: { median: number; min: number; cpu: number }) =>
  `${s.median.toFixed(2)} ms (min ${s.min.toFixed(2)}, CPU ${s.cpu.toFixed(2)})`;
console.log(`compiled gradient ${fmt(gradient)}; compiled HVP ${fmt(hvp)}`);
if (Number.isNaN(sink)) console.log("(sink)");
if (args.includes("--phases")) {
  // biome-ignore lint/suspicious/noExplicitAny: a debugging breakdown over private fields
  const c = compiled as any;
  const runners: { forward(): void; tangent(): void; adjoint(): void; second(): void }[] = c.runners;
  const phase = (name: string, fn: () => void) => {
    const s = stats(fn, repeats);
    console.log(`${name}: ${s.median.toFixed(3)} ms (min ${s.min.toFixed(3)}, CPU ${s.cpu.toFixed(3)})`);
  };
  compiled.evaluate(nextPoint());
  compiled.hessian([vg, vp]);
  runners.forEach((r, s) => {
    phase(`runner ${s} forward`, () => r.forward());
    phase(`runner ${s} tangent`, () => r.tangent());
    phase(`runner ${s} adjoint`, () => r.adjoint());
    phase(`runner ${s} second`, () => r.second());
  });
  phase("clearReverse(true)", () => c.store.clearReverse(true));
  for (const r of runners as { hessianTangent?(): void; second(): void; secondWithTangents?(): void }[]) {
    const fusedPass = r.secondWithTangents;
    const tangentPass = r.hessianTangent;
    if (fusedPass === undefined || tangentPass === undefined) continue;
    for (let k = 0; k < 3; k++) {
      phase("hessian tangent, then second", () => {
        tangentPass();
        r.second();
      });
      phase("second with the tangents fused", () => fusedPass());
    }
  }
  phase("checkFinite", () => c.checkFinite("x"));
  phase("tangents (Hessian action)", () => c.tangents([vg, vp], "x", true));
  const passes: (() => void)[] = c.secondPasses;
  phase("second passes (the fused one included)", () => {
    for (let s = passes.length - 1; s >= 0; s--) passes[s]();
  });
  phase("checkResults", () => c.checkResults("hessian", "x"));
  phase("results", () => c.results("hessian"));
  phase("whole derivative", () => compiled.derivative());
  phase("whole hessian", () => compiled.hessian([vg, vp]));
  phase("whole evaluate", () => compiled.evaluate(nextPoint()));
}
if (args.includes("--overhead")) {
  // biome-ignore lint/suspicious/noExplicitAny: a debugging breakdown over private fields
  const c = compiled as any;
  const phase = (name: string, fn: () => void) => {
    const s = stats(fn, repeats);
    console.log(`${name}: ${s.median.toFixed(3)} ms (min ${s.min.toFixed(3)}, CPU ${s.cpu.toFixed(3)})`);
  };
  compiled.evaluate(nextPoint());
  phase("checkFinite", () => c.checkFinite("x"));
  phase("tangents (all)", () => c.tangents([vg, vp], "x", true));
  phase("second passes, fresh H0", () => {
    c.store.take("hessian", 0);
    for (let s = c.secondPasses.length - 1; s >= 0; s--) c.secondPasses[s]();
  });
  phase("second passes, fresh H0 and A0", () => {
    c.store.take("hessian", 0);
    c.store.take("adjoint", 0);
    for (let s = c.secondPasses.length - 1; s >= 0; s--) c.secondPasses[s]();
  });
  phase("checkResults", () => c.checkResults("hessian", "x"));
  phase("take + new buffer", () => c.store.take("hessian", c.program.controls[0]));
  phase("alloc 200000", () => {
    sink += new Float64Array(200000)[5];
  });
}
