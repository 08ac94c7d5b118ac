import * as tf from "@tensorflow/tfjs";
import { AdjFloat, Control, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { modelWeights, runTensorflowGraph, type TfBlock, tensorflowJacobian } from "tsadjoint/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultRng } from "../../../src/ops/kernels/random.js";
import { NDArray } from "../../../src/values/ndarray.js";
import { denseModel, seedWeights, setupTf } from "./helpers.js";

beforeAll(setupTf);

/** The live tensor count after `calls` calls of `fn` (one warm-up call first) minus the count before them. */
function tensorGrowth(fn: () => void, calls = 25): number {
  fn();
  const before = tf.memory().numTensors;
  for (let i = 0; i < calls; i++) fn();
  return tf.memory().numTensors - before;
}

describe("TensorFlow.js tensors do not accumulate across calls", () => {
  const model = seedWeights(denseModel([2, 40, 30, 20, 1], ["tanh", "tanh", "tanh", "linear"]), 1);
  const x = defaultRng(2).random([15, 2]);
  const weights = modelWeights(model);
  const values = [x, ...weights];
  const tape = new Tape();
  const J = withTape(tape, () => np.sum(np.square(runTensorflowGraph(model, x))));
  const rf = new ReducedFunctional(
    J,
    values.map((v) => new Control(v)),
    { tape },
  );
  const rng = defaultRng(3);
  const direction = values.map((v) => rng.normal(0, 0.1, v.shape));

  it("recording, replay, gradient, TLM, Hessian action and Jacobian", () => {
    expect(tensorGrowth(() => runTensorflowGraph(model, x))).toBe(0);
    expect(tensorGrowth(() => rf.evaluate(values))).toBe(0);
    expect(tensorGrowth(() => rf.derivative())).toBe(0);
    expect(tensorGrowth(() => rf.tlm(direction))).toBe(0);
    expect(tensorGrowth(() => rf.hessian(direction), 5)).toBe(0);
    expect(tensorGrowth(() => (tape.blocks[0] as TfBlock).jacobian(), 2)).toBe(0);
    expect(tensorGrowth(() => tensorflowJacobian((t: tf.Tensor) => tf.tile(tf.sin(t), [20, 1]), x), 2)).toBe(
      0,
    );
  });

  it("failed calls (refused Hessians, TensorFlow.js errors) leave nothing behind", () => {
    const small = new NDArray(Float64Array.of(0.2, -0.4, 0.9), [3]);
    const tanhTape = new Tape();
    const tanhJ = withTape(tanhTape, () =>
      np.sum(runTensorflowGraph((t: tf.Tensor) => tf.mul(t, tf.tanh(t)), small)),
    );
    const tanhRf = new ReducedFunctional(tanhJ, new Control(small), { tape: tanhTape });
    expect(
      tensorGrowth(() => {
        expect(() => tanhRf.hessian(small)).toThrow(/Tanh/);
      }, 5),
    ).toBe(0);
    // the exponent's gradient makes TensorFlow.js throw inside a nested gradient ("no gradient for Greater")
    const exponent = new AdjFloat(1.5);
    const powTape = new Tape();
    const powJ = withTape(powTape, () =>
      np.sum(
        runTensorflowGraph(
          (a: tf.Tensor, p: tf.Tensor) => tf.pow(a, p),
          [np.abs(small) as NDArray, exponent],
        ),
      ),
    );
    const powRf = new ReducedFunctional(powJ, new Control(exponent), { tape: powTape });
    expect(
      tensorGrowth(() => {
        expect(() => powRf.hessian(1)).toThrow(/Pow/);
      }, 5),
    ).toBe(0);
    expect(tensorGrowth(() => powRf.derivative(), 5)).toBe(0);
  });
});
