/**
 * @file The inverse problem: synthetic observations of -div q(grad u) = f (P1, unit square, u = 0 on the
 * boundary) from a true power law, the recorded forward model (nonlinearSolve of the assembled residual with
 * the CR inside), the misfit functional and its ReducedFunctional over the CR's parameters, the Taylor test,
 * and the optimization. `runInference` runs it end to end and returns the report.
 */
import { Control, NDArray, np, ReducedFunctional, Tape, taylorToDict, withTape, wrapRaw } from "tsadjoint";
import {
  loadVector,
  NORMAL_95,
  observationOperator,
  observe,
  type P1Space,
  p1Space,
  sensorPoints,
  solveFlux,
  unitSquareMesh,
} from "tsadjoint/fem";
import { type MinimizeOptions, minimize } from "tsadjoint/optimize";
import {
  type CsrMatrix,
  NewtonDivergenceError,
  NonlinearSolveBlock,
  SingularSystemError,
  SparseMatrix,
} from "tsadjoint/solve";
import {
  type ConstitutiveKind,
  type ConstitutiveModel,
  type CrParameter,
  constitutiveModel,
  type EngineName,
  type JaxDeviceName,
  powerLawMagnitude,
} from "./constitutive.js";
import { solvePowerLawReference } from "./fem.js";
import type { ConvergencePoint, FluxBandPoint, FluxPoint, SensorPoint, SpectrumPoint } from "./plots.js";
import type { InferenceReport } from "./report.js";
import { fluxBand, posteriorOf, summarizeUncertainty } from "./uncertainty.js";

/** The optimizers the command line offers. */
export type OptimizerName = "l-bfgs-b" | "newton-cg" | "bfgs";

/** Everything that defines one run. */
export interface InferenceSettings {
  readonly cr: ConstitutiveKind;
  readonly engine: EngineName;
  readonly optimizer: OptimizerName;
  /** Cells per side. */
  readonly mesh: number;
  /** Noise level relative to the RMS of the noiseless observations. */
  readonly noise: number;
  readonly seed: number;
  readonly pTrue: number;
  readonly kTrue: number;
  readonly maxIterations: number;
  /** Weight alpha of alpha/2 |theta - theta_start|^2. */
  readonly tikhonov: number;
  /** jax-js device (default cpu for the power law, wasm for the network). */
  readonly jaxDevice?: JaxDeviceName;
  /** Sensors per side of the jittered sensor grid (default 10: 100 sensors). */
  readonly sensorsPerSide?: number;
  /**
   * Seed of the noise alone (the sensors still come from `seed`): repeated runs over noise seeds see the
   * same design (the calibration check). Default: the noise continues the stream of `seed`.
   */
  readonly noiseSeed?: number;
}

/** The default settings (`npm start` with no flags). */
export const DEFAULT_SETTINGS: InferenceSettings = {
  cr: "power-law",
  engine: "native",
  optimizer: "l-bfgs-b",
  mesh: 32,
  noise: 0.01,
  seed: 1,
  pTrue: 3,
  kTrue: 1,
  maxIterations: 50,
  tikhonov: 0,
};

/** The forcing f: a ramp in x, so that |grad u| varies strongly across the domain (p and k separate well). */
export const FORCING = { text: "0.5 + 20 x^3", value: (x: number, _y: number) => 0.5 + 20 * x * x * x };

/** The start of the optimization: p = 2, k = 0.5 (the network starts at N = 0.5, i.e. q = 0.5 g). */
export const START = { p: 2, k: 0.5 } as const;

/** The synthetic data of one run (no tape involved). */
export interface SyntheticData {
  readonly space: P1Space;
  /** Load vector on the unknowns. */
  readonly load: Float64Array;
  /** Sensor coordinates, interleaved. */
  readonly sensors: Float64Array;
  /** Observation operator (sensors x unknowns). */
  readonly observation: CsrMatrix;
  /** The true solution on the unknowns (plain-JS reference Newton solve of the true power law). */
  readonly truth: Float64Array;
  /** Noiseless observations. */
  readonly clean: Float64Array;
  /** Noisy observations (the data). */
  readonly observed: Float64Array;
  /** The noise's standard deviation. */
  readonly noiseStandardDeviation: number;
  /** Largest |grad u| of the true solution over the elements (the observed range is [0, this]). */
  readonly maxGradient: number;
}

/**
 * Builds the mesh, the true solution (plain-JS Newton on the true power law), the sensors and the noisy
 * observations: Gaussian noise with standard deviation noise * RMS(clean observations), seeded.
 *
 * @example
 * const data = syntheticData(DEFAULT_SETTINGS);
 * data.observed.length; // 100
 */
export function syntheticData(settings: InferenceSettings): SyntheticData {
  const mesh = unitSquareMesh(settings.mesh);
  const space = p1Space(mesh);
  const load = loadVector(mesh, FORCING.value);
  const rng = np.random.default_rng(settings.seed);
  const perSide = settings.sensorsPerSide ?? 10;
  const sensors = sensorPoints(perSide, () => rng.nextDouble());
  const observation = observationOperator(mesh, sensors);
  const truth = solvePowerLawReference(space, load, settings.pTrue, settings.kTrue, {
    regularization: 1e-8,
    relativeTolerance: 1e-13,
  }).solution;
  const clean = observation.matvec(truth);
  let squares = 0;
  for (const value of clean) squares += value * value;
  const noiseStandardDeviation = settings.noise * Math.sqrt(squares / clean.length);
  const noiseRng = settings.noiseSeed === undefined ? rng : np.random.default_rng(settings.noiseSeed);
  const observed = clean.map((value) => value + noiseStandardDeviation * noiseRng.nextNormal());
  const gradients = space.gradient.matvec(truth);
  let maxGradient = 0;
  for (let e = 0; e < mesh.elementCount; e++) {
    maxGradient = Math.max(maxGradient, Math.hypot(gradients[2 * e], gradients[2 * e + 1]));
  }
  return {
    space,
    load,
    sensors,
    observation,
    truth,
    clean,
    observed,
    noiseStandardDeviation,
    maxGradient,
  };
}

/** Counters of the solves a reduced functional performs. */
export interface SolveCounters {
  /** Nonlinear forward solves (the recording plus one per evaluation). */
  forward: number;
  /** Adjoint solves (one per gradient). */
  adjoint: number;
  /** Hessian actions (one tangent-linear and one second-order adjoint solve each). */
  hessianActions: number;
  /** Forward solves that failed (the optimizer then sees an infinite value and shortens its step). */
  failed: number;
}

/** The recorded forward model and misfit of one CR. */
export interface RecordedProblem {
  readonly tape: Tape;
  readonly cr: ConstitutiveModel;
  readonly controls: readonly Control[];
  readonly rf: GuardedReducedFunctional;
  /** The recorded solution (its tape value follows the replays). */
  readonly solution: NDArray;
  readonly solveBlock: NonlinearSolveBlock;
  readonly counters: SolveCounters;
  /** The factor c of the misfit term J = c |O u - d|^2 (c = 0.5 / |d|^2). */
  readonly misfitScale: number;
  /** The misfit 0.5 |O u - d|^2 / |d|^2 alone (without the Tikhonov term) at the tape's current state. */
  misfit(): number;
  /** Predicted sensor values at the tape's current state. */
  predicted(): Float64Array;
}

/** True for the errors a forward solve raises when the CR makes the problem unsolvable (or too stiff). */
function isSolveFailure(error: unknown): boolean {
  return error instanceof NewtonDivergenceError || error instanceof SingularSystemError;
}

/**
 * A ReducedFunctional whose evaluation reports +Infinity (and a NaN gradient) instead of throwing when the
 * nonlinear solve fails at the requested parameters, so that the optimizers' line searches step back.
 * Counts forward, adjoint and Hessian solves.
 *
 * @example
 * const rf = new GuardedReducedFunctional(J, controls, { tape }, counters);
 */
export class GuardedReducedFunctional extends ReducedFunctional<Control[]> {
  private failed = false;

  constructor(
    functional: NDArray,
    controls: Control[],
    tape: Tape,
    readonly counters: SolveCounters,
  ) {
    super(functional, controls, {
      tape,
      callbacks: {
        evalCbPost: () => {
          counters.forward++;
        },
        deriveCbPost: () => {
          counters.adjoint++;
        },
        hessianCbPost: () => {
          counters.hessianActions++;
        },
      },
    });
  }

  override evaluate(values: readonly unknown[]): number {
    try {
      const value = super.evaluate(values);
      this.failed = false;
      return value;
    } catch (error) {
      if (!isSolveFailure(error)) throw error;
      this.failed = true;
      this.counters.failed++;
      return Number.POSITIVE_INFINITY;
    }
  }

  override value(): number {
    return this.failed ? Number.POSITIVE_INFINITY : super.value();
  }

  override derivative(options: { adjInput?: number } = {}) {
    if (this.failed) {
      return this.controls.map((control) => {
        const raw = control.blockVariable.saved;
        return wrapRaw(
          raw instanceof NDArray
            ? new NDArray(new Float64Array(raw.size).fill(Number.NaN), raw.shape)
            : Number.NaN,
        );
      });
    }
    return super.derivative(options);
  }
}

/**
 * Records the forward model u(theta) (Newton on R(u) = (diag(area) B)^T q(B u; theta) - F, Jacobian by
 * the CR's per-point Jacobian stacks on the mesh's stiffness pattern), the misfit J = 0.5 |O u - d|^2 / |d|^2 plus
 * alpha/2 |theta - theta_start|^2, and the reduced functional J(theta), on a fresh tape.
 *
 * @example
 * const problem = recordProblem(syntheticData(DEFAULT_SETTINGS), await constitutiveModel("power-law", "native", s), 0);
 * problem.rf.derivative();
 */
export function recordProblem(
  data: SyntheticData,
  cr: ConstitutiveModel,
  tikhonov: number,
  onNewtonIteration?: () => void,
): RecordedProblem {
  const { space, load, observation, observed } = data;
  const observationMatrix = new SparseMatrix(observation);
  const dataArray = new NDArray(observed, [observed.length]);
  let squares = 0;
  for (const value of observed) squares += value * value;
  const scale = 0.5 / squares;
  // Initial guess: the Laplace solution for q = k0 g (the CR is close to linear at the start).
  const start = solvePowerLawReference(space, load, 2, START.k).solution;
  const tape = new Tape();
  const parameters = cr.initial.slice() as CrParameter[];
  const controls = parameters.map((value) => new Control(value));
  const { solution, functional } = withTape(tape, () => {
    const solution = solveFlux(space, (g, ...theta: CrParameter[]) => cr.flux(g, theta), parameters, {
      load,
      initialGuess: start,
      relativeTolerance: cr.float32 ? 1e-6 : 1e-11,
      absoluteTolerance: 1e-13,
      stepTolerance: cr.float32 ? 1e-7 : 1e-13,
      maxIterations: 60,
      callback: onNewtonIteration,
    });
    const difference = np.subtract(observe(observationMatrix, solution), dataArray);
    let functional: NDArray = np.multiply(np.sum(np.square(difference)), scale) as NDArray;
    if (tikhonov > 0) {
      parameters.forEach((parameter, index) => {
        const initial = cr.initial[index];
        const shift = np.subtract(
          parameter,
          initial instanceof NDArray ? new NDArray(initial.data, initial.shape) : initial.value,
        );
        functional = np.add(
          functional,
          np.multiply(np.sum(np.square(shift as NDArray)), 0.5 * tikhonov),
        ) as NDArray;
      });
    }
    return { solution, functional };
  });
  const solveBlock = tape.blocks.find((block) => block instanceof NonlinearSolveBlock) as NonlinearSolveBlock;
  const counters: SolveCounters = { forward: 1, adjoint: 0, hessianActions: 0, failed: 0 };
  const rf = new GuardedReducedFunctional(functional, controls, tape, counters);
  const predicted = () => observation.matvec((solution.blockVariable.saved as NDArray).data);
  const misfit = () => {
    const values = predicted();
    let total = 0;
    for (let i = 0; i < values.length; i++) total += (values[i] - observed[i]) ** 2;
    return total * scale;
  };
  return { tape, cr, controls, rf, solution, solveBlock, counters, misfitScale: scale, misfit, predicted };
}

/** What the progress hook receives after each optimizer iteration. */
export interface IterationInfo {
  readonly iteration: number;
  readonly misfit: number;
  readonly summary: string;
  /** The flux curves truth, start and current (the iterate's CR) over the observed |grad u| range. */
  readonly flux: readonly FluxPoint[];
  /**
   * Sensors: observed against predicted by the start and by the iterate ("current"); empty when the tape
   * was last evaluated elsewhere than at the iterate (its solution is then not the iterate's).
   */
  readonly sensors: readonly SensorPoint[];
}

function sameValues(a: readonly (number | NDArray)[], b: readonly (number | NDArray)[]): boolean {
  return a.every((value, i) => {
    const other = b[i];
    if (typeof value === "number" || typeof other === "number") return value === other;
    return value.data.every((entry, j) => entry === other.data[j]);
  });
}

/** Hooks of `runInference` (all optional). */
export interface InferenceHooks {
  /** Progress messages. */
  log?(message: string): void;
  onOptimizeStart?(): void;
  onIteration?(info: IterationInfo): void;
  onOptimizeEnd?(): void;
}

/** Sensor points: the observed values against each series of predicted values. */
function sensorSeries(
  observed: ArrayLike<number>,
  sets: { series: string; values: ArrayLike<number> }[],
): SensorPoint[] {
  return sets.flatMap(({ series, values }) =>
    Array.from(observed, (value, i) => ({ observed: value, predicted: values[i], series })),
  );
}

/** Raw values of the controls as the tape holds them. */
function controlRaws(problem: RecordedProblem): (number | NDArray)[] {
  return problem.controls.map((control) => control.blockVariable.saved as number | NDArray);
}

/** Flux curves (truth and the given parameter sets) on [0, maxGradient] and the max error of each. */
function fluxCurves(
  cr: ConstitutiveModel,
  settings: InferenceSettings,
  maxGradient: number,
  sets: { series: string; values: readonly (number | NDArray)[] }[],
): { points: FluxPoint[]; errors: number[]; magnitudes: Float64Array } {
  const samples = 101;
  const magnitudes = new Float64Array(samples).map((_, i) => (maxGradient * i) / (samples - 1));
  const truth = powerLawMagnitude(magnitudes, settings.pTrue, settings.kTrue);
  const largest = Math.max(...truth);
  const points: FluxPoint[] = [];
  const errors: number[] = [];
  const push = (series: string, values: Float64Array) => {
    magnitudes.forEach((g, i) => {
      points.push({ gradientMagnitude: g, fluxMagnitude: values[i], series });
    });
  };
  push(`truth (p = ${settings.pTrue}, k = ${settings.kTrue})`, truth);
  for (const set of sets) {
    const values = cr.fluxMagnitude(magnitudes, set.values);
    let error = 0;
    for (let i = 0; i < samples; i++) error = Math.max(error, Math.abs(values[i] - truth[i]));
    errors.push(error / largest);
    push(set.series, values);
  }
  return { points, errors, magnitudes };
}

const METHODS: Record<OptimizerName, NonNullable<MinimizeOptions["method"]>> = {
  "l-bfgs-b": "L-BFGS-B",
  "newton-cg": "Newton-CG",
  bfgs: "BFGS",
};

/** A seeded Taylor-test direction for the controls. */
function taylorDirection(cr: ConstitutiveModel, seed: number): (number | NDArray)[] {
  if (cr.kind === "power-law") return [0.2, 0.1];
  const rng = np.random.default_rng(seed + 7919);
  return cr.initial.map((value) => {
    const shape = (value as NDArray).shape;
    return new NDArray(rng.normal(0, 0.1, shape).data, shape);
  });
}

/**
 * Runs the whole inference: synthetic data, the recorded forward model with the chosen CR and engine, a
 * Taylor test of the reduced functional at the start, the optimization, and the report (numbers and
 * figure data).
 *
 * @example
 * const report = await runInference({ ...DEFAULT_SETTINGS, mesh: 16 });
 * report.parameters[0].inferred; // about 3
 */
export async function runInference(
  settings: InferenceSettings,
  hooks: InferenceHooks = {},
): Promise<InferenceReport> {
  const log = hooks.log ?? (() => {});
  const begin = performance.now();
  const data = syntheticData(settings);
  const { mesh } = data.space;
  log(
    `  mesh ${settings.mesh} x ${settings.mesh}: ${mesh.nodeCount} nodes, ${mesh.elementCount} elements, ${mesh.unknownCount} unknowns; ${data.observed.length} sensors`,
  );
  const cr = await constitutiveModel(settings.cr, settings.engine, {
    p0: START.p,
    k0: START.k,
    seed: settings.seed,
    jaxDevice: settings.jaxDevice,
  });
  let newtonIterations = 0;
  const problem = recordProblem(data, cr, settings.tikhonov, () => {
    newtonIterations++;
  });
  const startValues = controlRaws(problem);
  const startMisfit = problem.misfit();
  const startPredicted = problem.predicted();
  const setupEnd = performance.now();
  log(
    `  recorded the forward model (${problem.tape.blocks.length} blocks); start misfit ${startMisfit.toExponential(3)}`,
  );

  const taylor = taylorToDict(problem.rf, startValues, taylorDirection(cr, settings.seed), {
    epsilons: cr.float32 ? [0.1, 0.05, 0.025, 0.0125] : [0.01, 0.005, 0.0025, 0.00125],
  });
  const taylorRate = Math.min(...taylor.R1.rates);
  let hessianRates: number[] | undefined;
  if (!cr.float32) {
    // TensorFlow.js has float32 values only: the second-order remainder drowns in rounding, so skip it there.
    const withHessian = taylorToDict(problem.rf, startValues, taylorDirection(cr, settings.seed), {
      epsilons: [0.01, 0.005, 0.0025, 0.00125],
      hessian: true,
    });
    hessianRates = withHessian.R2?.rates;
  }
  const taylorEnd = performance.now();
  log(
    `  Taylor test of the reduced functional: rate ${taylorRate.toFixed(3)} (about 2 when the gradient is right)` +
      (hessianRates ? `, with the Hessian term ${Math.min(...hessianRates).toFixed(3)} (about 3)` : ""),
  );

  const convergence: ConvergencePoint[] = [{ iteration: 0, misfit: problem.rf.evaluate(startValues) }];
  hooks.onOptimizeStart?.();
  const method = METHODS[settings.optimizer];
  // Newton-CG on the network: below the noise level the misfit only falls by fitting the noise through weight
  // directions the data do not determine, where the likelihood curves down; truncated CG meets that negative
  // curvature at every iteration and the method creeps on for hundreds of iterations (0.1% per iteration at
  // mesh 8). Stop it by the discrepancy principle: at the misfit the noise explains, c n sigma^2.
  const discrepancyStop = cr.kind === "network" && method === "Newton-CG";
  const noiseLevel = problem.misfitScale * data.observed.length * data.noiseStandardDeviation ** 2;
  let stoppedAtNoiseLevel = false;
  const bounded = method !== "BFGS" && cr.bounds.some(([low, high]) => low !== null || high !== null);
  let result: ReturnType<typeof minimize>;
  try {
    result = minimize(problem.rf, {
      method,
      maxIter: settings.maxIterations,
      ...(bounded ? { bounds: cr.bounds.map(([low, high]) => [low, high] as const) } : {}),
      ...(cr.kind === "network" ? { gtol: 1e-9 } : { gtol: 1e-10 }),
      callback: (state) => {
        convergence.push({ iteration: state.iteration, misfit: state.value });
        const stop = discrepancyStop && state.value <= noiseLevel;
        if (stop) stoppedAtNoiseLevel = true;
        if (hooks.onIteration === undefined) return stop;
        const values = state.controls.map((c) => c.raw() as number | NDArray);
        hooks.onIteration({
          iteration: state.iteration,
          misfit: state.value,
          summary: cr.describe(values),
          flux: fluxCurves(cr, settings, data.maxGradient, [
            { series: "start", values: startValues },
            { series: "current", values },
          ]).points,
          sensors: sameValues(values, controlRaws(problem))
            ? sensorSeries(data.observed, [
                { series: "start", values: startPredicted },
                { series: "current", values: problem.predicted() },
              ])
            : [],
        });
        return stop;
      },
    });
  } finally {
    hooks.onOptimizeEnd?.();
  }
  const optimizeEnd = performance.now();
  const finalValues = controlRaws(problem);
  const finalMisfit = problem.misfit();
  const finalPredicted = problem.predicted();

  const sensors = sensorSeries(data.observed, [
    { series: "start", values: startPredicted },
    { series: "inferred", values: finalPredicted },
  ]);
  const flux = fluxCurves(cr, settings, data.maxGradient, [
    { series: "start", values: startValues },
    { series: "inferred", values: finalValues },
  ]);
  let cleanSquares = 0;
  let noiseSquares = 0;
  data.observed.forEach((observed, i) => {
    cleanSquares += observed * observed;
    noiseSquares += (observed - data.clean[i]) ** 2;
  });
  const truthMisfit = (0.5 * noiseSquares) / cleanSquares;
  const parameters =
    cr.kind === "power-law"
      ? [
          { name: "p", truth: settings.pTrue, start: START.p, inferred: finalValues[0] as number },
          { name: "k", truth: settings.kTrue, start: START.k, inferred: finalValues[1] as number },
        ].map((entry) => ({
          ...entry,
          relativeError: Math.abs(entry.inferred - entry.truth) / Math.abs(entry.truth),
        }))
      : [];
  const controlCount = finalValues.reduce<number>(
    (total, v) => total + (v instanceof NDArray ? v.size : 1),
    0,
  );
  const uncertaintyBegin = performance.now();
  const posterior = posteriorOf(problem, data.noiseStandardDeviation);
  const band = fluxBand(cr, finalValues, posterior, flux.magnitudes);
  const uncertainty = summarizeUncertainty(
    problem,
    posterior,
    band,
    data.noiseStandardDeviation,
    cr.kind === "power-law" ? [settings.pTrue, settings.kTrue] : null,
    (performance.now() - uncertaintyBegin) / 1000,
  );
  log(
    `  uncertainty: Laplace approximation from ${posterior.hessianActions} Hessian actions in ${uncertainty.wallTime.toFixed(2)} s`,
  );
  const fluxBandPoints: FluxBandPoint[] = Array.from(band.magnitudes, (g, i) => ({
    gradientMagnitude: g,
    lower: band.flux[i] - NORMAL_95 * band.standardDeviation[i],
    upper: band.flux[i] + NORMAL_95 * band.standardDeviation[i],
  }));
  const spectrum: SpectrumPoint[] = uncertainty.eigenvalues.map((eigenvalue, index) => ({
    index: index + 1,
    eigenvalue,
  }));
  cr.dispose();
  const end = performance.now();
  return {
    settings: {
      cr: settings.cr,
      engine:
        settings.engine === "jax"
          ? `jax (${settings.jaxDevice ?? (settings.cr === "network" ? "wasm" : "cpu")})`
          : settings.engine,
      optimizer: settings.optimizer,
      mesh: settings.mesh,
      noise: settings.noise,
      seed: settings.seed,
      pTrue: settings.pTrue,
      kTrue: settings.kTrue,
      maxIterations: settings.maxIterations,
      tikhonov: settings.tikhonov,
    },
    problem: {
      nodes: mesh.nodeCount,
      elements: mesh.elementCount,
      unknowns: mesh.unknownCount,
      sensors: data.observed.length,
      forcing: FORCING.text,
      noiseStandardDeviation: data.noiseStandardDeviation,
      controls: controlCount,
    },
    taylor: {
      rate: taylorRate,
      residuals: taylor.R1.residuals,
      rates: taylor.R1.rates,
      epsilons: taylor.epsilons,
      hessianRate: hessianRates === undefined ? null : Math.min(...hessianRates),
      hessianRates: hessianRates ?? null,
    },
    optimizer: {
      method,
      iterations: result.iterations,
      stopReason: stoppedAtNoiseLevel ? "discrepancy-principle" : result.stopReason,
      message: stoppedAtNoiseLevel
        ? `stopped at the noise level (misfit ${result.fun.toExponential(3)} <= c n sigma^2 = ${noiseLevel.toExponential(3)}), the discrepancy principle`
        : result.message,
    },
    parameters,
    fluxError: { start: flux.errors[0], inferred: flux.errors[1], gradientRange: [0, data.maxGradient] },
    misfit: {
      start: startMisfit,
      final: finalMisfit,
      reduction: startMisfit / finalMisfit,
      truth: truthMisfit,
    },
    solves: {
      forward: problem.counters.forward,
      adjoint: problem.counters.adjoint,
      hessianActions: problem.counters.hessianActions,
      newtonIterations,
    },
    wallTime: {
      setup: (setupEnd - begin) / 1000,
      taylor: (taylorEnd - setupEnd) / 1000,
      optimize: (optimizeEnd - taylorEnd) / 1000,
      uncertainty: uncertainty.wallTime,
      total: (end - begin) / 1000,
    },
    uncertainty,
    figures: { sensors, flux: flux.points, fluxBand: fluxBandPoints, spectrum, convergence },
  };
}
