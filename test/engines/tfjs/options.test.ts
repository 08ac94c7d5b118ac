/**
 * @file runTensorflowGraph / tensorflowJacobian options: unknown keys are InvalidArgumentErrors naming the key
 * and the accepted ones; `{ tape }` records the block (through record) on that tape only; nothing with annotation off.
 */
import * as tf from "@tensorflow/tfjs";
import fc from "fast-check";
import {
  AdjFloat,
  Control,
  computeGradient,
  getWorkingTape,
  InvalidArgumentError,
  np,
  stopAnnotating,
  Tape,
  TsadjointError,
  withTape,
} from "tsadjoint";
import { runTensorflowGraph, tensorflowJacobian } from "tsadjoint/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { setupTf } from "./helpers.js";

beforeAll(setupTf);

const square = (x: tf.Tensor) => tf.mul(x, x);

describe("runTensorflowGraph options", () => {
  it("rejects unknown keys (runTensorflowGraph { output }, tensorflowJacobian { withRespectto })", () => {
    const x = np.array([1, 2]);
    expect(() => runTensorflowGraph(square, x, { output: 0 } as never)).toThrow(InvalidArgumentError);
    expect(() => runTensorflowGraph(square, x, { output: 0 } as never)).toThrow(/did you mean "outputs"/);
    expect(() => tensorflowJacobian(square, x, { withRespectto: "all" } as never)).toThrow(
      /unknown option "withRespectto".*did you mean "withRespectTo"/,
    );
    expect(() => runTensorflowGraph(square, x, { tape: 3 } as never)).toThrow(InvalidArgumentError);
  });

  it("{ tape } records the block on that tape, not on the working tape", () => {
    const tape = new Tape();
    const working = getWorkingTape().blocks.length;
    const x = np.array([1, 2]);
    const y = runTensorflowGraph(square, x, { tape });
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

describe("runTensorflowGraph recording", () => {
  it("records nothing with annotation off; the result is off the tape", () => {
    const tape = new Tape();
    const x = np.array([1, 2]);
    const y = stopAnnotating(() => runTensorflowGraph(square, x, { tape }));
    expect(tape.blocks.length).toBe(0);
    expect(Array.from(y.data)).toEqual([1, 4]);
    expect(y._blockVariable).toBeUndefined();
  });

  it("links each output to the recorded block", () => {
    const tape = new Tape();
    const pair = (x: tf.Tensor) => [tf.mul(x, x), tf.add(x, x)];
    const [a, b] = runTensorflowGraph(pair, np.array([1, 2]), { tape, outputs: [0, 1] });
    const [block] = tape.blocks;
    expect(block.outputs.length).toBe(2);
    expect(a.blockVariable).toBe(block.outputs[0]);
    expect(b.blockVariable).toBe(block.outputs[1]);
    expect(Array.from(b.data)).toEqual([2, 4]);
  });
});

describe("runTensorflowGraph misuse (property-based, fixed seed)", () => {
  it("wrong graphs, feeds and options are TsadjointErrors, never internal errors", () => {
    const pool: unknown[] = [
      null,
      undefined,
      "a",
      Number.NaN,
      -1,
      2.5,
      {},
      [],
      [1, 2],
      [[1], [2, 3]],
      { foo: 1 },
      () => 1,
      square,
      np.array([1, 2]),
      new AdjFloat(1),
      { outputs: "nope" },
      { outputs: [0, 5] },
      { weights: "a" },
      { weights: [np.array([1])] },
      { withRespectTo: "weights" },
    ];
    fc.assert(
      fc.property(fc.nat(pool.length - 1), fc.nat(pool.length - 1), fc.nat(pool.length - 1), (g, f, o) => {
        for (const run of [runTensorflowGraph, tensorflowJacobian]) {
          try {
            (run as (...args: unknown[]) => unknown)(pool[g], pool[f], pool[o]);
          } catch (error) {
            if (!(error instanceof TsadjointError)) throw error;
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
