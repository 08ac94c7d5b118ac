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
import { Block } from "../../src/tape/block.js";
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
});
