import { AdjFloat, type BlockVariable, stopAnnotating, Tape, TsadjointError, withTape } from "tsadjoint";
import { describe, expect, it } from "vitest";
import { BinaryElementwiseBlock, UnaryElementwiseBlock } from "../../src/ops/elementwise.js";
import { type BinaryRule, binaryRules, type UnaryRule, unaryRules } from "../../src/ops/elementwise-rules.js";
import { recordOne, recordTwo } from "../../src/tape/record.js";

const unary = (rule: UnaryRule, _: undefined, input: BlockVariable, output: BlockVariable) =>
  new UnaryElementwiseBlock(rule, input, output);
const binary = (rule: BinaryRule, a: BlockVariable, b: BlockVariable, output: BlockVariable) =>
  new BinaryElementwiseBlock(rule, a, b, output);

describe("recordOne / recordTwo (the lean recording path of one- and two-input blocks)", () => {
  it("recordOne appends one block over the input's variable and links the result", () => {
    const tape = new Tape();
    const x = new AdjFloat(0.5);
    const y = new AdjFloat(Math.sin(0.5));
    const returned = recordOne(x, y, unary, unaryRules.sin, undefined, tape);
    expect(returned).toBe(y);
    expect(tape.blocks.length).toBe(1);
    const [block] = tape.blocks;
    expect(block.name).toBe("sin");
    expect(block.dependencies).toEqual([x.blockVariable]);
    expect(block.outputs).toEqual([y.blockVariable]);
    expect(y.blockVariable.saved).toBe(Math.sin(0.5));
    expect(y.blockVariable.block).toBe(block);
  });

  it("passes its parameters through to build", () => {
    const tape = new Tape();
    const seen: unknown[] = [];
    recordOne(
      new AdjFloat(1),
      new AdjFloat(2),
      (p: string, q: number, input, output) => {
        seen.push(p, q);
        return new UnaryElementwiseBlock(unaryRules.exp, input, output);
      },
      "p",
      7,
      tape,
    );
    expect(seen).toEqual(["p", 7]);
  });

  it("recordTwo appends one block over both inputs' variables, on the working tape by default", () => {
    const tape = new Tape();
    const a = new AdjFloat(2);
    const b = new AdjFloat(3);
    const z = new AdjFloat(6);
    withTape(tape, () => recordTwo(a, b, z, binary, binaryRules.multiply));
    expect(tape.blocks.length).toBe(1);
    expect(tape.blocks[0].dependencies).toEqual([a.blockVariable, b.blockVariable]);
    expect(tape.blocks[0].name).toBe("multiply");
    expect(z.blockVariable.block).toBe(tape.blocks[0]);
  });

  it("with annotation off builds nothing and returns the result unlinked", () => {
    const tape = new Tape();
    const x = new AdjFloat(1);
    const y = new AdjFloat(2);
    let built = 0;
    const counting = (rule: UnaryRule, _: undefined, input: BlockVariable, output: BlockVariable) => {
      built++;
      return unary(rule, undefined, input, output);
    };
    expect(stopAnnotating(() => recordOne(x, y, counting, unaryRules.exp, undefined, tape))).toBe(y);
    expect(built).toBe(0);
    expect(tape.blocks.length).toBe(0);
    expect(y._blockVariable).toBeUndefined();
  });

  it("refuses a result already on a tape and leaves the tape as it was", () => {
    const tape = new Tape();
    const x = new AdjFloat(1);
    const y = new AdjFloat(2);
    recordOne(x, y, unary, unaryRules.exp, undefined, tape);
    expect(() => recordTwo(x, x, y, binary, binaryRules.add, tape)).toThrow(TsadjointError);
    expect(() => recordOne(x, y, unary, unaryRules.exp, undefined, tape)).toThrow(/already on a tape/);
    expect(tape.blocks.length).toBe(1);
    const w = recordTwo(x, y, new AdjFloat(3), binary, binaryRules.add, tape);
    expect(tape.blocks.length).toBe(2);
    expect(w.blockVariable.block).toBe(tape.blocks[1]);
  });
});
