/** @file Test helpers for the TensorFlow.js adapter: setup, seeded models, a float64 reference MLP, an offline GraphModel. */
import * as tf from "@tensorflow/tfjs";
import { modelWeights, setModelWeights, type TfGraphModel } from "tsadjoint/tfjs";
import { expect } from "vitest";
import { defaultRng } from "../../../src/ops/kernels/random.js";

/** Silences the Node banner and selects the cpu backend (float32). */
export async function setupTf(): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend("cpu");
  await tf.ready();
}

/** An activation with its first derivative, in float64. */
export interface Activation {
  f(z: number): number;
  df(z: number): number;
}

export const activations: Record<string, Activation> = {
  tanh: { f: Math.tanh, df: (z) => 1 - Math.tanh(z) ** 2 },
  softplus: { f: (z) => Math.log1p(Math.exp(z)), df: (z) => 1 / (1 + Math.exp(-z)) },
  relu: { f: (z) => Math.max(z, 0), df: (z) => (z > 0 ? 1 : 0) },
  elu: { f: (z) => (z > 0 ? z : Math.expm1(z)), df: (z) => (z > 0 ? 1 : Math.exp(z)) },
  relu6: { f: (z) => Math.min(Math.max(z, 0), 6), df: (z) => (z > 0 && z < 6 ? 1 : 0) },
  hardSigmoid: {
    f: (z) => Math.min(Math.max(0.2 * z + 0.5, 0), 1),
    df: (z) => (Math.abs(z) < 2.5 ? 0.2 : 0),
  },
  sigmoid: { f: (z) => 1 / (1 + Math.exp(-z)), df: (z) => Math.exp(-z) / (1 + Math.exp(-z)) ** 2 },
  linear: { f: (z) => z, df: () => 1 },
};

/**
 * A float64 MLP evaluated by hand: parameters [x (n x in), W0, b0, W1, b1, ...]; J = sum(y^2).
 * Returns J and its gradient with respect to every parameter (backpropagation).
 */
export function referenceGradient(
  parameters: readonly Float64Array[],
  sizes: readonly number[],
  layerActivations: readonly string[],
  n: number,
): { value: number; gradient: Float64Array[] } {
  const layers = sizes.length - 1;
  const as: Float64Array[] = [parameters[0]];
  const zs: Float64Array[] = [];
  for (let l = 0; l < layers; l++) {
    const [input, output] = [sizes[l], sizes[l + 1]];
    const W = parameters[1 + 2 * l];
    const b = parameters[2 + 2 * l];
    const previous = as[l];
    const z = new Float64Array(n * output);
    for (let p = 0; p < n; p++)
      for (let j = 0; j < output; j++) {
        let total = b[j];
        for (let i = 0; i < input; i++) total += previous[p * input + i] * W[i * output + j];
        z[p * output + j] = total;
      }
    zs.push(z);
    as.push(z.map(activations[layerActivations[l]].f));
  }
  const y = as[layers];
  let value = 0;
  for (const v of y) value += v * v;
  const gradient: Float64Array[] = parameters.map((p) => new Float64Array(p.length));
  let da = y.map((v) => 2 * v);
  for (let l = layers - 1; l >= 0; l--) {
    const [input, output] = [sizes[l], sizes[l + 1]];
    const act = activations[layerActivations[l]];
    const dz = da.map((d, k) => d * act.df(zs[l][k]));
    const W = parameters[1 + 2 * l];
    const dW = gradient[1 + 2 * l];
    const db = gradient[2 + 2 * l];
    const previous = as[l];
    const dPrevious = new Float64Array(n * input);
    for (let p = 0; p < n; p++)
      for (let j = 0; j < output; j++) {
        const d = dz[p * output + j];
        db[j] += d;
        for (let i = 0; i < input; i++) {
          dW[i * output + j] += previous[p * input + i] * d;
          dPrevious[p * input + i] += d * W[i * output + j];
        }
      }
    da = dPrevious;
  }
  gradient[0] = da;
  return { value, gradient };
}

/** The Hessian action of the reference J along `direction`, by central differences of the float64 gradient. */
export function referenceHessianAction(
  parameters: readonly Float64Array[],
  direction: readonly Float64Array[],
  sizes: readonly number[],
  layerActivations: readonly string[],
  n: number,
  step = 1e-5,
): Float64Array[] {
  const moved = (sign: number) =>
    parameters.map((p, k) => p.map((v, i) => v + sign * step * direction[k][i]));
  const plus = referenceGradient(moved(1), sizes, layerActivations, n).gradient;
  const minus = referenceGradient(moved(-1), sizes, layerActivations, n).gradient;
  return plus.map((g, k) => g.map((v, i) => (v - minus[k][i]) / (2 * step)));
}

/** A Sequential MLP of Dense layers with the given sizes and activations (weights set afterwards). */
export function denseModel(sizes: readonly number[], layerActivations: readonly string[]): tf.Sequential {
  const layers = sizes.slice(1).map((units, l) =>
    tf.layers.dense({
      ...(l === 0 ? { inputShape: [sizes[0]] } : {}),
      units,
      activation: layerActivations[l] as "tanh",
      kernelInitializer: "zeros",
    }),
  );
  return tf.sequential({ layers });
}

/** Sets a model's weights from a seeded generator: kernels N(0, 1/fan_in), biases N(0, 0.1^2). */
export function seedWeights<M extends tf.LayersModel>(model: M, seed: number): M {
  const rng = defaultRng(seed);
  setModelWeights(
    model,
    modelWeights(model).map((w) => rng.normal(0, w.ndim === 2 ? 1 / Math.sqrt(w.shape[0]) : 0.1, w.shape)),
  );
  return model;
}

/**
 * Asserts Taylor remainder rates of about `order`: every rate above order - 0.25 (the largest steps still
 * feel higher-order terms) and the last one above order - 0.1.
 */
export function expectRates(rates: readonly number[] | undefined, order: number): void {
  expect(rates).toBeDefined();
  const list = rates as number[];
  expect(Math.min(...list)).toBeGreaterThan(order - 0.25);
  expect(list[list.length - 1]).toBeGreaterThan(order - 0.1);
}

/** Relative max-norm difference of two lists of arrays. */
export function relativeDifference(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  let difference = 0;
  let scale = 0;
  a.forEach((values, k) => {
    for (let i = 0; i < values.length; i++) {
      difference = Math.max(difference, Math.abs(values[i] - b[k][i]));
      scale = Math.max(scale, Math.abs(b[k][i]));
    }
  });
  return difference / scale;
}

/**
 * A tf.GraphModel built offline (no converter, no files) from a Sequential of Dense tanh/linear layers:
 * a hand-written GraphDef with Placeholder "x", Const weights, MatMul/BiasAdd/Tanh, and two outputs
 * (signature keys "y": the network output, "hidden": the first layer's activations).
 */
export function denseToGraphModel(model: tf.Sequential): TfGraphModel {
  const dim = (shape: readonly number[]) => ({ dim: shape.map((size) => ({ size: String(size) })) });
  const inputSize = model.inputs[0].shape[1] as number;
  const node: object[] = [
    {
      name: "x",
      op: "Placeholder",
      attr: { dtype: { type: "DT_FLOAT" }, shape: { shape: dim([-1, inputSize]) } },
    },
  ];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Float32Array[] = [];
  let previous = "x";
  let hidden = "";
  model.layers.forEach((layer, index) => {
    const dense = layer as unknown as {
      kernel: { read(): tf.Tensor };
      bias: { read(): tf.Tensor };
      activation: { getClassName(): string };
    };
    const kernel = `dense${index}/kernel`;
    const bias = `dense${index}/bias`;
    for (const [name, value] of [
      [kernel, dense.kernel.read()],
      [bias, dense.bias.read()],
    ] as [string, tf.Tensor][]) {
      node.push({
        name,
        op: "Const",
        attr: {
          dtype: { type: "DT_FLOAT" },
          value: { tensor: { dtype: "DT_FLOAT", tensorShape: dim(value.shape) } },
        },
      });
      weightSpecs.push({ name, shape: value.shape, dtype: "float32" });
      buffers.push(value.dataSync() as Float32Array);
    }
    node.push({
      name: `dense${index}/MatMul`,
      op: "MatMul",
      input: [previous, kernel],
      attr: { T: { type: "DT_FLOAT" }, transpose_a: { b: false }, transpose_b: { b: false } },
    });
    node.push({
      name: `dense${index}/BiasAdd`,
      op: "BiasAdd",
      input: [`dense${index}/MatMul`, bias],
      attr: { T: { type: "DT_FLOAT" }, data_format: { s: btoa("NHWC") } },
    });
    previous = `dense${index}/BiasAdd`;
    const activation = dense.activation.getClassName();
    if (activation === "tanh") {
      node.push({
        name: `dense${index}/Tanh`,
        op: "Tanh",
        input: [previous],
        attr: { T: { type: "DT_FLOAT" } },
      });
      previous = `dense${index}/Tanh`;
    } else if (activation !== "linear") {
      throw new Error(`unsupported activation ${activation}`);
    }
    if (index === 0) hidden = previous;
  });
  node.push({ name: "Identity", op: "Identity", input: [previous], attr: { T: { type: "DT_FLOAT" } } });
  node.push({ name: "Identity_1", op: "Identity", input: [hidden], attr: { T: { type: "DT_FLOAT" } } });
  const total = buffers.reduce((sum, b) => sum + b.length, 0);
  const weightData = new Float32Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.length;
  }
  const outputSize = model.outputs[0].shape[1] as number;
  const hiddenSize = model.layers[0].outputShape[1] as number;
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: { node, library: {}, versions: { producer: 1482 } },
    format: "graph-model",
    generatedBy: "hand-written",
    convertedBy: null,
    weightSpecs,
    weightData: weightData.buffer,
    signature: {
      inputs: { x: { name: "x:0", dtype: "DT_FLOAT", tensorShape: dim([-1, inputSize]) } },
      outputs: {
        y: { name: "Identity:0", dtype: "DT_FLOAT", tensorShape: dim([-1, outputSize]) },
        hidden: { name: "Identity_1:0", dtype: "DT_FLOAT", tensorShape: dim([-1, hiddenSize]) },
      },
    },
  };
  return tf.loadGraphModelSync(tf.io.fromMemorySync(artifacts));
}
