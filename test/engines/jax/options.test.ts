/**
 * @file overloadJax options: unknown keys are InvalidArgumentErrors naming the key and the accepted ones;
 * `{ tape }` records each call's block (through record) on that tape only; nothing is recorded with
 * annotation off; the JaxBlock declares its capabilities (Jacobian propagation, disposable).
 */
import type { Array as JaxArray } from "@jax-js/jax";
import fc from "fast-check";
import {
  AdjFloat,
  Control,
  computeGradient,
  getWorkingTape,
  InvalidArgumentError,
  isDisposable,
  np,
  propagatesJacobians,
  stopAnnotating,
  Tape,
  TsadjointError,
  withTape,
} from "tsadjoint";
import { overloadJax } from "tsadjoint/jax";
import { describe, expect, it } from "vitest";

const square = (x: JaxArray) => x.ref.mul(x);

describe("overloadJax options", () => {
  it("rejects unknown keys and wrong-typed flags", () => {
    expect(() => overloadJax(square, { jitt: false } as never)).toThrow(InvalidArgumentError);
    expect(() => overloadJax(square, { jitt: false } as never)).toThrow(/did you mean "jit"/);
    expect(() => overloadJax(square, { staticArgnum: 1 } as never)).toThrow(/did you mean "staticArgnums"/);
    expect(() => overloadJax(square, { jit: "no" } as never)).toThrow(InvalidArgumentError);
    expect(() => overloadJax(square, { tape: {} } as never)).toThrow(InvalidArgumentError);
  });

  it("{ tape } records each call on that tape, not on the working tape", () => {
    const tape = new Tape();
    const f = overloadJax(square, { tape, jit: false });
    const working = getWorkingTape().blocks.length;
    const x = np.array([1, 2]);
    const y = f(x) as InstanceType<typeof np.NDArray>;
    expect(tape.blocks.length).toBe(1);
    expect(getWorkingTape().blocks.length).toBe(working);
    const g = computeGradient(
      withTape(tape, () => np.sum(y)),
      new Control(x),
      { tape },
    ) as InstanceType<typeof np.NDArray>;
    expect(Array.from(g.data)).toEqual([2, 4]);
  });
});

describe("overloadJax recording", () => {
  it("records nothing with annotation off or without dependencies; the result is off the tape", () => {
    const tape = new Tape();
    const f = overloadJax(square, { tape, jit: false });
    const x = np.array([1, 2]);
    const off = stopAnnotating(() => f(x)) as InstanceType<typeof np.NDArray>;
    const constant = f([1, 2]) as InstanceType<typeof np.NDArray>;
    expect(tape.blocks.length).toBe(0);
    expect(Array.from(off.data)).toEqual([1, 4]);
    expect(Array.from(constant.data)).toEqual([1, 4]);
    expect(off._blockVariable).toBeUndefined();
    expect(constant._blockVariable).toBeUndefined();
  });

  it("the recorded JaxBlock declares Jacobian propagation and disposal; its output is linked to it", () => {
    const tape = new Tape();
    const y = overloadJax(square, { tape, jit: false })(np.array([3])) as InstanceType<typeof np.NDArray>;
    const [block] = tape.blocks;
    expect(propagatesJacobians(block)).toBe(true);
    expect(isDisposable(block)).toBe(true);
    expect(block.outputs.length).toBe(1);
    expect(y.blockVariable).toBe(block.outputs[0]);
    expect(y.blockVariable.block).toBe(block);
  });
});

describe("overloadJax misuse (property-based, fixed seed)", () => {
  it("wrong options and arguments are TsadjointErrors, never internal errors", () => {
    const pool: unknown[] = [
      null,
      undefined,
      "a",
      Number.NaN,
      -1,
      2.5,
      true,
      {},
      [],
      [1, 2],
      [[1], [2, 3]],
      { foo: 1 },
      () => 1,
      np.array([1, 2]),
      new AdjFloat(1),
      { argnums: "a" },
      { staticArgnums: [5] },
      { device: "gpu" },
      { pointwise: "yes" },
      { jit: false },
    ];
    fc.assert(
      fc.property(fc.nat(pool.length - 1), fc.nat(pool.length - 1), fc.nat(pool.length - 1), (o, a, b) => {
        try {
          const f = overloadJax((x: JaxArray) => x.ref.mul(x), pool[o] as never) as (
            ...args: unknown[]
          ) => unknown;
          f(pool[a], pool[b]);
        } catch (error) {
          if (!(error instanceof TsadjointError)) throw error;
        }
      }),
      { numRuns: 60 },
    );
  });
});
