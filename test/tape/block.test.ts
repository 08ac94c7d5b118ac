import {
  type AdjContext,
  AdjFloat,
  Block,
  BlockVariable,
  Control,
  computeGradient,
  np,
  OverloadedValue,
  type RecomputeContext,
  recordable,
  recordBlock,
  type Seeds,
  Tape,
  TsadjointError,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";

type In = readonly [number];
type Out = readonly [number];

/** y = x^3 with its adjoint rule. */
class Cube extends Block<In, Out> {
  recompute({ inputs: [x] }: RecomputeContext<In>): Out {
    return [x * x * x];
  }
  override evaluateAdj({ inputs: [x], adjInputs: [ybar] }: AdjContext<In, Out>): Seeds<In> {
    return [ybar === undefined ? undefined : 3 * x * x * ybar];
  }
}

describe("Block.addDependency / Block.addOutput", () => {
  it("link overloaded values (they carry the Recordable marker) and BlockVariables to the tape", () => {
    const tape = new Tape();
    const x = new AdjFloat(2);
    expect(x[recordable]).toBe(true);
    const block = new Cube();
    block.addDependency(x);
    const y = block.addOutput(new AdjFloat(8));
    recordBlock(block, { tape });
    expect(block.dependencies).toEqual([x.blockVariable]);
    expect(block.outputs).toEqual([y.blockVariable]);
    expect(y.blockVariable.block).toBe(block);
    expect((computeGradient(y, new Control(x), { tape }) as AdjFloat).value).toBe(12);
    const other = new Cube();
    other.addDependency(y.blockVariable);
    expect(other.dependencies[0]).toBe(y.blockVariable);
  });

  it("reject a look-alike without the marker, and a value already on a tape", () => {
    const lookAlike = { raw: () => 1, blockVariable: new BlockVariable(1), _blockVariable: undefined };
    expect(() => new Cube().addDependency(lookAlike as never)).toThrow(TsadjointError);
    expect(() => new Cube().addOutput(lookAlike as never)).toThrow(/an output must be an overloaded value/);
    const recorded = withTape(new Tape(), () => np.sin(new AdjFloat(1)));
    expect(() => new Cube().addOutput(recorded)).toThrow(/already on a tape/);
  });

  it("accept a user's OverloadedValue subclass", () => {
    class Pair extends OverloadedValue {
      constructor(readonly a: number) {
        super();
      }
      raw(): number {
        return this.a;
      }
    }
    const block = new Cube();
    const p = new Pair(3);
    block.addDependency(p);
    expect(block.dependencies[0]).toBe(p.blockVariable);
  });
});

describe("new BlockVariable", () => {
  it("takes the producing Block or nothing", () => {
    const block = new Cube();
    expect(new BlockVariable(1, block).block).toBe(block);
    expect(new BlockVariable(1).block).toBeUndefined();
    expect(() => new BlockVariable(1, { recompute: () => [] } as never)).toThrow(TsadjointError);
  });
});
