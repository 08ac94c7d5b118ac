/**
 * @file The calibration check of the Laplace intervals: the same design (mesh, sensors, truth) with the
 * noise drawn from many seeds; each run infers (p, k) and their Laplace standard deviations. Calibrated
 * uncertainty means the spread of the estimates over the seeds matches the predicted standard deviations
 * and the 95% intervals contain the truth in about 95% of the seeds.
 */
import { minimize } from "tsadjoint/optimize";
import { constitutiveModel } from "./constitutive.js";
import { DEFAULT_SETTINGS, type InferenceSettings, recordProblem, START, syntheticData } from "./problem.js";
import { posteriorOf } from "./uncertainty.js";

/** One noise seed's estimate. */
export interface CalibrationRun {
  readonly noiseSeed: number;
  readonly estimate: [number, number];
  readonly standardDeviation: [number, number];
  readonly covers: [boolean, boolean];
}

/** The calibration summary over all seeds, per parameter [p, k]. */
export interface CalibrationResult {
  readonly runs: CalibrationRun[];
  /** Sample standard deviation of the estimates over the seeds. */
  readonly empiricalStandardDeviation: [number, number];
  /** Root-mean-square of the predicted (Laplace) standard deviations. */
  readonly predictedStandardDeviation: [number, number];
  /** empirical / predicted (1 when calibrated). */
  readonly ratio: [number, number];
  /** Fraction of seeds whose 95% interval contains the truth. */
  readonly coverage: [number, number];
  /** Mean estimate minus the truth (the bias). */
  readonly bias: [number, number];
}

/**
 * Runs the power-law inference once per noise seed on the design of `settings` (mesh, sensors from
 * `settings.seed`, truth) and compares the spread of (p, k) with the Laplace standard deviations.
 *
 * @example
 * const result = await calibrate({ ...DEFAULT_SETTINGS, mesh: 8 }, 100);
 * result.ratio; // about [1, 1]
 */
export async function calibrate(
  settings: InferenceSettings = { ...DEFAULT_SETTINGS, mesh: 8 },
  seedCount = 100,
  onRun?: (run: CalibrationRun) => void,
): Promise<CalibrationResult> {
  const truth = [settings.pTrue, settings.kTrue];
  const runs: CalibrationRun[] = [];
  for (let noiseSeed = 1; noiseSeed <= seedCount; noiseSeed++) {
    const data = syntheticData({ ...settings, cr: "power-law", noiseSeed });
    const cr = await constitutiveModel("power-law", "native", {
      p0: START.p,
      k0: START.k,
      seed: settings.seed,
    });
    const problem = recordProblem(data, cr, 0);
    minimize(problem.rf, {
      method: "L-BFGS-B",
      bounds: cr.bounds.map(([low, high]) => [low, high] as const),
      gtol: 1e-10,
      maxIter: settings.maxIterations,
    });
    const posterior = posteriorOf(problem, data.noiseStandardDeviation);
    const estimate: [number, number] = [posterior.mean[0], posterior.mean[1]];
    const covers = posterior.intervals.map(([low, high], i) => low <= truth[i] && truth[i] <= high) as [
      boolean,
      boolean,
    ];
    const run: CalibrationRun = {
      noiseSeed,
      estimate,
      standardDeviation: [posterior.standardDeviations[0], posterior.standardDeviations[1]],
      covers,
    };
    runs.push(run);
    onRun?.(run);
    cr.dispose();
  }
  const per = (f: (i: 0 | 1) => number): [number, number] => [f(0), f(1)];
  const mean = per((i) => runs.reduce((sum, run) => sum + run.estimate[i], 0) / runs.length);
  const empiricalStandardDeviation = per((i) =>
    Math.sqrt(runs.reduce((sum, run) => sum + (run.estimate[i] - mean[i]) ** 2, 0) / (runs.length - 1)),
  );
  const predictedStandardDeviation = per((i) =>
    Math.sqrt(runs.reduce((sum, run) => sum + run.standardDeviation[i] ** 2, 0) / runs.length),
  );
  return {
    runs,
    empiricalStandardDeviation,
    predictedStandardDeviation,
    ratio: per((i) => empiricalStandardDeviation[i] / predictedStandardDeviation[i]),
    coverage: per((i) => runs.filter((run) => run.covers[i]).length / runs.length),
    bias: per((i) => mean[i] - truth[i]),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mesh = Number(process.argv[2] ?? 8);
  const seeds = Number(process.argv[3] ?? 100);
  const begin = performance.now();
  const result = await calibrate({ ...DEFAULT_SETTINGS, mesh }, seeds);
  const names = ["p", "k"];
  console.log(
    `calibration over ${seeds} noise seeds, mesh ${mesh}, 1% noise (${((performance.now() - begin) / 1000).toFixed(1)} s)`,
  );
  names.forEach((name, i) => {
    console.log(
      `  ${name}: spread ${result.empiricalStandardDeviation[i].toExponential(3)}, predicted ${result.predictedStandardDeviation[i].toExponential(3)}, ratio ${result.ratio[i].toFixed(3)}, 95% coverage ${(100 * result.coverage[i]).toFixed(0)}%, bias ${result.bias[i].toExponential(2)}`,
    );
  });
}
