import * as tf from "@tensorflow/tfjs";
import {
  AdjFloat,
  Control,
  checkRule,
  computeGradient,
  computeTLM,
  EngineLimitError,
  InvalidArgumentError,
  np,
  ReducedFunctional,
  ShapeMismatchError,
  stopAnnotating,
  Tape,
  taylorToDict,
  withTape,
} from "tsadjoint";
import { modelWeights, runTensorflowGraph, TfBlock, tensorflowJacobian } from "tsadjoint/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultRng } from "../../../src/ops/kernels/random.js";
import { NDArray } from "../../../src/values/ndarray.js";
import {
  denseModel,
  denseToGraphModel,
  expectRates,
  referenceGradient,
  relativeDifference,
  seedWeights,
  setupTf,
} from "./helpers.js";

beforeAll(setupTf);

/** Steps that suit float32: the float32 noise in J (about 1e-7 |J|) stays far below the remainders. */
const FLOAT32_EPSILONS = [1e-1, 5e-2, 2.5e-2, 1.25e-2];
const SIZES = [2, 40, 30, 20, 1];
const ACTIVATIONS = ["tanh", "tanh", "tanh", "linear"];

/** The seed example (b): Dense 40, 30, 20 (tanh) and a linear output on inputs of shape [n, 2]. */
function seedNetwork(): tf.Sequential {
  return seedWeights(denseModel(SIZES, ACTIVATIONS), 11);
}

function directions(values: readonly NDArray[], seed: number, scale = 0.1): NDArray[] {
  const rng = defaultRng(seed);
  return values.map((v) => rng.normal(0, scale, v.shape));
}

function dot(a: readonly NDArray[], b: readonly NDArray[]): number {
  let total = 0;
  a.forEach((x, k) => {
    for (let i = 0; i < x.size; i++) total += x.data[i] * b[k].data[i];
  });
  return total;
}

describe("runTensorflowGraph: the seed example (b), a Dense 40-30-20 tanh network on 15 random points", () => {
  const model = seedNetwork();
  const x = defaultRng(5).random([15, 2]);

  it("evaluates like model.predict and records one TfBlock", () => {
    const tape = new Tape();
    const y = withTape(tape, () => runTensorflowGraph(model, x));
    expect(y).toBeInstanceOf(NDArray);
    expect(y.shape).toEqual([15, 1]);
    expect(tape.blocks).toHaveLength(1);
    expect(tape.blocks[0]).toBeInstanceOf(TfBlock);
    expect(tape.blocks[0].dependencies).toHaveLength(1 + 8); // the input, then kernel and bias of 4 layers
    const predicted = tf.tidy(() =>
      Array.from((model.predict(tf.tensor(new Float32Array(x.data), [15, 2])) as tf.Tensor).dataSync()),
    );
    expect(relativeDifference([y.data], [predicted])).toBeLessThan(1e-6);
    const reference = referenceGradient(
      [x.data, ...modelWeights(model).map((w) => w.data)],
      SIZES,
      ACTIVATIONS,
      15,
    );
    let squares = 0;
    for (const v of y.data) squares += v * v;
    expect(Math.abs(squares - reference.value) / reference.value).toBeLessThan(1e-5);
  });

  it("gradients with respect to the inputs and all weights match a float64 reference and pass Taylor tests", () => {
    const weights = modelWeights(model);
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(np.square(runTensorflowGraph(model, x))));
    const values = [x, ...weights];
    const rf = new ReducedFunctional(
      J,
      values.map((v) => new Control(v)),
      { tape },
    );
    const gradient = rf.derivative();
    const reference = referenceGradient(
      values.map((v) => v.data),
      SIZES,
      ACTIVATIONS,
      15,
    );
    expect(relativeDifference([gradient[0].data], [reference.gradient[0]])).toBeLessThan(1e-5);
    expect(
      relativeDifference(
        gradient.map((g) => g.data),
        reference.gradient,
      ),
    ).toBeLessThan(1e-5);

    const report = taylorToDict(rf, values, directions(values, 21), { epsilons: FLOAT32_EPSILONS });
    expectRates(report.R0.rates, 1);
    expectRates(report.R1.rates, 2);
    // the inputs alone and the weights alone
    const onlyInputs = new ReducedFunctional(J, new Control(x), { tape });
    const inputReport = taylorToDict(onlyInputs, x, directions([x], 22, 1)[0], {
      epsilons: FLOAT32_EPSILONS,
    });
    expectRates(inputReport.R1.rates, 2);
    const onlyWeights = new ReducedFunctional(
      J,
      weights.map((w) => new Control(w)),
      { tape },
    );
    const weightReport = taylorToDict(onlyWeights, weights, directions(weights, 23), {
      epsilons: FLOAT32_EPSILONS,
    });
    expectRates(weightReport.R1.rates, 2);
  });

  it("passes the dot-product test <w, J v> = <J^T w, v> on the network output", () => {
    const weights = modelWeights(model);
    const tape = new Tape();
    const y = withTape(tape, () => runTensorflowGraph(model, x));
    const values = [x, ...weights];
    const controls = values.map((v) => new Control(v));
    const v = directions(values, 31);
    const w = defaultRng(32).normal(0, 1, [15, 1]);
    const jv = computeTLM(y, controls, v, { tape });
    const jtw = computeGradient(y, controls, { tape, adjValue: w });
    const left = dot([w], [jv]);
    const right = dot(jtw, v);
    expect(Math.abs(left - right) / Math.abs(left)).toBeLessThan(1e-5);
  });

  it("passes the rule checker's recompute, TLM-vs-finite-difference and dot-product checks at float32 tolerances", () => {
    const weights = modelWeights(model);
    const report = checkRule(
      (input, ...ws) => runTensorflowGraph(model, input as NDArray, { weights: ws as NDArray[] }),
      [x, ...weights],
      { fdStep: 1e-2, epsilons: [2e-2, 1e-2, 5e-3, 2.5e-3], skipHessian: true },
    );
    expect(report.recomputeError).toBeLessThan(1e-6);
    expect(report.tlmError).toBeLessThan(5e-3);
    expect(report.dotProductError).toBeLessThan(1e-5);
  });

  it("replays at new weight values: the output changes and matches the network with those weights", () => {
    const weights = modelWeights(model);
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(np.square(runTensorflowGraph(model, x))));
    const rf = new ReducedFunctional(
      J,
      weights.map((w) => new Control(w)),
      { tape },
    );
    const before = rf.evaluate(weights);
    const moved = weights.map((w, k) => np.add(w, directions(weights, 41 + k, 0.1)[k]) as NDArray);
    const after = rf.evaluate(moved);
    expect(Math.abs(after - before)).toBeGreaterThan(1e-3);
    const reference = referenceGradient([x.data, ...moved.map((w) => w.data)], SIZES, ACTIVATIONS, 15);
    expect(Math.abs(after - reference.value) / reference.value).toBeLessThan(1e-5);
    // the model's own variables are untouched
    expect(modelWeights(model, { reload: true }).map((w) => Array.from(w.data))).toEqual(
      weights.map((w) => Array.from(w.data).map(Math.fround)),
    );
  });

  it("gives the dense Jacobian (block diagonal over points) by tensorflowJacobian and TfBlock.jacobian", () => {
    const small = x;
    const { values, jacobian, withRespectTo } = tensorflowJacobian(model, small);
    expect(withRespectTo).toEqual([small]);
    expect(jacobian[0][0].shape).toEqual([15, 1, 15, 2]);
    // rows against the adjoint: row p of the Jacobian is d y_p / d x
    const weights = modelWeights(model);
    const reference = (p: number) => {
      const single = new NDArray(small.data.slice(2 * p, 2 * p + 2), [1, 2]);
      const { gradient, value } = referenceGradient(
        [single.data, ...weights.map((w) => w.data)],
        SIZES,
        ACTIVATIONS,
        1,
      );
      const y = Math.sqrt(value) * Math.sign(values[0].data[p]); // J = y^2, dJ/dx = 2 y dy/dx
      return gradient[0].map((g) => g / (2 * y));
    };
    const J = jacobian[0][0].data;
    for (const p of [0, 7, 14]) {
      const row = J.slice(p * 30, p * 30 + 30);
      const expected = new Float64Array(30);
      expected.set(reference(p), 2 * p);
      expect(relativeDifference([row], [expected])).toBeLessThan(1e-4);
    }
    const tape = new Tape();
    withTape(tape, () => runTensorflowGraph(model, small));
    const [[blockJacobian]] = (tape.blocks[0] as TfBlock).jacobian();
    expect(relativeDifference([blockJacobian.data], [J])).toBeLessThan(1e-12);
    // with respect to the weights: [15, 1, 40*2+40+...]: check one weight's Jacobian against the TLM
    const byWeights = tensorflowJacobian(model, small, { withRespectTo: "weights" });
    expect(byWeights.withRespectTo).toHaveLength(8);
    expect(byWeights.jacobian[0][0].shape).toEqual([15, 1, 2, 40]);
  });

  it("computes a Jacobian with more outputs than inputs by columns (double VJP)", () => {
    const t = new NDArray(Float64Array.of(0.3, -1.1), [2]);
    const { jacobian } = tensorflowJacobian((a: tf.Tensor) => tf.tile(tf.sin(a), [10]), t);
    expect(jacobian[0][0].shape).toEqual([20, 2]);
    const J = jacobian[0][0].data;
    for (let k = 0; k < 20; k++) {
      for (let i = 0; i < 2; i++) expect(J[2 * k + i]).toBeCloseTo(k % 2 === i ? Math.cos(t.data[i]) : 0, 6);
    }
  });
});

describe("runTensorflowGraph with a GraphModel built offline (named inputs and outputs, like a TF1 feed dict)", () => {
  const model = seedNetwork();
  const graphModel = denseToGraphModel(model);
  const x = defaultRng(6).random([15, 2]);

  it("evaluates the chosen output like the Layers model, differentiates inputs and weights", () => {
    const y = runTensorflowGraph(graphModel, { x }, { outputs: "y" });
    const expected = runTensorflowGraph(model, x);
    expect(relativeDifference([y.data], [expected.data])).toBeLessThan(1e-6);
    const weights = modelWeights(graphModel);
    expect(weights).toHaveLength(8);
    const tape = new Tape();
    const J = withTape(tape, () =>
      np.sum(np.square(runTensorflowGraph(graphModel, { x }, { outputs: "y" }))),
    );
    const values = [x, ...weights];
    const rf = new ReducedFunctional(
      J,
      values.map((v) => new Control(v)),
      { tape },
    );
    const gradient = rf.derivative();
    const reference = referenceGradient(
      [x.data, ...modelWeights(model).map((w) => w.data)],
      SIZES,
      ACTIVATIONS,
      15,
    );
    expect(
      relativeDifference(
        gradient.map((g) => g.data),
        reference.gradient,
      ),
    ).toBeLessThan(1e-5);
    const report = taylorToDict(rf, values, directions(values, 51), { epsilons: FLOAT32_EPSILONS });
    expectRates(report.R1.rates, 2);
  });

  it("options.outputs picks outputs by signature name, node name or index; a list gives a list", () => {
    const [y, hidden] = runTensorflowGraph(graphModel, { x }, { outputs: ["y", "hidden"] });
    expect(y.shape).toEqual([15, 1]);
    expect(hidden.shape).toEqual([15, 40]);
    const [hiddenByIndex] = runTensorflowGraph(graphModel, { x }, { outputs: [1] });
    expect(Array.from(hiddenByIndex.data)).toEqual(Array.from(hidden.data));
    const byNode = runTensorflowGraph(graphModel, { "x:0": x }, { outputs: "Identity_1:0" });
    expect(Array.from(byNode.data)).toEqual(Array.from(hidden.data));
    // two outputs in one block; a functional of both
    const tape = new Tape();
    const J = withTape(tape, () => {
      const [a, b] = runTensorflowGraph(graphModel, [x], { outputs: ["y", "hidden"] });
      return np.add(np.sum(np.square(a)), np.sum(np.multiply(b, 0.3)));
    });
    const tfBlocks = tape.blocks.filter((block) => block instanceof TfBlock);
    expect(tfBlocks).toHaveLength(1);
    expect(tfBlocks[0].outputs).toHaveLength(2);
    const weights = modelWeights(graphModel);
    const values = [x, ...weights];
    const rf = new ReducedFunctional(
      J,
      values.map((v) => new Control(v)),
      { tape },
    );
    const report = taylorToDict(rf, values, directions(values, 52), { epsilons: FLOAT32_EPSILONS });
    expectRates(report.R1.rates, 2);
  });

  it("refuses the Hessian through the graph's Tanh ops with EngineLimitError naming the op", () => {
    const tape = new Tape();
    const J = withTape(tape, () =>
      np.sum(np.square(runTensorflowGraph(graphModel, { x }, { outputs: "y" }))),
    );
    const rf = new ReducedFunctional(J, new Control(x), { tape });
    expect(() => rf.hessian(directions([x], 53)[0])).toThrow(EngineLimitError);
    expect(() => rf.hessian(directions([x], 53)[0])).toThrow(/Tanh/);
    expect(rf.derivative()).toBeInstanceOf(NDArray); // the tape is still usable
  });

  it("asks for options.outputs when the graph has several outputs", () => {
    expect(() => runTensorflowGraph(graphModel, { x })).toThrow(/options\.outputs/);
  });
});

describe("runTensorflowGraph with a function of tensors", () => {
  const graph = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => ({
    product: tf.mul(a, tf.sin(b)),
    shifted: tf.add(tf.square(a), tf.mul(b, c)),
  });
  const a = defaultRng(7).normal(0, 1, [3, 4]);
  const b = new AdjFloat(0.7);

  it("feeds positionally (NDArray, AdjFloat, plain number), picks outputs by key, differentiates exactly", () => {
    const tape = new Tape();
    const [product, shifted] = withTape(tape, () =>
      runTensorflowGraph(graph, [a, b, 2.5], { outputs: ["product", "shifted"] }),
    );
    expect(tape.blocks[0].dependencies).toHaveLength(2); // the number is a constant
    for (let i = 0; i < a.size; i++) {
      expect(product.data[i]).toBeCloseTo(a.data[i] * Math.sin(0.7), 6);
      expect(shifted.data[i]).toBeCloseTo(a.data[i] ** 2 + 0.7 * 2.5, 5);
    }
    const J = withTape(tape, () => np.add(np.sum(product), np.sum(np.multiply(shifted, 0.5))));
    const [ga, gb] = computeGradient(J, [new Control(a), new Control(b)], { tape });
    expect(gb).toBeInstanceOf(AdjFloat);
    let expectedB = 0;
    for (let i = 0; i < a.size; i++) {
      expect(ga.data[i]).toBeCloseTo(Math.sin(0.7) + a.data[i], 5);
      expectedB += a.data[i] * Math.cos(0.7) + 0.5 * 2.5;
    }
    expect(gb.value).toBeCloseTo(expectedB, 4);
    const rf = new ReducedFunctional(J, [new Control(a), new Control(b)], { tape });
    const da = directions([a], 61, 1)[0];
    expectRates(taylorToDict(rf, [a, 0.7], [da, 0.3], { epsilons: FLOAT32_EPSILONS }).R1.rates, 2);
    // Sin and Square have input-based gradients, so the Hessian action is right:
    // H (da, db) = (da + cos(b) db, cos(b) sum(da) - sum(a) sin(b) db)
    const [ha, hb] = rf.hessian([da, 0.3]);
    let sumA = 0;
    let sumDa = 0;
    for (let i = 0; i < a.size; i++) {
      expect(ha.data[i]).toBeCloseTo(da.data[i] + Math.cos(0.7) * 0.3, 5);
      sumA += a.data[i];
      sumDa += da.data[i];
    }
    expect(hb.value).toBeCloseTo(Math.cos(0.7) * sumDa - sumA * Math.sin(0.7) * 0.3, 5);
  });

  it("a single output by key or index gives one NDArray; unknown keys are clear errors", () => {
    const single = runTensorflowGraph(graph, [a, b, 1], { outputs: "shifted" });
    expect(single.shape).toEqual([3, 4]);
    expect(runTensorflowGraph(graph, [a, b, 1], { outputs: 0 }).shape).toEqual([3, 4]);
    expect(() => runTensorflowGraph(graph, [a, b, 1], { outputs: "nope" })).toThrow(InvalidArgumentError);
    expect(() => runTensorflowGraph(graph, [a, b, 1], { outputs: 5 })).toThrow(/out of range/);
    expect(() => runTensorflowGraph(graph, [a, b, 1])).toThrow(/2 outputs/);
  });

  it("a function with one input takes the value itself; a tensor-returning function gives one output", () => {
    const x = defaultRng(8).normal(0, 1, [5]);
    const y = runTensorflowGraph((t: tf.Tensor) => tf.mul(t, 3), x);
    expect(Array.from(y.data)).toEqual(Array.from(x.data).map((v) => Math.fround(Math.fround(v) * 3)));
  });
});

describe("runTensorflowGraph feeds and errors", () => {
  const inputA = tf.input({ shape: [2], name: "left" });
  const inputB = tf.input({ shape: [3], name: "right" });
  const merged = tf.layers.concatenate().apply([inputA, inputB]) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 2, activation: "softplus" }).apply(merged) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [inputA, inputB], outputs: output });
  seedWeights(model, 3);
  const left = defaultRng(9).normal(0, 1, [4, 2]);
  const right = defaultRng(10).normal(0, 1, [4, 3]);

  it("accepts a list, names, or a Map keyed by the symbolic inputs, with the same result", () => {
    const byList = runTensorflowGraph(model, [left, right]);
    const byName = runTensorflowGraph(model, { right, left });
    const byMap = runTensorflowGraph(
      model,
      new Map([
        [inputB, right],
        [inputA, left],
      ]),
    );
    expect(Array.from(byName.data)).toEqual(Array.from(byList.data));
    expect(Array.from(byMap.data)).toEqual(Array.from(byList.data));
    // both inputs and the weights are controls
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(np.square(runTensorflowGraph(model, { left, right }))));
    const values = [left, right, ...modelWeights(model)];
    const rf = new ReducedFunctional(
      J,
      values.map((v) => new Control(v)),
      { tape },
    );
    const report = taylorToDict(rf, values, directions(values, 71, 0.5), {
      epsilons: FLOAT32_EPSILONS,
      hessian: true,
    });
    expectRates(report.R1.rates, 2);
    expectRates(report.R2?.rates, 3);
  });

  it("records on the tape given by options.tape, and nothing while annotation is off", () => {
    const tape = new Tape();
    runTensorflowGraph(model, [left, right], { tape });
    expect(tape.blocks).toHaveLength(1);
    const other = new Tape();
    withTape(other, () => stopAnnotating(() => runTensorflowGraph(model, [left, right])));
    expect(other.blocks).toHaveLength(0);
  });

  it("names what is wrong with the feeds and the weights", () => {
    expect(() => runTensorflowGraph(model, left)).toThrow(/2 inputs/);
    expect(() => runTensorflowGraph(model, { left })).toThrow(/right/);
    expect(() => runTensorflowGraph(model, { left, right, extra: 1 })).toThrow(/'extra' is not an input/);
    expect(() => runTensorflowGraph(model, [left, [[1, 2, 3]] as unknown as NDArray])).toThrow(/np\.array/);
    const wide = defaultRng(12).normal(0, 1, [4, 4]);
    expect(() => runTensorflowGraph(model, [left, wide])).toThrow(
      /TensorFlow.js could not evaluate the graph/,
    );
    expect(() => runTensorflowGraph(model, [left, right], { weights: [left] })).toThrow(/weights/);
    const wrongShapes = modelWeights(model).map((w) => w);
    wrongShapes[0] = left;
    expect(() => runTensorflowGraph(model, [left, right], { weights: wrongShapes })).toThrow(
      ShapeMismatchError,
    );
    expect(() => runTensorflowGraph({} as unknown as tf.LayersModel, left)).toThrow(InvalidArgumentError);
  });
});

describe("runTensorflowGraph on an unbuilt tf.sequential", () => {
  it("builds the model itself (a fresh Sequential names its inputs only once built)", () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1, useBias: false })] });
    const y = runTensorflowGraph(model, np.array([[2]]));
    expect(y.shape).toEqual([1, 1]);
  });
});
