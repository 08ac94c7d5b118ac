/**
 * @file Benchmark: the TensorFlow.js adapter. MLP 1000 x 2 -> 40-30-20 (tanh) -> 1, MSE loss; its gradient
 * with respect to all weights through runTensorflowGraph + a ReducedFunctional, against TensorFlow.js's own
 * gradient call on the same model in the same run; plus replay, TLM and Hessian-action costs, and the live
 * tensor count over 10,000 derivative calls.
 */
import * as tf from "@tensorflow/tfjs";
import { Control, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { modelWeights, runTensorflowGraph, setModelWeights } from "tsadjoint/tfjs";
import { defaultRng } from "../src/ops/kernels/random.js";
import { NDArray } from "../src/values/ndarray.js";
import { printTable, timeMedian } from "./harness.js";

/** The MSE loss recorded with tsadjoint/numpy operations on the network's output. */
function recordedMeanSquaredError(y: NDArray, target: NDArray) {
  return np.mean(np.square(np.subtract(y, target)));
}

function mlp(seed: number): tf.Sequential {
  const sizes = [2, 40, 30, 20, 1];
  const model = tf.sequential({
    layers: sizes.slice(1).map((units, l) =>
      tf.layers.dense({
        ...(l === 0 ? { inputShape: [2] } : {}),
        units,
        activation: l < sizes.length - 2 ? "tanh" : "linear",
      }),
    ),
  });
  const rng = defaultRng(seed);
  setModelWeights(
    model,
    modelWeights(model).map((w) => rng.normal(0, w.ndim === 2 ? 1 / Math.sqrt(w.shape[0]) : 0.1, w.shape)),
  );
  return model;
}

/** Runs the TensorFlow.js adapter benchmark and prints the table. */
export async function runTfjsBench(options: { points?: number; leakCalls?: number } = {}): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend("cpu");
  await tf.ready();
  const points = options.points ?? 1000;
  const leakCalls = options.leakCalls ?? 10_000;
  const model = mlp(1);
  const rng = defaultRng(2);
  const x = rng.uniform(-1, 1, [points, 2]);
  const target = new NDArray(
    x.data.filter((_, i) => i % 2 === 0).map((v, i) => Math.sin(3 * v) * Math.cos(2 * x.data[2 * i + 1])),
    [points, 1],
  );

  // TensorFlow.js alone: gradient of the MSE wrt the model's variables, read back to JS
  const xTensor = tf.tensor(new Float32Array(x.data), [points, 2]);
  const targetTensor = tf.tensor(new Float32Array(target.data), [points, 1]);
  const variables = model.weights.map((w) => w.read());
  let sink = 0;
  const tfGradient = timeMedian(() => {
    tf.tidy(() => {
      const { grads } = tf
        .engine()
        .gradients(
          () => tf.mean(tf.square(tf.sub(model.apply(xTensor) as tf.Tensor, targetTensor))),
          variables,
        );
      for (const g of grads) sink += g.dataSync()[0];
    });
  }, 15);
  const tfPredict = timeMedian(() => {
    tf.tidy(() => {
      sink += (model.apply(xTensor) as tf.Tensor).dataSync()[0];
    });
  }, 15);

  // the adapter: recorded program, ReducedFunctional over all weights
  const weights = modelWeights(model);
  const tape = new Tape();
  const J = withTape(tape, () => recordedMeanSquaredError(runTensorflowGraph(model, x), target));
  const rf = new ReducedFunctional(
    J,
    weights.map((w) => new Control(w)),
    { tape },
  );
  const adapterGradient = timeMedian(() => {
    rf.derivative();
  }, 15);
  const adapterReplay = timeMedian(() => {
    sink += rf.evaluate(weights);
  }, 15);
  const direction = weights.map((w) => rng.normal(0, 1, w.shape));
  const adapterTlm = timeMedian(() => {
    sink += rf.tlm(direction);
  }, 7);
  const adapterHessian = timeMedian(() => {
    rf.hessian(direction);
  }, 7);

  // memory: live tensors across many derivative calls (15 points, the seed example's size)
  const small = rng.uniform(-1, 1, [15, 2]);
  const smallTape = new Tape();
  const smallJ = withTape(smallTape, () =>
    recordedMeanSquaredError(runTensorflowGraph(model, small), new NDArray(new Float64Array(15), [15, 1])),
  );
  const smallRf = new ReducedFunctional(
    smallJ,
    [small, ...weights].map((v) => new Control(v)),
    { tape: smallTape },
  );
  smallRf.derivative();
  const before = tf.memory().numTensors;
  const leakStart = process.hrtime.bigint();
  for (let i = 0; i < leakCalls; i++) smallRf.derivative();
  const leakSeconds = Number(process.hrtime.bigint() - leakStart) / 1e9;
  const after = tf.memory().numTensors;
  xTensor.dispose();
  targetTensor.dispose();

  printTable(`TensorFlow.js adapter (cpu backend, float32), MLP ${points} x 2 -> 40-30-20 tanh -> 1, MSE`, [
    { name: "tf: gradient wrt 8 weights (engine().gradients)", value: `${tfGradient.toFixed(2)} ms` },
    {
      name: "adapter: rf.derivative() wrt 8 weights",
      value: `${adapterGradient.toFixed(2)} ms`,
      ratio: adapterGradient / tfGradient,
      target: "<= 1.2x",
      pass: adapterGradient / tfGradient <= 1.2,
    },
    { name: "tf: model.apply forward", value: `${tfPredict.toFixed(2)} ms` },
    {
      name: "adapter: rf.evaluate (replay)",
      value: `${adapterReplay.toFixed(2)} ms`,
      ratio: adapterReplay / tfPredict,
    },
    {
      name: "adapter: rf.tlm (double VJP) vs gradient",
      value: `${adapterTlm.toFixed(2)} ms`,
      ratio: adapterTlm / adapterGradient,
    },
    {
      name: "adapter: rf.hessian (TLM + reverse over reverse) vs gradient",
      value: `${adapterHessian.toFixed(2)} ms`,
      ratio: adapterHessian / adapterGradient,
    },
    {
      name: `live tensors over ${leakCalls} derivative calls (15 points)`,
      value: `${before} -> ${after} (${leakSeconds.toFixed(1)} s)`,
      target: "no growth",
      pass: after === before,
    },
  ]);
  if (Number.isNaN(sink)) console.log("(sink)");
}

if (import.meta.url === `file://${process.argv[1]}`) await runTfjsBench();
