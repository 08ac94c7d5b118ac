/**
 * @file The constitutive relations q(g; theta) of the inference, per engine: the power law
 * q = k (|g|^2 + eps)^((p-2)/2) g (theta = p, k) and a network CR q = N(|g|^2) g (theta = the weights of a
 * 1-16-16-1 tanh network N), each evaluated on all elements at once and recorded as ONE block by the chosen
 * engine: tsadjoint's numpy through pointMap (native), jax-js through overloadJax (pointwise, cpu device), or
 * TensorFlow.js through runTensorflowGraph (the network N only; float32). The engines are loaded on demand.
 */
import { AdjFloat, array, type NDArray, np, pointMap } from "tsadjoint";

/** Which CR is inferred. */
export type ConstitutiveKind = "power-law" | "network" | "carreau";

/** Which engine evaluates and differentiates the CR. */
export type EngineName = "native" | "jax" | "tfjs";

/**
 * The jax-js device: "cpu" is exact float64 but an interpreter (about 100x slower); "wasm" is fast but
 * evaluates tanh, exp, log, power in float32 (relative error about 1e-7).
 */
export type JaxDeviceName = "cpu" | "wasm";

/** A control value of a CR: an AdjFloat (power-law parameters) or an NDArray (network weights). */
export type CrParameter = AdjFloat | NDArray;

/** Regularisation eps of |g|^2 + eps in the power law (keeps the flux smooth where grad u = 0). */
export const POWER_LAW_EPS = 1e-8;

/** Box bounds of the power law's parameters in the inference (L-BFGS-B). */
export const POWER_LAW_BOUNDS = { p: [1.2, 6], k: [0.05, 20] } as const;

/** Layer widths of the network CR N: R -> R. */
export const NETWORK_LAYERS = [1, 16, 16, 1] as const;

/**
 * A constitutive relation ready to be used in the residual: its controls, their bounds, the recorded flux
 * on a batch of gradients, and a plain evaluation of the flux magnitude for plots and error measures.
 */
export interface ConstitutiveModel {
  readonly kind: ConstitutiveKind;
  readonly engine: EngineName;
  /** Names of the controls (e.g. ["p", "k"] or ["W1", "b1", ...]). */
  readonly names: readonly string[];
  /** The start values of the controls (fresh overloaded values; make Controls of them). */
  readonly initial: readonly CrParameter[];
  /** Box bounds per control ([lower, upper], null for none), for L-BFGS-B. */
  readonly bounds: readonly (readonly [number | null, number | null])[];
  /** Whether the engine computes in float32 (solver tolerances and Taylor steps are loosened). */
  readonly float32: boolean;
  /**
   * The flux q on a batch of gradients g ([n, 2]) with the given parameters (recorded: ONE engine block,
   * plus native glue for the network on TensorFlow.js), shape [n, 2].
   */
  flux(g: NDArray, parameters: readonly CrParameter[]): NDArray;
  /** |q| at gradient magnitudes |g| for raw parameter values (numbers / NDArrays), plain float64. */
  fluxMagnitude(gradientMagnitudes: Float64Array, values: readonly (number | NDArray)[]): Float64Array;
  /** A one-line description of parameter values (progress bar). */
  describe(values: readonly (number | NDArray)[]): string;
  /** Frees engine resources (compiled kernels). */
  dispose(): void;
}

/** Raw value of a parameter. */
function rawOf(value: number | NDArray | AdjFloat): number | NDArray {
  return value instanceof AdjFloat ? value.value : value;
}

/**
 * The power law evaluated in plain JS: |q| = k (|g|^2 + eps)^((p-2)/2) |g|.
 *
 * @example
 * powerLawMagnitude(Float64Array.of(2), 3, 1); // [~4]
 */
export function powerLawMagnitude(gradientMagnitudes: Float64Array, p: number, k: number): Float64Array {
  return gradientMagnitudes.map((g) => k * Math.pow(g * g + POWER_LAW_EPS, (p - 2) / 2) * g);
}

/** The native power law: q = k (sum(g*g, 1) + eps)^((p-2)/2) g on a batch, ONE point-map block. */
const nativePowerLaw = pointMap([[-1, 2], [], []], [-1, 2], { bare: true, name: "powerLawFlux" })(
  function powerLawFlux(g: NDArray, p: AdjFloat | number, k: AdjFloat | number): NDArray {
    const s = np.add(np.sum(np.multiply(g, g), 1), POWER_LAW_EPS);
    const mu = np.multiply(np.power(s, np.divide(np.subtract(p, 2), 2)), k);
    return np.multiply(np.reshape(mu, [g.shape[0], 1]), g);
  },
);

function powerLawBase(engine: EngineName, p0: number, k0: number) {
  return {
    kind: "power-law" as const,
    engine,
    names: ["p", "k"],
    initial: [new AdjFloat(p0), new AdjFloat(k0)],
    bounds: [POWER_LAW_BOUNDS.p, POWER_LAW_BOUNDS.k],
    float32: false,
    fluxMagnitude: (magnitudes: Float64Array, values: readonly (number | NDArray)[]) =>
      powerLawMagnitude(magnitudes, rawOf(values[0]) as number, rawOf(values[1]) as number),
    describe: (values: readonly (number | NDArray)[]) =>
      `p ${(rawOf(values[0]) as number).toFixed(4)}, k ${(rawOf(values[1]) as number).toFixed(4)}`,
  };
}

/**
 * The power-law CR through the chosen engine (native pointMap or jax-js overloadJax, cpu device), starting
 * at (p0, k0).
 *
 * @example
 * const cr = await powerLawModel("native", 2, 0.5);
 * const q = cr.flux(g, cr.initial);
 */
export async function powerLawModel(
  engine: EngineName,
  p0: number,
  k0: number,
  jaxDevice: JaxDeviceName = "cpu",
): Promise<ConstitutiveModel> {
  const base = powerLawBase(engine, p0, k0);
  if (engine === "native") {
    return {
      ...base,
      flux: (g, [p, k]) => nativePowerLaw(g, p as AdjFloat, k as AdjFloat),
      dispose: () => {},
    };
  }
  if (engine === "jax") {
    const { overloadJax, f64 } = await import("tsadjoint/jax");
    const { numpy: jnp } = await import("@jax-js/jax");
    type JaxArray = import("tsadjoint/jax").JaxArray;
    const flux = overloadJax(
      (g: JaxArray, p: JaxArray, k: JaxArray) => {
        const s = g.ref.mul(g.ref).sum(-1, { keepdims: true }).add(f64(POWER_LAW_EPS));
        return jnp
          .power(s, p.sub(f64(2)).div(f64(2)))
          .mul(k)
          .mul(g);
      },
      { pointwise: [true, false, false], device: jaxDevice, name: "jax:powerLawFlux" },
    );
    return {
      ...base,
      float32: jaxDevice === "wasm",
      flux: (g, [p, k]) => flux(g, p, k),
      dispose: () => flux.dispose(),
    };
  }
  throw new Error(`the power-law CR runs on the native or jax engine, not ${engine}`);
}

/**
 * The Carreau law evaluated in plain JS: |q| = k (1 + lambda^2 (|g|^2 + eps))^((n-1)/2) |g|.
 *
 * @example
 * carreauMagnitude(Float64Array.of(1), 1, 2, 0.5, 1e-8); // [5^(-1/4)]
 */
export function carreauMagnitude(
  gradientMagnitudes: Float64Array,
  k: number,
  lambda: number,
  n: number,
  eps: number,
): Float64Array {
  return gradientMagnitudes.map((g) => k * Math.pow(1 + lambda * lambda * (g * g + eps), (n - 1) / 2) * g);
}

/**
 * The Carreau CR q = k (1 + lambda^2 (|g|^2 + eps))^((n-1)/2) g (a shear-thinning fluid for n < 1,
 * thickening for n > 1, Newtonian with viscosity k as lambda |g| -> 0), native engine, one point-map block;
 * the controls are k, lambda, n; eps is a fixed regularisation.
 *
 * @example
 * const cr = carreauModel({ k: 1, lambda: 1, n: 1 }, 1e-8);
 */
export function carreauModel(
  start: { k: number; lambda: number; n: number },
  eps = POWER_LAW_EPS,
): ConstitutiveModel {
  const flux = pointMap([[-1, 2], [], [], []], [-1, 2], { bare: true, name: "carreauFlux" })(
    function carreauFlux(
      g: NDArray,
      k: AdjFloat | number,
      lambda: AdjFloat | number,
      n: AdjFloat | number,
    ): NDArray {
      const s = np.add(np.sum(np.multiply(g, g), 1), eps);
      const base = np.add(np.multiply(np.square(lambda), s), 1);
      const mu = np.multiply(np.power(base, np.divide(np.subtract(n, 1), 2)), k);
      return np.multiply(np.reshape(mu, [g.shape[0], 1]), g);
    },
  );
  const raw = (values: readonly (number | NDArray)[]) => values.map((v) => rawOf(v) as number);
  return {
    kind: "carreau",
    engine: "native",
    names: ["k", "lambda", "n"],
    initial: [new AdjFloat(start.k), new AdjFloat(start.lambda), new AdjFloat(start.n)],
    bounds: [
      [1e-3, 1e3],
      [0, 1e3],
      [0.1, 5],
    ],
    float32: false,
    flux: (g, [k, lambda, n]) => flux(g, k as AdjFloat, lambda as AdjFloat, n as AdjFloat),
    fluxMagnitude: (magnitudes, values) => {
      const [k, lambda, n] = raw(values);
      return carreauMagnitude(magnitudes, k, lambda, n, eps);
    },
    describe: (values) => {
      const [k, lambda, n] = raw(values);
      return `k ${k.toFixed(4)}, lambda ${lambda.toFixed(4)}, n ${n.toFixed(4)}`;
    },
    dispose: () => {},
  };
}

/** Shapes of the network's parameters, in Dense order (kernel, bias per layer); kernels are [in, out]. */
export function networkShapes(): number[][] {
  const shapes: number[][] = [];
  for (let layer = 0; layer + 1 < NETWORK_LAYERS.length; layer++) {
    shapes.push([NETWORK_LAYERS[layer], NETWORK_LAYERS[layer + 1]], [NETWORK_LAYERS[layer + 1]]);
  }
  return shapes;
}

/**
 * Seeded initial weights of N: hidden kernels scaled 1/sqrt(fan-in), hidden biases spread so the tanh
 * units cover the input range, a small output layer and output bias `outputBias`, so that N is close to
 * the constant `outputBias` at the start (a well-posed linear CR q = outputBias g).
 *
 * @example
 * const weights = initialNetworkWeights(1, 0.5); // 6 NDArrays
 */
export function initialNetworkWeights(seed: number, outputBias: number): NDArray[] {
  const rng = np.random.default_rng(seed);
  const shapes = networkShapes();
  const last = shapes.length - 2;
  return shapes.map((shape, index) => {
    const isKernel = index % 2 === 0;
    if (isKernel) {
      const scale = index === last ? 0.05 / Math.sqrt(shape[0]) : 1 / Math.sqrt(shape[0]);
      return array(rng.normal(0, scale, shape).data, shape);
    }
    if (index === last + 1) return array(new Float64Array(shape[0]).fill(outputBias), shape);
    return array(rng.uniform(-1, 1, shape).data, shape);
  });
}

/**
 * N(s) of the network in plain JS (float64) for raw weights, at many inputs s.
 *
 * @example
 * networkValues(Float64Array.of(0, 1), initialNetworkWeights(1, 0.5)); // about [0.5, 0.5]
 */
export function networkValues(inputs: Float64Array, weights: readonly NDArray[]): Float64Array {
  const out = new Float64Array(inputs.length);
  const layers = weights.length / 2;
  for (let point = 0; point < inputs.length; point++) {
    let activation = Float64Array.of(inputs[point]);
    for (let layer = 0; layer < layers; layer++) {
      const kernel = weights[2 * layer];
      const bias = weights[2 * layer + 1];
      const [rows, cols] = kernel.shape;
      const next = new Float64Array(cols);
      for (let j = 0; j < cols; j++) {
        let sum = bias.data[j];
        for (let i = 0; i < rows; i++) sum += activation[i] * kernel.data[i * cols + j];
        next[j] = layer + 1 < layers ? Math.tanh(sum) : sum;
      }
      activation = next;
    }
    out[point] = activation[0];
  }
  return out;
}

function networkBase(engine: EngineName, seed: number, outputBias: number, float32: boolean) {
  const shapes = networkShapes();
  const names = shapes.map((_, index) => `${index % 2 === 0 ? "W" : "b"}${Math.floor(index / 2) + 1}`);
  return {
    kind: "network" as const,
    engine,
    names,
    initial: initialNetworkWeights(seed, outputBias),
    bounds: shapes.map(() => [null, null] as const),
    float32,
    fluxMagnitude: (magnitudes: Float64Array, values: readonly (number | NDArray)[]) => {
      const n = networkValues(
        magnitudes.map((g) => g * g),
        values as NDArray[],
      );
      return magnitudes.map((g, i) => n[i] * g);
    },
    describe: (values: readonly (number | NDArray)[]) => {
      const n = networkValues(Float64Array.of(0, 1, 4), values as NDArray[]);
      return `N(0) ${n[0].toFixed(3)}, N(1) ${n[1].toFixed(3)}, N(4) ${n[2].toFixed(3)}`;
    },
  };
}

/** The native network CR: q = N(sum(g*g, 1)) g with np.matmul and np.tanh, ONE point-map block. */
const nativeNetwork = pointMap([[-1, 2], [1, 16], [16], [16, 16], [16], [16, 1], [1]], [-1, 2], {
  bare: true,
  name: "networkFlux",
})(function networkFlux(
  g: NDArray,
  W1: NDArray,
  b1: NDArray,
  W2: NDArray,
  b2: NDArray,
  W3: NDArray,
  b3: NDArray,
): NDArray {
  const s = np.sum(np.multiply(g, g), 1, true);
  const h1 = np.tanh(np.add(np.matmul(s, W1), b1));
  const h2 = np.tanh(np.add(np.matmul(h1, W2), b2));
  const n = np.add(np.matmul(h2, W3), b3);
  return np.multiply(n, g);
});

/**
 * The network CR q = N(|g|^2) g through the chosen engine: native (pointMap, float64), jax (overloadJax,
 * pointwise, cpu device, float64) or tfjs (N as a tf.sequential Dense model through runTensorflowGraph,
 * float32; |g|^2 and the product with g are native). Initial weights from `seed`, N ~ `outputBias` at start.
 *
 * @example
 * const cr = await networkModel("jax", 1, 0.5);
 */
export async function networkModel(
  engine: EngineName,
  seed: number,
  outputBias: number,
  jaxDevice: JaxDeviceName = "wasm",
): Promise<ConstitutiveModel> {
  if (engine === "native") {
    return {
      ...networkBase(engine, seed, outputBias, false),
      flux: (g, weights) =>
        nativeNetwork(g, ...(weights as [NDArray, NDArray, NDArray, NDArray, NDArray, NDArray])),
      dispose: () => {},
    };
  }
  if (engine === "jax") {
    const { overloadJax } = await import("tsadjoint/jax");
    const { numpy: jnp } = await import("@jax-js/jax");
    type JaxArray = import("tsadjoint/jax").JaxArray;
    const flux = overloadJax(
      (g: JaxArray, W1: JaxArray, b1: JaxArray, W2: JaxArray, b2: JaxArray, W3: JaxArray, b3: JaxArray) => {
        const s = g.ref.mul(g.ref).sum(-1, { keepdims: true });
        const h1 = jnp.tanh(jnp.matmul(s, W1).add(b1));
        const h2 = jnp.tanh(jnp.matmul(h1, W2).add(b2));
        return jnp.matmul(h2, W3).add(b3).mul(g);
      },
      {
        pointwise: [true, false, false, false, false, false, false],
        device: jaxDevice,
        name: "jax:networkFlux",
      },
    );
    return {
      ...networkBase(engine, seed, outputBias, jaxDevice === "wasm"),
      flux: (g, weights) => {
        const [W1, b1, W2, b2, W3, b3] = weights;
        return flux(g, W1, b1, W2, b2, W3, b3);
      },
      dispose: () => flux.dispose(),
    };
  }
  const tf = await import("@tensorflow/tfjs");
  const { runTensorflowGraph } = await import("tsadjoint/tfjs");
  tf.enableProdMode();
  await tf.setBackend("cpu");
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [NETWORK_LAYERS[0]], units: NETWORK_LAYERS[1], activation: "tanh" }),
      tf.layers.dense({ units: NETWORK_LAYERS[2], activation: "tanh" }),
      tf.layers.dense({ units: NETWORK_LAYERS[3] }),
    ],
  });
  // A fresh tf.sequential lists its inputs only once built (runTensorflowGraph reads model.inputNames).
  model.build();
  return {
    ...networkBase(engine, seed, outputBias, true),
    flux: (g, weights) => {
      const s = np.sum(np.multiply(g, g), 1, true);
      const n = runTensorflowGraph(model, s, { weights: weights as NDArray[] });
      return np.multiply(n, g);
    },
    dispose: () => model.dispose(),
  };
}

/**
 * The CR for a kind and engine (power law from (p0, k0); network from a seed with N ~ k0 at start).
 *
 * @example
 * const cr = await constitutiveModel("power-law", "native", { p0: 2, k0: 0.5, seed: 1 });
 */
export async function constitutiveModel(
  kind: ConstitutiveKind,
  engine: EngineName,
  start: { p0: number; k0: number; seed: number; jaxDevice?: JaxDeviceName },
): Promise<ConstitutiveModel> {
  if (kind === "carreau") {
    if (engine !== "native") throw new Error(`the Carreau CR runs on the native engine, not ${engine}`);
    return carreauModel({ k: start.k0, lambda: 1, n: 1 });
  }
  return kind === "power-law"
    ? powerLawModel(engine, start.p0, start.k0, start.jaxDevice ?? "cpu")
    : networkModel(engine, start.seed, start.k0, start.jaxDevice ?? "wasm");
}
