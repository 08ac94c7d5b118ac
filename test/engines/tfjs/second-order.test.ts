import * as tf from "@tensorflow/tfjs";
import {
  AdjFloat,
  Control,
  computeGradient,
  computeTLM,
  EngineLimitError,
  np,
  ReducedFunctional,
  Tape,
  taylorToDict,
  withTape,
} from "tsadjoint";
import { modelWeights, runTensorflowGraph, secondOrderSafe } from "tsadjoint/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultRng } from "../../../src/ops/kernels/random.js";
import { NDArray } from "../../../src/values/ndarray.js";
import {
  denseModel,
  expectRates,
  referenceHessianAction,
  relativeDifference,
  seedWeights,
  setupTf,
} from "./helpers.js";

beforeAll(setupTf);

const x = new NDArray(Float64Array.of(-1.3, -0.2, 0.4, 1.7, 0.9), [5]);
const direction = new NDArray(Float64Array.of(0.5, -1, 0.25, 2, -0.7), [5]);
const sech2 = (t: number) => 1 - Math.tanh(t) ** 2;
/** d/dx [x tanh x] = tanh x + x sech^2 x */
const firstDerivative = (t: number) => Math.tanh(t) + t * sech2(t);
/** d2/dx2 [x tanh x] = 2 sech^2 x - 2 x tanh x sech^2 x */
const secondDerivative = (t: number) => 2 * sech2(t) - 2 * t * Math.tanh(t) * sech2(t);

/** J = sum(f(x)) recorded through a function graph, with its ReducedFunctional over x. */
function functional(graph: (t: tf.Tensor) => tf.Tensor, value: NDArray = x) {
  const tape = new Tape();
  const J = withTape(tape, () => np.sum(runTensorflowGraph(graph, value)));
  return { tape, J, rf: new ReducedFunctional(J, new Control(value), { tape }) };
}

describe("the x * tanh(x) Hessian", () => {
  it("TensorFlow.js's own nested gradient is silently wrong (why the adapter checks)", () => {
    const nested = tf.tidy(() =>
      Array.from(
        tf
          .grad((t: tf.Tensor) => tf.grad((s: tf.Tensor) => tf.mul(s, tf.tanh(s)))(t))(
            tf.tensor(new Float32Array(x.data)),
          )
          .dataSync(),
      ),
    );
    const expected = Array.from(x.data).map(secondDerivative);
    expect(relativeDifference([nested], [expected])).toBeGreaterThan(0.1);
  });

  it("with tf.tanh: the Hessian action raises EngineLimitError naming Tanh; first derivatives stay right", () => {
    const { tape, J, rf } = functional((t) => tf.mul(t, tf.tanh(t)));
    const before = tf.memory().numTensors;
    expect(() => rf.hessian(direction)).toThrow(EngineLimitError);
    expect(() => rf.hessian(direction)).toThrow(/through Tanh/);
    expect(tf.memory().numTensors).toBe(before);
    const gradient = rf.derivative();
    Array.from(x.data).forEach((t, i) => {
      expect(gradient.data[i]).toBeCloseTo(firstDerivative(t), 6);
    });
    const tlm = computeTLM(J, new Control(x), direction, { tape });
    let expected = 0;
    Array.from(x.data).forEach((t, i) => {
      expected += firstDerivative(t) * direction.data[i];
    });
    expect(tlm.item()).toBeCloseTo(expected, 5);
  });

  it("with secondOrderSafe.tanh: the Hessian action equals the analytic second derivative", () => {
    const { rf } = functional((t) => tf.mul(t, secondOrderSafe.tanh(t)));
    const hessian = rf.hessian(direction);
    Array.from(x.data).forEach((t, i) => {
      expect(hessian.data[i]).toBeCloseTo(secondDerivative(t) * direction.data[i], 6);
    });
    const report = taylorToDict(rf, x, direction, { epsilons: [2e-1, 1e-1, 5e-2, 2.5e-2], hessian: true });
    expectRates(report.R2?.rates, 3);
  });

  it("a Layers model with a tanh activation gets the same second derivative (activations are swapped)", () => {
    const input = tf.input({ shape: [1] });
    const activated = tf.layers.activation({ activation: "tanh" }).apply(input) as tf.SymbolicTensor;
    const product = tf.layers.multiply().apply([input, activated]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: product });
    const column = new NDArray(x.data, [5, 1]);
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(runTensorflowGraph(model, column)));
    const rf = new ReducedFunctional(J, new Control(column), { tape });
    const hessian = rf.hessian(new NDArray(direction.data, [5, 1]));
    Array.from(x.data).forEach((t, i) => {
      expect(hessian.data[i]).toBeCloseTo(secondDerivative(t) * direction.data[i], 6);
    });
  });
});

describe("Hessian actions through Layers models match a float64 reference", () => {
  const sizes = [2, 12, 8, 1];
  const n = 6;
  const cases: [string, string[]][] = [
    ["tanh (swapped)", ["tanh", "tanh", "linear"]],
    ["sigmoid (swapped)", ["sigmoid", "sigmoid", "linear"]],
    ["elu (swapped)", ["elu", "elu", "linear"]],
    ["relu6 (swapped: TensorFlow.js has no gradient for its gradient)", ["relu6", "relu6", "linear"]],
    [
      "hardSigmoid (swapped: TensorFlow.js has no gradient for its gradient)",
      ["hardSigmoid", "hardSigmoid", "linear"],
    ],
    ["softplus (correct as is)", ["softplus", "softplus", "linear"]],
    ["relu (correct as is)", ["relu", "relu", "linear"]],
  ];
  for (const [label, layerActivations] of cases) {
    it(label, () => {
      const model = seedWeights(denseModel(sizes, layerActivations), 17);
      const input = defaultRng(18).uniform(-1, 1, [n, 2]);
      const weights = modelWeights(model);
      const values = [input, ...weights];
      const rng = defaultRng(19);
      const dir = values.map((v) => rng.normal(0, 1, v.shape));
      const tape = new Tape();
      const J = withTape(tape, () => np.sum(np.square(runTensorflowGraph(model, input))));
      const rf = new ReducedFunctional(
        J,
        values.map((v) => new Control(v)),
        { tape },
      );
      const hessian = rf.hessian(dir);
      const reference = referenceHessianAction(
        values.map((v) => v.data),
        dir.map((d) => d.data),
        sizes,
        layerActivations,
        n,
      );
      expect(
        relativeDifference(
          hessian.map((h) => h.data),
          reference,
        ),
      ).toBeLessThan(1e-4);
      // the model's activations are back and it predicts as before
      const names = model.layers.map((layer) =>
        (layer as unknown as { activation: tf.serialization.Serializable }).activation.getClassName(),
      );
      expect(names).toEqual(layerActivations);
    });
  }

  it("a softmax output layer: Taylor remainders of the Hessian shrink at rate 3", () => {
    const model = seedWeights(denseModel([2, 6, 3], ["tanh", "softmax"]), 23);
    const input = defaultRng(24).uniform(-1, 1, [4, 2]);
    const weights = modelWeights(model);
    const values = [input, ...weights];
    const target = defaultRng(25).normal(0, 1, [4, 3]);
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(np.multiply(runTensorflowGraph(model, input), target)));
    const rf = new ReducedFunctional(
      J,
      values.map((v) => new Control(v)),
      { tape },
    );
    const rng = defaultRng(26);
    const report = taylorToDict(
      rf,
      values,
      values.map((v) => rng.normal(0, 1, v.shape)),
      { epsilons: [2e-1, 1e-1, 5e-2, 2.5e-2], hessian: true },
    );
    expectRates(report.R2?.rates, 3);
  });
});

describe("the second-order check", () => {
  it("refuses Exp and accepts secondOrderSafe.exp (second derivative e^x)", () => {
    expect(() => functional((t) => tf.exp(t)).rf.hessian(direction)).toThrow(/through Exp/);
    const hessian = functional((t) => secondOrderSafe.exp(t)).rf.hessian(direction);
    Array.from(x.data).forEach((t, i) => {
      expect(hessian.data[i]).toBeCloseTo(Math.exp(t) * direction.data[i], 5);
    });
  });

  it("tf.elu has no differentiable gradient: the tangent-linear mode says so; secondOrderSafe.elu works", () => {
    const plain = functional((t) => tf.elu(t));
    expect(() => computeTLM(plain.J, new Control(x), direction, { tape: plain.tape })).toThrow(/EluGrad/);
    expect(() => computeTLM(plain.J, new Control(x), direction, { tape: plain.tape })).toThrow(
      EngineLimitError,
    );
    const safe = functional((t) => secondOrderSafe.elu(t));
    const tlm = computeTLM(safe.J, new Control(x), direction, { tape: safe.tape });
    const hessian = safe.rf.hessian(direction);
    let expected = 0;
    Array.from(x.data).forEach((t, i) => {
      expected += (t > 0 ? 1 : Math.exp(t)) * direction.data[i];
      expect(hessian.data[i]).toBeCloseTo((t > 0 ? 0 : Math.exp(t)) * direction.data[i], 6);
    });
    expect(tlm.item()).toBeCloseTo(expected, 5);
  });

  it("refuses a custom gradient that saves its own output", () => {
    const body = (t: tf.Tensor, save: (tensors: tf.Tensor[]) => void) => {
      const y = tf.exp(t);
      save([y]);
      return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]) };
    };
    const expSavingOutput = tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]);
    const { rf } = functional((t) => expSavingOutput(t));
    expect(() => rf.hessian(direction)).toThrow(/custom-gradient op/);
    expect(rf.derivative()).toBeInstanceOf(NDArray);
  });

  it("Pow is fine with a constant exponent and refused when the exponent is differentiated", () => {
    const cube = functional((t) => tf.pow(t, 3)).rf.hessian(direction);
    Array.from(x.data).forEach((t, i) => {
      expect(cube.data[i]).toBeCloseTo(6 * t * direction.data[i], 5);
    });
    const base = new NDArray(Float64Array.of(0.5, 1.5, 2), [3]);
    const exponent = new AdjFloat(1.7);
    const tape = new Tape();
    const J = withTape(tape, () =>
      np.sum(runTensorflowGraph((a: tf.Tensor, p: tf.Tensor) => tf.pow(a, p), [base, exponent])),
    );
    const onlyBase = new ReducedFunctional(J, new Control(base), { tape });
    expect(onlyBase.hessian(base)).toBeInstanceOf(NDArray);
    const both = new ReducedFunctional(J, [new Control(base), new Control(exponent)], { tape });
    expect(() => both.hessian([base, 1])).toThrow(/Pow/);
    expect(computeGradient(J, [new Control(base), new Control(exponent)], { tape })).toHaveLength(2);
  });

  it("ignores unsafe ops that do not lie between the controls and the differentiated outputs", () => {
    const constant = tf.tensor([0.3, -0.2, 0.5, 0.1, 0.8]);
    const graph = (t: tf.Tensor) => ({
      unused: tf.tanh(t),
      used: tf.mul(tf.square(t), tf.tanh(constant)),
    });
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(runTensorflowGraph(graph, x, { outputs: "used" })));
    const hessian = new ReducedFunctional(J, new Control(x), { tape }).hessian(direction);
    const weights = Array.from(constant.dataSync()).map(Math.tanh);
    Array.from(direction.data).forEach((d, i) => {
      expect(hessian.data[i]).toBeCloseTo(2 * weights[i] * d, 5);
    });
    constant.dispose();
  });

  it("secondOrderSafe ops give TensorFlow.js's values and derivatives right to third order", () => {
    tf.tidy(() => {
      const t = tf.tensor(new Float32Array(x.data));
      const pairs: [tf.Tensor, tf.Tensor][] = [
        [secondOrderSafe.tanh(t), tf.tanh(t)],
        [secondOrderSafe.sigmoid(t), tf.sigmoid(t)],
        [secondOrderSafe.exp(t), tf.exp(t)],
        [secondOrderSafe.elu(t), tf.elu(t)],
        [secondOrderSafe.softmax(t), tf.softmax(t)],
        [secondOrderSafe.logSoftmax(t), tf.logSoftmax(t)],
      ];
      for (const [safe, plain] of pairs) {
        expect(relativeDifference([safe.dataSync()], [plain.dataSync()])).toBeLessThan(1e-6);
      }
      // d3/dx3 tanh = -2 sech^2 (1 - 3 tanh^2)
      const third = tf.grad((a: tf.Tensor) => tf.grad((b: tf.Tensor) => tf.grad(secondOrderSafe.tanh)(b))(a))(
        t,
      );
      const expected = Array.from(x.data).map((v) => -2 * sech2(v) * (1 - 3 * Math.tanh(v) ** 2));
      expect(relativeDifference([third.dataSync()], [expected])).toBeLessThan(1e-5);
    });
  });
});
