/**
 * @file Example: a TensorFlow.js network inside a tsadjoint program (CRIKit's run_tensorflow_graph). The seed
 * network (Dense 40, 30, 20 tanh, linear output) on 15 random points; gradients with respect to inputs and
 * weights, checked by Taylor tests; the weights trained through a larger program with L-BFGS; Hessian
 * actions, and the clear error for a graph whose TensorFlow.js second derivative would be wrong.
 *
 * Run: node --conditions=tsadjoint-source --import tsx examples/tfjs-network.ts
 */
import * as tf from "@tensorflow/tfjs";
import {
  Control,
  EngineLimitError,
  type NDArray,
  np,
  ReducedFunctional,
  Tape,
  taylorToDict,
  withTape,
} from "tsadjoint";
import { minimize } from "tsadjoint/optimize";
import { modelWeights, runTensorflowGraph, setModelWeights } from "tsadjoint/tfjs";

/** Steps suited to float32 (TensorFlow.js computes in float32: about 1e-7 relative noise in J). */
const EPSILONS = [1e-1, 5e-2, 2.5e-2, 1.25e-2];

/** The seed example's network: input [n, 2], Dense 40, 30, 20 (tanh), Dense 1 (linear), seeded weights. */
function seedNetwork(seed: number): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [2], units: 40, activation: "tanh" }),
      tf.layers.dense({ units: 30, activation: "tanh" }),
      tf.layers.dense({ units: 20, activation: "tanh" }),
      tf.layers.dense({ units: 1, activation: "linear" }),
    ],
  });
  const rng = np.random.default_rng(seed);
  setModelWeights(
    model,
    modelWeights(model).map((w) => rng.normal(0, w.ndim === 2 ? 1 / Math.sqrt(w.shape[0]) : 0.1, w.shape)),
  );
  return model;
}

/**
 * Runs the example and returns its figures.
 *
 * @example
 * const { gradientRates, hessianRates, lossBefore, lossAfter, refusal } = await tfjsNetwork();
 */
export async function tfjsNetwork() {
  tf.enableProdMode();
  await tf.setBackend("cpu");
  const model = seedNetwork(1);
  const rng = np.random.default_rng(2);

  // (b) the seed example: 15 random points through the network, recorded as one block
  const input = rng.random([15, 2]);
  const weights = modelWeights(model); // NDArrays: the values the network is evaluated with
  const tape = new Tape();
  const J = withTape(tape, () => np.sum(np.square(runTensorflowGraph(model, input))));
  const values = [input, ...weights];
  const rf = new ReducedFunctional(
    J,
    values.map((v) => new Control(v)),
    { tape },
  );
  const gradient = rf.derivative();
  const direction = values.map((v) => rng.normal(0, 0.2, v.shape));
  const taylor = taylorToDict(rf, values, direction, { epsilons: EPSILONS, hessian: true });

  // training through a larger program: the network's output is scaled and shifted by tsadjoint operations,
  // and the weights are fitted to data by L-BFGS over the weight controls
  const points = rng.uniform(-1, 1, [40, 2]);
  const data = np.multiply(np.sin(np.multiply(points, 2)), 0.5) as NDArray; // [40, 2]: two targets per point
  const dataColumn = np.sum(data, 1, true) as NDArray; // [40, 1]
  const trainingTape = new Tape();
  const loss = withTape(trainingTape, () => {
    const predicted = np.add(np.multiply(runTensorflowGraph(model, points), 1.5), 0.1);
    return np.mean(np.square(np.subtract(predicted, dataColumn)));
  });
  const trainer = new ReducedFunctional(
    loss,
    weights.map((w) => new Control(w)),
    { tape: trainingTape },
  );
  const lossBefore = trainer.evaluate(weights);
  const result = minimize(trainer, { method: "L-BFGS-B", maxIter: 60 });
  const lossAfter = result.fun;
  setModelWeights(model, result.x); // write the fitted weights into the model

  // a graph whose TensorFlow.js second derivative is wrong: the Hessian is refused, never wrong
  const t = rng.normal(0, 1, [4]);
  const tanhTape = new Tape();
  const product = withTape(tanhTape, () =>
    np.sum(runTensorflowGraph((a: tf.Tensor) => tf.mul(a, tf.tanh(a)), t)),
  );
  let refusal = "";
  try {
    new ReducedFunctional(product, new Control(t), { tape: tanhTape }).hessian(t);
  } catch (error) {
    if (error instanceof EngineLimitError) refusal = error.message;
    else throw error;
  }

  return {
    value: J.item(),
    blocks: tape.blocks.map((block) => block.name),
    inputGradient: gradient[0],
    gradientRates: taylor.R1.rates,
    hessianRates: taylor.R2?.rates ?? [],
    lossBefore,
    lossAfter,
    iterations: result.iterations,
    refusal,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await tfjsNetwork();
  console.log(`blocks recorded          ${result.blocks.join(", ")}`);
  console.log(`J = sum(y^2)             ${result.value.toFixed(6)}`);
  console.log(
    `Taylor rates (gradient)  ${result.gradientRates.map((r) => r.toFixed(3)).join(", ")}   (expect 2)`,
  );
  console.log(
    `Taylor rates (Hessian)   ${result.hessianRates.map((r) => r.toFixed(3)).join(", ")}   (expect 3)`,
  );
  console.log(
    `training loss            ${result.lossBefore.toExponential(3)} -> ${result.lossAfter.toExponential(3)} in ${result.iterations} L-BFGS iterations`,
  );
  console.log(`x * tf.tanh(x) Hessian   ${result.refusal.slice(0, 110)}...`);
}
