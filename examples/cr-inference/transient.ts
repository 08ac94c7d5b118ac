/**
 * @file The transient variant of the main job (`npm start -- --problem transient`): infer the power-law CR
 * from sensor observations over time of du/dt - div q(grad u) = f (P1, lumped mass, implicit Euler: one
 * nonlinearSolve per step), with the time loop checkpointed by the schedule chosen with `--checkpoint`.
 * The synthetic data come from the same discretisation at the true parameters, plus seeded noise.
 */
import {
  AdjFloat,
  Control,
  NDArray,
  np,
  ReducedFunctional,
  stopAnnotating,
  Tape,
  taylorToDict,
  withTape,
} from "tsadjoint";
import {
  type CheckpointSchedule,
  MultistageCheckpointSchedule,
  Revolve,
  SingleDiskStorageSchedule,
  SingleMemoryStorageSchedule,
} from "tsadjoint/checkpoint";
import { loadVector, observationOperator, p1Space, sensorPoints, unitSquareMesh } from "tsadjoint/fem";
import { minimize } from "tsadjoint/optimize";
import { matvec, nonlinearSolve, SparseMatrix } from "tsadjoint/solve";
import { type CrParameter, constitutiveModel } from "./constitutive.js";
import { FORCING, START } from "./problem.js";

/** Everything that defines one transient run. */
export interface TransientSettings {
  /** Cells per side. */
  readonly mesh: number;
  readonly steps: number;
  readonly dt: number;
  /** Observations every this many steps. */
  readonly observeEvery: number;
  readonly noise: number;
  readonly seed: number;
  readonly pTrue: number;
  readonly kTrue: number;
  readonly maxIterations: number;
  /** `none` (no checkpointing), `memory`, `disk`, `revolve:<snapshots>` or `multistage:<memory>:<disk>`. */
  readonly checkpoint: string;
  /** Skip the Taylor tests (faster). */
  readonly skipTaylor?: boolean;
}

/** The defaults of `npm start -- --problem transient`. */
export const TRANSIENT_DEFAULTS: TransientSettings = {
  mesh: 8,
  steps: 200,
  dt: 0.005,
  observeEvery: 10,
  noise: 0.01,
  seed: 1,
  pTrue: 3,
  kTrue: 1,
  maxIterations: 30,
  checkpoint: "revolve:20",
};

/**
 * The schedule of a `--checkpoint` value (undefined for `none`: no checkpointing).
 *
 * @example
 * checkpointSchedule("revolve:10", 200); // new Revolve(200, 10)
 */
export function checkpointSchedule(spec: string, steps: number): CheckpointSchedule | undefined {
  const [kind, ...numbers] = spec.toLowerCase().split(":");
  const counts = numbers.map(Number);
  const valid = (count: number) =>
    counts.length === count && counts.every((c) => Number.isInteger(c) && c >= 0);
  if (kind === "none" && valid(0)) return undefined;
  if (kind === "memory" && valid(0)) return new SingleMemoryStorageSchedule();
  if (kind === "disk" && valid(0)) return new SingleDiskStorageSchedule();
  if (kind === "revolve" && valid(1) && counts[0] >= 1) return new Revolve(steps, counts[0]);
  if (kind === "multistage" && valid(2) && counts[0] + counts[1] >= 1) {
    return new MultistageCheckpointSchedule(steps, counts[0], counts[1]);
  }
  throw new Error(
    `--checkpoint: '${spec}' is not one of none, memory, disk, revolve:<snapshots>, multistage:<memory>:<disk>`,
  );
}

/** The report of one transient run. */
export interface TransientReport {
  readonly settings: TransientSettings;
  readonly unknowns: number;
  readonly sensors: number;
  readonly observations: number;
  readonly schedule: string;
  readonly taylor: { rate: number; hessianRate: number } | null;
  readonly parameters: {
    name: string;
    truth: number;
    start: number;
    inferred: number;
    relativeError: number;
  }[];
  readonly misfit: { start: number; final: number };
  readonly optimizer: { iterations: number; message: string; evaluations: number };
  readonly checkpointing: ReturnType<Tape["checkpointStatistics"]> & {
    /** Float64 data the tape's values reference after the recording (bytes). */
    valuesAfterRecording: number;
    /** The same for the whole trajectory (what no checkpointing keeps), summed over the recorded steps. */
    valuesWithoutCheckpointing: number;
  };
  readonly seconds: number;
}

function bytesOf(value: unknown): number {
  return value instanceof NDArray ? value.data.byteLength : 8;
}

function bytesOfTapeValues(tape: Tape): number {
  const seen = new Set<ArrayBufferLike>();
  let total = 0;
  for (const block of tape.blocks) {
    for (const variable of block.outputs) {
      const value = variable.saved;
      if (value instanceof NDArray && !seen.has(value.data.buffer)) {
        seen.add(value.data.buffer);
        total += value.data.byteLength;
      }
    }
  }
  return total;
}

/**
 * Runs the transient inference: synthetic data, the recorded checkpointed loop, Taylor tests (rates 2
 * and 3), L-BFGS-B on (p, k), and the report with the checkpointing figures.
 *
 * @example
 * const report = await runTransient({ ...TRANSIENT_DEFAULTS, steps: 20, mesh: 4 });
 */
export async function runTransient(
  settings: TransientSettings,
  log: (message: string) => void = () => {},
): Promise<TransientReport> {
  const begin = performance.now();
  const mesh = unitSquareMesh(settings.mesh);
  const space = p1Space(mesh);
  const n = mesh.unknownCount;
  const lumped = new Float64Array(n);
  for (let e = 0; e < mesh.elementCount; e++) {
    for (let i = 0; i < 3; i++) {
      const unknown = mesh.unknownOfNode[mesh.triangles[3 * e + i]];
      if (unknown >= 0) lumped[unknown] += mesh.areas[e] / 3;
    }
  }
  const massOverDt = new NDArray(
    lumped.map((m) => m / settings.dt),
    [n],
  );
  const load = new NDArray(loadVector(mesh, FORCING.value), [n]);
  const gradient = new SparseMatrix(space.gradient);
  const assembly = new SparseMatrix(space.weightedGradientTranspose);
  const rng = np.random.default_rng(settings.seed);
  const sensors = sensorPoints(5, () => rng.nextDouble());
  const observation = observationOperator(mesh, sensors);
  const observe = new SparseMatrix(observation);
  const cr = await constitutiveModel("power-law", "native", {
    p0: START.p,
    k0: START.k,
    seed: settings.seed,
  });
  const zero = np.zeros([n]);
  const residual = (u: NDArray, previous: NDArray, ...theta: CrParameter[]): NDArray => {
    const g = np.reshape(matvec(gradient, u), [mesh.elementCount, 2]);
    const q = cr.flux(g, theta);
    const diffusion = matvec(assembly, np.reshape(q, [2 * mesh.elementCount]));
    return np.subtract(np.add(np.multiply(massOverDt, np.subtract(u, previous)), diffusion), load);
  };
  const step = (u: NDArray, theta: CrParameter[]): NDArray =>
    // the same initial guess for every step (one shared array: blocks keep no per-step copy)
    nonlinearSolve(residual, zero, [u, ...theta], {
      jacobianSparsity: space.jacobianPattern,
      relativeTolerance: 1e-13,
      absoluteTolerance: 1e-15,
      stepTolerance: 1e-15,
      maxIterations: 50,
    });
  const observed = (n: number) => (n + 1) % settings.observeEvery === 0;

  // synthetic data: the truth, observed, plus noise
  const truth: Float64Array[] = [];
  stopAnnotating(() => {
    const theta = [new AdjFloat(settings.pTrue), new AdjFloat(settings.kTrue)];
    let u = zero;
    for (let t = 0; t < settings.steps; t++) {
      u = step(u, theta);
      if (observed(t)) truth.push(observation.matvec(u.data));
    }
  });
  let squares = 0;
  for (const values of truth) for (const v of values) squares += v * v;
  const sigma = settings.noise * Math.sqrt(squares / (truth.length * truth[0].length));
  const data = truth.map(
    (values) =>
      new NDArray(
        values.map((v) => v + sigma * rng.nextNormal()),
        [values.length],
      ),
  );
  const scale = 0.5 / squares;

  const schedule = checkpointSchedule(settings.checkpoint, settings.steps);
  const tape = new Tape();
  const parameters = cr.initial.slice() as CrParameter[];
  const controls = parameters.map((value) => new Control(value));
  let trajectoryBytes = 0;
  const J = withTape(tape, () => {
    if (schedule !== undefined) tape.enableCheckpointing(schedule);
    let u = zero;
    let misfit: NDArray | AdjFloat = new AdjFloat(0);
    let k = 0;
    for (const t of tape.timestepper(settings.steps)) {
      const first = tape.blocks.length;
      u = step(u, parameters);
      if (observed(t)) {
        const difference = np.subtract(matvec(observe, u), data[k++]);
        misfit = np.add(misfit, np.multiply(scale, np.sum(np.square(difference))));
      }
      // what the tape would keep of this step without checkpointing (its values are all there now)
      for (const block of tape.blocks.slice(first)) {
        for (const output of block.outputs) trajectoryBytes += bytesOf(output.saved);
      }
    }
    return misfit;
  });
  const valuesAfterRecording = bytesOfTapeValues(tape);
  const rf = new ReducedFunctional(J, controls, { tape });
  const startValues = rf.controlValues();
  const startMisfit = rf.value();
  log(
    `  recorded ${settings.steps} steps (${tape.blocks.length} blocks) with ${schedule?.describe() ?? "no checkpointing"}; start misfit ${startMisfit.toExponential(3)}`,
  );
  let taylor: TransientReport["taylor"] = null;
  if (settings.skipTaylor !== true) {
    const report = taylorToDict(rf, startValues, [0.2, 0.1], { hessian: true });
    taylor = {
      rate: Math.min(...report.R1.rates),
      hessianRate: Math.min(...(report.R2?.rates ?? [Number.NaN])),
    };
    log(
      `  Taylor test: rate ${taylor.rate.toFixed(3)} (about 2), with the Hessian ${taylor.hessianRate.toFixed(3)} (about 3)`,
    );
  }
  const result = minimize(rf, {
    method: "L-BFGS-B",
    maxIter: settings.maxIterations,
    bounds: cr.bounds.map(([low, high]) => [low, high] as const),
    gtol: 1e-10,
  });
  const final = rf.controlValues().map((value) => (value as AdjFloat).value);
  const statistics = tape.checkpointStatistics();
  tape.clear();
  return {
    settings,
    unknowns: n,
    sensors: sensors.length / 2,
    observations: data.length,
    schedule: schedule?.describe() ?? "none",
    taylor,
    parameters: [
      { name: "p", truth: settings.pTrue, start: START.p, inferred: final[0] },
      { name: "k", truth: settings.kTrue, start: START.k, inferred: final[1] },
    ].map((entry) => ({ ...entry, relativeError: Math.abs(entry.inferred - entry.truth) / entry.truth })),
    misfit: { start: startMisfit, final: result.fun },
    optimizer: {
      iterations: result.iterations,
      message: result.message,
      evaluations: result.functionEvaluations,
    },
    checkpointing: {
      ...statistics,
      valuesAfterRecording,
      valuesWithoutCheckpointing: trajectoryBytes,
    },
    seconds: (performance.now() - begin) / 1000,
  };
}

/**
 * The report as text.
 *
 * @example
 * console.log(formatTransientReport(report));
 */
export function formatTransientReport(report: TransientReport): string {
  const s = report.settings;
  const c = report.checkpointing;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(3)} MB`;
  const lines = [
    `Transient constitutive-relation inference: du/dt - div q(grad u) = ${FORCING.text}, u(0) = 0, implicit Euler`,
    `  mesh ${s.mesh} x ${s.mesh} (${report.unknowns} unknowns), ${s.steps} steps of dt = ${s.dt}, ${report.sensors} sensors observed every ${s.observeEvery} steps (${report.observations} times), noise ${(100 * s.noise).toFixed(1)}%`,
    `  checkpointing: ${report.schedule}`,
  ];
  if (report.taylor !== null) {
    lines.push(
      `  Taylor test with checkpointing: rate ${report.taylor.rate.toFixed(3)} (about 2), with the Hessian term ${report.taylor.hessianRate.toFixed(3)} (about 3)`,
    );
  }
  lines.push(
    `  L-BFGS-B: ${report.optimizer.iterations} iterations, ${report.optimizer.evaluations} evaluations (${report.optimizer.message})`,
  );
  for (const p of report.parameters) {
    lines.push(
      `  ${p.name} = ${p.inferred.toFixed(6)}   truth ${p.truth}, start ${p.start}, relative error ${(100 * p.relativeError).toFixed(3)}%`,
    );
  }
  lines.push(
    `  misfit: start ${report.misfit.start.toExponential(3)}, final ${report.misfit.final.toExponential(3)}`,
  );
  lines.push(
    `  steps advanced ${c.forwardSteps} (${c.steps} recorded + ${c.recomputedSteps} recomputed); at most ${c.maxSnapshotsInMemory} snapshots in memory, ${c.maxSnapshotsOnDisk} on disk, ${c.maxStepsInMemory} steps' values in memory`,
  );
  lines.push(
    `  tape values after the recording ${mb(c.valuesAfterRecording)} (the whole trajectory: ${mb(c.valuesWithoutCheckpointing)}); wall time ${report.seconds.toFixed(1)} s`,
  );
  return lines.join("\n");
}
