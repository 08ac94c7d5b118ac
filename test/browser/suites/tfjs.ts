/**
 * @file Browser suite "tfjs": `tsadjoint/tfjs` (runTensorflowGraph) in the browser on a chosen TensorFlow.js
 * backend (`cpu`, or `webgl` where the browser has WebGL): the seed network (Dense 40, 30, 20 tanh, linear
 * output) on 15 points with its gradient and Taylor tests (float32 steps), training its weights with
 * L-BFGS-B through a larger program, the refusal of a wrong second derivative, and a flat tensor count
 * over repeated derivatives. Runs unchanged in Chromium and Node (cpu).
 */
import * as tf from "@tensorflow/tfjs";
import { Control, EngineLimitError, np, ReducedFunctional, Tape, taylorToDict, withTape } from "tsadjoint";
import { minimize } from "tsadjoint/optimize";
import { modelWeights, runTensorflowGraph, setModelWeights } from "tsadjoint/tfjs";

/** Steps suited to float32. */
const EPSILONS = [1e-1, 5e-2, 2.5e-2, 1.25e-2];

/** The network's layer sizes and activations. */
export const SIZES = [2, 40, 30, 20, 1] as const;
export const ACTIVATIONS = ["tanh", "tanh", "tanh", "linear"] as const;

function seedNetwork(seed: number): tf.Sequential {
  const model = tf.sequential({
    layers: SIZES.slice(1).map((units, l) =>
      tf.layers.dense({ ...(l === 0 ? { inputShape: [SIZES[0]] } : {}), units, activation: ACTIVATIONS[l] }),
    ),
  });
  const rng = np.random.default_rng(seed);
  setModelWeights(
    model,
    modelWeights(model).map((w) => rng.normal(0, w.ndim === 2 ? 1 / Math.sqrt(w.shape[0]) : 0.1, w.shape)),
  );
  return model;
}

/**
 * The backends this TensorFlow.js build can initialise here (registered and `setBackend` succeeds).
 *
 * @example
 * await availableBackends(); // ["cpu", "webgl"] in Chromium with WebGL
 */
export async function availableBackends(): Promise<{ available: string[]; reasons: Record<string, string> }> {
  const available: string[] = [];
  const reasons: Record<string, string> = {};
  for (const name of ["cpu", "webgl", "webgpu", "wasm"]) {
    if (tf.findBackendFactory(name) === null) {
      reasons[name] = "not registered in @tensorflow/tfjs";
      continue;
    }
    const ok = await tf.setBackend(name).catch((error: Error) => {
      reasons[name] = error.message;
      return false;
    });
    if (ok) available.push(name);
    else reasons[name] ??= "setBackend returned false (initialisation failed)";
  }
  await tf.setBackend("cpu");
  return { available, reasons };
}

/**
 * Runs the TensorFlow.js suite on `backend`.
 *
 * @example
 * const result = await run("cpu");
 * result.taylor.R1; // about [2, 2, 2]
 */
export async function run(backend: "cpu" | "webgl") {
  tf.enableProdMode();
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`TensorFlow.js backend ${backend} failed to initialise`);
  await tf.ready();
  const model = seedNetwork(1);
  const rng = np.random.default_rng(2);

  const input = rng.random([15, 2]);
  const weights = modelWeights(model);
  const tape = new Tape();
  const J = withTape(tape, () => np.sum(np.square(runTensorflowGraph(model, input))));
  const values = [input, ...weights];
  const rf = new ReducedFunctional(
    J,
    values.map((v) => new Control(v)),
    { tape },
  );
  const gradient = (rf.derivative() as np.NDArray[]).map((g) => Array.from(g.data));
  const direction = values.map((v) => rng.normal(0, 0.2, v.shape));
  const taylor = taylorToDict(rf, values, direction, { epsilons: EPSILONS, hessian: true });

  // repeated derivatives keep the number of live tensors flat
  const tensorsBefore = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) rf.derivative();
  const tensorsAfter = tf.memory().numTensors;

  // training through a larger program: scaled and shifted network output fitted by L-BFGS-B
  const points = rng.uniform(-1, 1, [40, 2]);
  const target = np.sum(np.multiply(np.sin(np.multiply(points, 2)), 0.5), 1, true) as np.NDArray;
  const trainingTape = new Tape();
  const loss = withTape(trainingTape, () => {
    const predicted = np.add(np.multiply(runTensorflowGraph(model, points), 1.5), 0.1);
    return np.mean(np.square(np.subtract(predicted, target)));
  });
  const trainer = new ReducedFunctional(
    loss,
    weights.map((w) => new Control(w)),
    { tape: trainingTape },
  );
  const lossBefore = trainer.evaluate(weights);
  const result = minimize(trainer, { method: "L-BFGS-B", maxIter: 30 });

  // a graph whose TensorFlow.js second derivative is wrong: the Hessian is refused
  const t = rng.normal(0, 1, [4]);
  const tanhTape = new Tape();
  const product = withTape(tanhTape, () =>
    np.sum(runTensorflowGraph((a: tf.Tensor) => tf.mul(a, tf.tanh(a)), t)),
  );
  let refusal = "";
  try {
    new ReducedFunctional(product, new Control(t), { tape: tanhTape }).hessian(t);
  } catch (error) {
    if (!(error instanceof EngineLimitError)) throw error;
    refusal = error.message;
  }
  tape.clear();
  trainingTape.clear();
  tanhTape.clear();
  model.dispose();
  return {
    backend: tf.getBackend(),
    parameters: values.map((v) => Array.from(v.data)),
    value: J.item(),
    gradient,
    taylor: { R0: taylor.R0.rates, R1: taylor.R1.rates, R2: taylor.R2?.rates ?? [] },
    tensorsBefore,
    tensorsAfter,
    lossBefore,
    lossAfter: result.fun,
    iterations: result.iterations,
    refusal,
  };
}
