import * as tf from "@tensorflow/tfjs";
import {
  Control,
  InvalidArgumentError,
  np,
  ReducedFunctional,
  ShapeMismatchError,
  Tape,
  withTape,
} from "tsadjoint";
import { modelWeightNames, modelWeights, runTensorflowGraph, setModelWeights } from "tsadjoint/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultRng } from "../../../src/ops/kernels/random.js";
import { NDArray } from "../../../src/values/ndarray.js";
import { denseModel, denseToGraphModel, relativeDifference, seedWeights, setupTf } from "./helpers.js";

beforeAll(setupTf);

const predict = (model: tf.LayersModel, x: NDArray) =>
  tf.tidy(() =>
    Array.from((model.predict(tf.tensor(new Float32Array(x.data), x.shape.slice())) as tf.Tensor).dataSync()),
  );

describe("modelWeights / setModelWeights", () => {
  it("returns the weights in model order as float64 NDArrays, the same objects on every call", () => {
    const model = seedWeights(denseModel([2, 5, 1], ["tanh", "linear"]), 1);
    const weights = modelWeights(model);
    expect(weights.map((w) => w.shape)).toEqual([[2, 5], [5], [5, 1], [1]]);
    expect(modelWeights(model)).toEqual(weights);
    modelWeights(model).forEach((w, i) => {
      expect(w).toBe(weights[i]);
    });
    expect(modelWeightNames(model)).toEqual(model.weights.map((w) => w.name));
    // the values are the model's (float32) variables
    const variables = model.getWeights().map((t) => Array.from(t.dataSync()));
    expect(modelWeights(model, { reload: true }).map((w) => Array.from(w.data))).toEqual(variables);
  });

  it("setModelWeights writes into the model's variables (rounded to float32) and becomes modelWeights", () => {
    const model = denseModel([2, 5, 1], ["tanh", "linear"]);
    const rng = defaultRng(2);
    const fresh = modelWeights(model).map((w) => rng.normal(0, 0.5, w.shape));
    const x = rng.normal(0, 1, [3, 2]);
    const before = predict(model, x);
    setModelWeights(model, fresh);
    expect(modelWeights(model)).toEqual(fresh);
    const after = predict(model, x);
    expect(after).not.toEqual(before);
    expect(relativeDifference([runTensorflowGraph(model, x).data], [after])).toBeLessThan(1e-6);
    expect(model.getWeights()[0].dataSync()[0]).toBe(Math.fround(fresh[0].data[0]));
  });

  it("runTensorflowGraph uses the NDArrays, not the model's variables: a replay at new weights needs no setWeights", () => {
    const model = seedWeights(denseModel([2, 5, 1], ["tanh", "linear"]), 3);
    const weights = modelWeights(model);
    const x = defaultRng(4).normal(0, 1, [3, 2]);
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(np.square(runTensorflowGraph(model, x))));
    const rf = new ReducedFunctional(
      J,
      weights.map((w) => new Control(w)),
      { tape },
    );
    const moved = weights.map((w) => np.multiply(w, 1.5) as NDArray);
    const replayed = rf.evaluate(moved);
    const variablesBefore = model.getWeights().map((t) => Array.from(t.dataSync()));
    setModelWeights(model, moved);
    const direct = predict(model, x).reduce((sum, v) => sum + v * v, 0);
    expect(Math.abs(replayed - direct) / direct).toBeLessThan(1e-6);
    // the replay itself left the model's variables alone
    expect(variablesBefore).toEqual(weights.map((w) => Array.from(w.data).map(Math.fround)));
  });

  it("options.weights evaluates the model with other weights", () => {
    const model = seedWeights(denseModel([2, 5, 1], ["tanh", "linear"]), 5);
    const x = defaultRng(6).normal(0, 1, [3, 2]);
    const zeros = modelWeights(model).map((w) => new NDArray(new Float64Array(w.size), w.shape));
    expect(Array.from(runTensorflowGraph(model, x, { weights: zeros }).data)).toEqual([0, 0, 0]);
  });

  it("works for graph models: float32 constants are the weights, setModelWeights replaces them", () => {
    const layers = seedWeights(denseModel([2, 5, 1], ["tanh", "linear"]), 7);
    const graphModel = denseToGraphModel(layers as tf.Sequential);
    expect(modelWeightNames(graphModel)).toEqual([
      "dense0/kernel",
      "dense0/bias",
      "dense1/kernel",
      "dense1/bias",
    ]);
    const x = defaultRng(8).normal(0, 1, [3, 2]);
    const before = runTensorflowGraph(graphModel, { x }, { outputs: "y" });
    const doubled = modelWeights(graphModel).map((w) => np.multiply(w, 2) as NDArray);
    const numTensors = tf.memory().numTensors;
    setModelWeights(graphModel, doubled);
    expect(tf.memory().numTensors).toBe(numTensors);
    expect(modelWeights(graphModel)).toEqual(doubled);
    const after = tf.tidy(() =>
      Array.from(
        (graphModel.execute(tf.tensor(new Float32Array(x.data), [3, 2]), "y") as tf.Tensor).dataSync(),
      ),
    );
    expect(after).not.toEqual(Array.from(before.data));
    expect(
      relativeDifference([runTensorflowGraph(graphModel, { x }, { outputs: "y" }).data], [after]),
    ).toBeLessThan(1e-6);
  });

  it("names the problem with wrong weights or a model that is not one", () => {
    const model = denseModel([2, 3, 1], ["tanh", "linear"]);
    const weights = modelWeights(model);
    expect(() => setModelWeights(model, weights.slice(1))).toThrow(InvalidArgumentError);
    expect(() => setModelWeights(model, [weights[1], weights[0], weights[2], weights[3]])).toThrow(
      ShapeMismatchError,
    );
    expect(() => modelWeights({} as tf.LayersModel)).toThrow(/LayersModel/);
    const unbuilt = tf.sequential();
    expect(() => modelWeights(unbuilt)).toThrow(/not built/);
  });
});
