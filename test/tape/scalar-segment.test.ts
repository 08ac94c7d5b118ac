import fc from "fast-check";
import {
  AdjFloat,
  Control,
  computeHessian,
  computeJacobianMatrix,
  np,
  ReducedFunctional,
  Tape,
  TsadjointError,
  withTape,
} from "tsadjoint";
import { Revolve } from "tsadjoint/checkpoint";
import { describe, expect, it } from "vitest";
import { Block, type BlockVariable } from "../../src/tape/block.js";
import { hasFusedSecondOrder } from "../../src/tape/capabilities.js";
import { ScalarSegment } from "../../src/tape/scalar-segment.js";
import { adjointSweep, findPath, hessianSweep, tlmSweep } from "../../src/tape/sweeps.js";

/** A scalar program using every kind of operation: unary, binary, a constant first and second. */
function program(x0: AdjFloat, a: AdjFloat, steps: number): AdjFloat {
  let x = x0;
  for (let i = 0; i < steps; i++) {
    x = np.add(np.multiply(x, a), np.sin(x));
    x = np.divide(np.subtract(2, x), np.add(np.multiply(x, x), 3));
    x = np.add(np.power(x, 2), np.multiply(np.exp(np.multiply(a, -0.5)), x));
    x = np.divide(np.power(np.add(x, 2), a), np.add(a, np.tanh(x)));
  }
  return x;
}
const OPS_PER_STEP = 17;

/** Every figure of a ReducedFunctional and the drivers over the program, as round-trip strings. */
function figures(explodeFirst: boolean): string[] {
  const tape = new Tape();
  const x0 = new AdjFloat(0.3);
  const a = new AdjFloat(0.9);
  const J = withTape(tape, () => program(x0, a, 6));
  if (explodeFirst) expect(tape.blocks.length).toBe(6 * OPS_PER_STEP);
  else expect(tape.records.length).toBe(1);
  const controls = [new Control(x0), new Control(a)];
  const rf = new ReducedFunctional(J, controls, { tape });
  const out: number[] = [rf.value()];
  const take = (values: readonly AdjFloat[]) => out.push(...values.map((v) => v.value));
  take(rf.derivative());
  take(rf.hessian([1, 0.5]));
  out.push(rf.tlm([0.25, -2]));
  out.push(rf.evaluate([0.35, 0.8]));
  take(rf.derivative());
  take(rf.hessian([-0.5, 2]));
  take(computeHessian(J, controls, [0.1, 0.2], { tape }));
  const [[dx, da]] = computeJacobianMatrix([J], controls, { tape });
  out.push(...dx.data, ...da.data);
  // the second-order sweep over adjoints already computed (the nested tapes' path)
  const path = findPath(tape, [x0.blockVariable, a.blockVariable], [J.blockVariable], "test");
  tlmSweep(path, [0.7, -0.3]);
  adjointSweep(path, [1]);
  hessianSweep(path, [1], { adjointsReady: true });
  out.push(Number(x0.blockVariable.adj), Number(a.blockVariable.adj));
  out.push(Number(x0.blockVariable.hessian), Number(a.blockVariable.hessian));
  return out.map(String);
}

describe("scalar segments (the typed-array record of scalar operations)", () => {
  it("record a run of scalar operations as one entry; tape.blocks lists one block an operation", () => {
    const tape = new Tape();
    const x = new AdjFloat(0.5);
    const y = withTape(tape, () => np.add(np.multiply(np.sin(x), 2), x));
    expect(tape.records.length).toBe(1);
    expect(tape.records[0]).toBeInstanceOf(ScalarSegment);
    const names = tape.blocks.map((block) => block.name);
    expect(names).toEqual(["sin", "multiply", "add"]);
    expect(tape.records.length).toBe(3);
    const [sin, times, plus] = tape.blocks;
    expect(sin.dependencies).toEqual([x.blockVariable]);
    expect(times.dependencies).toEqual(sin.outputs);
    expect(plus.dependencies).toEqual([times.outputs[0], x.blockVariable]);
    expect(y.blockVariable).toBe(plus.outputs[0]);
    expect(y.blockVariable.block).toBe(plus);
    expect(y.blockVariable.saved).toBe(Math.sin(0.5) * 2 + 0.5);
  });

  it("values, derivatives, Hessian actions and Jacobians equal the per-operation blocks bit for bit", () => {
    const segment = figures(false);
    const blocks = figures(true);
    expect(segment).toEqual(blocks);
    expect(segment.every((text) => Number.isFinite(Number(text)))).toBe(true);
  });

  it("a long segment (several chunks, swept between recordings) equals the per-operation blocks", () => {
    const run = (explodeFirst: boolean) => {
      const tape = new Tape();
      const x0 = new AdjFloat(0.3);
      const a = new AdjFloat(0.9);
      const controls = [new Control(x0), new Control(a)];
      const J1 = withTape(tape, () => program(x0, a, 400)); // 6800 operations
      if (explodeFirst) void tape.blocks;
      const first = new ReducedFunctional(J1, controls, { tape });
      const out = [...first.derivative(), ...first.hessian([1, -1])].map((v) => v.value);
      const J2 = withTape(tape, () => program(J1, a, 300));
      if (explodeFirst) void tape.blocks;
      else expect(tape.records.length).toBe(1); // the same segment took the new operations
      const second = new ReducedFunctional(J2, controls, { tape });
      out.push(...[...second.derivative(), ...second.hessian([0.5, 2])].map((v) => v.value));
      out.push(second.evaluate([0.31, 0.88]), ...second.derivative().map((v) => v.value));
      return out.map(String);
    };
    expect(run(false)).toEqual(run(true));
  });

  it("a value's variable is built on request, an output of the segment, and keeps its identity", () => {
    const tape = new Tape();
    const x = new AdjFloat(0.2);
    const [u, v] = withTape(tape, () => {
      const u = np.exp(x);
      return [u, np.square(u)];
    });
    const variable = u.blockVariable;
    expect(variable.block).toBe(tape.records[0]);
    expect(variable.saved).toBe(Math.exp(0.2));
    expect(tape.records[0].outputs).toEqual([variable]);
    const rf = new ReducedFunctional(v, new Control(x), { tape });
    expect(rf.derivative().value).toBe(2 * Math.exp(0.2) * Math.exp(0.2));
    expect(tape.blocks[0].outputs[0]).toBe(variable); // the same variable after the segment became blocks
  });

  it("a control on an intermediate value holds that value fixed, as with blocks", () => {
    const run = (explodeFirst: boolean) => {
      const tape = new Tape();
      const x = new AdjFloat(0.4);
      let mid: AdjFloat | undefined;
      const J = withTape(tape, () => {
        mid = np.sin(np.multiply(x, 3));
        return np.add(np.multiply(mid, x), np.cos(mid));
      });
      if (mid === undefined) throw new Error("no intermediate value");
      if (explodeFirst) void tape.blocks;
      const rf = new ReducedFunctional(J, [new Control(x), new Control(mid)], { tape });
      return [...rf.derivative(), ...rf.hessian([0.3, -1])].map((value) => value.value);
    };
    expect(run(false)).toEqual(run(true));
  });

  it("another block closes the segment; tags and checkpointing record blocks", () => {
    const tape = new Tape();
    const x = new AdjFloat(0.3);
    withTape(tape, () => {
      const y = np.sin(x);
      const z = np.sum(np.multiply(np.array([1, 2]), y)); // array blocks
      tape.withTag("tagged", () => np.cos(z));
      return np.exp(np.tanh(y));
    });
    expect(tape.records.map((block) => block.constructor.name)).toEqual([
      "ScalarSegment",
      "BinaryElementwiseBlock",
      "LinearBlock",
      "UnaryElementwiseBlock",
      "ScalarSegment",
    ]);
    expect(tape.getBlocks("tagged").map((block) => block.name)).toEqual(["cos"]);
    expect(tape.blocks.length).toBe(6);

    const checkpointed = new Tape();
    checkpointed.enableCheckpointing(new Revolve(3, 1));
    let u = new AdjFloat(0.5);
    withTape(checkpointed, () => {
      for (const _ of checkpointed.timestepper(3)) u = np.sin(np.multiply(u, 1.1));
    });
    expect(checkpointed.records.some((block) => block instanceof ScalarSegment)).toBe(false);
    expect(checkpointed.timestepBlocks(1).map((block) => block.name)).toEqual(["multiply", "sin"]);
  });

  it("timesteps end a segment and keep their boundaries when the list is read", () => {
    const tape = new Tape();
    let x = new AdjFloat(0.1);
    withTape(tape, () => {
      for (let t = 0; t < 3; t++) {
        x = np.exp(np.multiply(x, 0.5));
        tape.endTimestep();
      }
    });
    expect(tape.records.length).toBe(3);
    expect(tape.timestepBlocks(2).map((block) => block.name)).toEqual(["multiply", "exp"]);
    expect(tape.blocks.length).toBe(6);
  });

  it("a recorded value is not a fresh output; tape.clear drops the segment", () => {
    const tape = new Tape();
    const y = withTape(tape, () => np.sin(new AdjFloat(1)));
    class Cube extends Block<readonly [number], readonly [number]> {
      recompute({ inputs: [x] }: { inputs: readonly [number] }): readonly [number] {
        return [x * x * x];
      }
    }
    expect(() => new Cube().addOutput(y)).toThrow(TsadjointError);
    tape.clear();
    expect(tape.records.length).toBe(0);
    expect(tape.blocks.length).toBe(0);
    const z = withTape(tape, () => np.cos(y)); // y's variable now stands alone, an input of the new segment
    expect(tape.records.length).toBe(1);
    expect(tape.records[0].dependencies).toEqual([y.blockVariable]);
    expect(z.value).toBe(Math.cos(Math.sin(1)));
  });

  it("the segment as a block: its composite modes equal the sweeps (drivers that call modes)", () => {
    const tape = new Tape();
    const x = new AdjFloat(0.7);
    const a = new AdjFloat(-0.2);
    const J = withTape(tape, () => np.multiply(np.sin(np.add(x, a)), a));
    const segment = tape.records[0];
    const jv = J.blockVariable;
    const inputs = segment.dependencies.map((d) => d.saved);
    const outputs = segment.outputs.map((o) => o.saved);
    expect(segment.recompute({ inputs })).toEqual([jv.saved]);
    const tangent = segment.evaluateTlm({ inputs, outputs, tlmInputs: [1, 0] });
    const adjoint = segment.evaluateAdj({ inputs, outputs, adjInputs: [1], needed: [true, true] });
    const rf = new ReducedFunctional(J, [new Control(x), new Control(a)], { tape });
    const [dx, da] = rf.derivative();
    expect(adjoint).toEqual([dx.value, da.value]);
    expect(tangent).toEqual([rf.tlm([1, 0])]);
  });

  it("the segment's Block modes (evaluateAdj / evaluateHessian / evaluateAdjAndHessian) equal the per-operation blocks swept over the same seeds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const rng = mulberry(seed);
        const spec = randomSpec(rng);
        const segment = recordSpec(spec, false);
        const exploded = recordSpec(spec, true);
        const block = segment.tape.records[0];
        expect(block).toBeInstanceOf(ScalarSegment);
        expect(segment.tape.records.length).toBe(1);
        expect(hasFusedSecondOrder(block)).toBe(true);
        // the segment's dependencies are the inputs in the order of first use
        const order = block.dependencies.map((d) =>
          segment.externals.findIndex((x) => x.blockVariable === d),
        );
        expect([...order].sort()).toEqual(segment.externals.map((_, k) => k));
        const externals = order.map((k) => exploded.externals[k]);
        expect(block.outputs).toEqual(segment.outputs.map((v) => v.blockVariable));
        // seeds: undefined (no seed), 0 (a zero seed) or a number
        const seedOf = () => {
          const u = rng();
          return u < 0.25 ? undefined : u < 0.4 ? 0 : Math.round((rng() * 4 - 2) * 64) / 64;
        };
        const needed = externals.map(() => rng() < 0.7);
        if (!needed.some(Boolean)) needed[0] = true;
        const tlmInputs = needed.map((on) => (on ? seedOf() : undefined));
        const adjInputs = segment.outputs.map(seedOf);
        const hessianInputs = segment.outputs.map(seedOf);
        const inputs = block.dependencies.map((d) => d.saved);
        const outputs = block.outputs.map((o) => o.saved);
        const context = { inputs, outputs, needed, tlmInputs, adjInputs, hessianInputs };
        const adjoint = block.evaluateAdj(context);
        const hessian = block.evaluateHessian(context);
        if (!hasFusedSecondOrder(block)) throw new Error("no fused second order");
        const [fusedAdjoint, fusedHessian] = block.evaluateAdjAndHessian(context);
        // the fused call over the tangents an evaluateTlm just left (compile's second-order pass)
        if (!(block instanceof ScalarSegment)) throw new Error("not a segment");
        block.evaluateTlm(context);
        const reused = block._composite("fused", { ...context, tangentsReady: block._compositeToken() });

        // the exploded blocks swept with the needed externals as controls
        const controls = externals.filter((_, k) => needed[k]).map((v) => v.blockVariable);
        const tangents = tlmInputs.filter((_, k) => needed[k]);
        const outs = exploded.outputs.map((v) => v.blockVariable);
        const path = () => findPath(exploded.tape, controls, outs, "test");
        const read = (slot: "adj" | "hessian") => (variable: BlockVariable) => variable[slot];
        adjointSweep(path(), adjInputs);
        const sweptAdjoint = controls.map(read("adj"));
        tlmSweep(path(), tangents);
        adjointSweep(path(), adjInputs);
        hessianSweep(path(), adjInputs, { hessianSeeds: hessianInputs, adjointsReady: true });
        const sweptHessian = controls.map(read("hessian"));
        tlmSweep(path(), tangents);
        hessianSweep(path(), adjInputs, { hessianSeeds: hessianInputs });
        const sweptFused = [controls.map(read("adj")), controls.map(read("hessian"))];

        const pick = (values: readonly unknown[]) => values.filter((_, k) => needed[k]);
        const same = (a: readonly unknown[], b: readonly unknown[]) =>
          a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
        const describe = () => JSON.stringify({ seed, needed, tlmInputs, adjInputs, hessianInputs });
        expect(same(pick(adjoint), sweptAdjoint), describe()).toBe(true);
        expect(same(pick(hessian), sweptHessian), describe()).toBe(true);
        expect(same(pick(fusedAdjoint), sweptFused[0]), describe()).toBe(true);
        expect(same(pick(fusedHessian), sweptFused[1]), describe()).toBe(true);
        expect(same(reused.adj, fusedAdjoint) && same(reused.hessian, fusedHessian), describe()).toBe(true);
        // an external that is not needed gets nothing
        for (const result of [adjoint, hessian, fusedAdjoint, fusedHessian])
          result.forEach((value, k) => {
            if (!needed[k]) expect(value).toBeUndefined();
          });
      }),
      { numRuns: 60 },
    );
  });

  it("computeHessian and ReducedFunctional.hessian through the segment equal the per-operation blocks (random programs)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const spec = randomSpec(mulberry(seed));
        const run = (explodeFirst: boolean) => {
          const { tape, externals, outputs } = recordSpec(spec, explodeFirst);
          const J = outputs[outputs.length - 1];
          const controls = externals.map((x) => new Control(x));
          const rf = new ReducedFunctional(J, controls, { tape });
          const direction = externals.map((_, k) => 0.5 - 0.25 * k);
          const out = [rf.value(), ...rf.derivative().map((v) => v.value)];
          out.push(...rf.hessian(direction).map((v) => v.value));
          out.push(
            ...computeHessian(
              J,
              controls,
              direction.map((d) => -d),
              { tape },
            ).map((v) => v.value),
          );
          out.push(...rf.hessian(direction.map((d) => 2 * d)).map((v) => v.value));
          return out.map(String);
        };
        expect(run(false)).toEqual(run(true));
      }),
      { numRuns: 40 },
    );
  });
});

/** A small deterministic generator (mulberry32) for the random programs. */
function mulberry(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One operation of a random scalar program: its kind and the pool entries / constant it uses. */
interface SpecOp {
  readonly op: number;
  readonly i: number;
  readonly j: number;
  readonly c: number;
  readonly output: boolean;
}

interface Spec {
  readonly inputs: readonly number[];
  readonly ops: readonly SpecOp[];
}

const SPEC_OPS = 11;

function randomSpec(rng: () => number): Spec {
  const inputs = Array.from(
    { length: 2 + Math.floor(rng() * 3) },
    () => Math.round((rng() * 2 - 1) * 100) / 100,
  );
  const count = 3 + Math.floor(rng() * 25);
  const ops: SpecOp[] = [];
  for (let t = 0; t < count; t++) {
    const pool = inputs.length + t;
    ops.push({
      op: Math.floor(rng() * SPEC_OPS),
      i: Math.floor(rng() * pool),
      j: Math.floor(rng() * pool),
      c: [0, 1, 2, -0.5, 3][Math.floor(rng() * 5)],
      output: rng() < 0.2,
    });
  }
  return { inputs, ops };
}

/** Records a spec on a fresh tape; the outputs are the marked values and, last, the sum of the pool. */
function recordSpec(
  spec: Spec,
  explodeFirst: boolean,
): { tape: Tape; externals: AdjFloat[]; outputs: AdjFloat[] } {
  const tape = new Tape();
  const externals = spec.inputs.map((v) => new AdjFloat(v));
  const outputs: AdjFloat[] = [];
  withTape(tape, () => {
    const pool: AdjFloat[] = [...externals];
    for (const { op, i, j, c, output } of spec.ops) {
      const u = pool[i];
      const v = pool[j];
      const results: AdjFloat[] = [
        np.sin(u),
        np.tanh(np.multiply(u, v)),
        np.add(u, v),
        np.subtract(c, u),
        np.multiply(u, c),
        np.power(np.add(np.square(u), 0.5), c),
        np.divide(u, np.add(np.square(v), 1)),
        np.power(np.add(np.square(u), 0.5), np.tanh(v)),
        np.exp(np.cos(u)),
        np.multiply(u, u),
        np.subtract(u, c),
      ];
      const value = results[op];
      pool.push(value);
      if (output) outputs.push(value);
    }
    let total = pool[0];
    for (let k = 1; k < pool.length; k++) total = np.add(total, pool[k]);
    outputs.push(total);
  });
  // the outputs' variables, built in the same order on both tapes
  for (const output of outputs) void output.blockVariable;
  if (explodeFirst) void tape.blocks;
  return { tape, externals, outputs };
}
