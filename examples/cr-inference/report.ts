/**
 * @file The run report of the constitutive-relation inference: the numbers a run produces (problem size,
 * Taylor rates, optimizer outcome, inferred parameters, misfits, solve counts, wall times, figure data), its
 * text rendering for the terminal, and writing report.json plus the figures (SVG and PNG) to a folder.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ConvergencePoint,
  convergenceFigure,
  type FluxBandPoint,
  type FluxPoint,
  fluxFigure,
  renderFigure,
  type SensorPoint,
  type SpectrumPoint,
  sensorFigure,
  spectrumFigure,
  summaryFigure,
} from "./plots.js";
import type { UncertaintyReport } from "./uncertainty.js";

/** One inferred scalar parameter. */
export interface ParameterReport {
  readonly name: string;
  readonly truth: number;
  readonly start: number;
  readonly inferred: number;
  /** |inferred - truth| / |truth|. */
  readonly relativeError: number;
}

/** Everything one run produces. */
export interface InferenceReport {
  readonly settings: {
    readonly cr: string;
    readonly engine: string;
    readonly optimizer: string;
    readonly mesh: number;
    readonly noise: number;
    readonly seed: number;
    readonly pTrue: number;
    readonly kTrue: number;
    readonly maxIterations: number;
    readonly tikhonov: number;
  };
  readonly problem: {
    readonly nodes: number;
    readonly elements: number;
    readonly unknowns: number;
    readonly sensors: number;
    readonly forcing: string;
    readonly noiseStandardDeviation: number;
    readonly controls: number;
  };
  readonly taylor: {
    readonly rate: number;
    readonly residuals: number[];
    readonly rates: number[];
    readonly epsilons: number[];
    /** Smallest rate with the Hessian term (about 3), null when not computed (float32 engine). */
    readonly hessianRate: number | null;
    readonly hessianRates: number[] | null;
  };
  readonly optimizer: {
    readonly method: string;
    readonly iterations: number;
    readonly stopReason: string;
    readonly message: string;
  };
  /** The scalar parameters (power law); empty for the network. */
  readonly parameters: ParameterReport[];
  /** max over the observed |g| range of | |q_inferred| - |q_true| | / max |q_true|. */
  readonly fluxError: {
    readonly start: number;
    readonly inferred: number;
    readonly gradientRange: [number, number];
  };
  readonly misfit: {
    readonly start: number;
    readonly final: number;
    readonly reduction: number;
    /** Expected misfit of the noiseless truth (noise only): the floor a perfect fit reaches. */
    readonly truth: number;
  };
  readonly solves: {
    readonly forward: number;
    readonly adjoint: number;
    readonly hessianActions: number;
    readonly newtonIterations: number;
  };
  readonly wallTime: {
    readonly setup: number;
    readonly taylor: number;
    readonly optimize: number;
    /** The Laplace approximation (Hessian, eigen-decomposition, flux band). */
    readonly uncertainty: number;
    readonly total: number;
  };
  /** The posterior uncertainty (Laplace approximation) of the inferred CR. */
  readonly uncertainty: UncertaintyReport;
  readonly figures: {
    readonly sensors: SensorPoint[];
    readonly flux: FluxPoint[];
    /** The 95% band of the inferred flux curve. */
    readonly fluxBand: FluxBandPoint[];
    /** Eigenvalues of the Hessian of the negative log-posterior, descending. */
    readonly spectrum: SpectrumPoint[];
    readonly convergence: ConvergencePoint[];
  };
}

const fixed = (value: number, digits = 4) => value.toFixed(digits);
const sci = (value: number) => value.toExponential(3);
const percent = (value: number) => `${(100 * value).toFixed(2)}%`;

/**
 * The text report printed at the end of a run.
 *
 * @example
 * console.log(formatReport(report));
 */
export function formatReport(report: InferenceReport): string {
  const { settings, problem, taylor, optimizer, parameters, misfit, solves, wallTime, fluxError } = report;
  const lines: string[] = [];
  lines.push(
    `Constitutive-relation inference: -div q(grad u) = ${problem.forcing} on the unit square, u = 0 on the boundary`,
  );
  lines.push(
    `  CR ${settings.cr} via the ${settings.engine} engine; truth p = ${settings.pTrue}, k = ${settings.kTrue}; optimizer ${optimizer.method}`,
  );
  lines.push(
    `  mesh ${settings.mesh} x ${settings.mesh}: ${problem.nodes} nodes, ${problem.elements} elements, ${problem.unknowns} unknowns; ${problem.sensors} sensors, noise ${percent(settings.noise)} (sigma ${sci(problem.noiseStandardDeviation)}, seed ${settings.seed}); ${problem.controls} controls`,
  );
  lines.push(
    `  Taylor test of the reduced functional at the start: rate ${fixed(taylor.rate, 3)} (about 2 when the gradient is right)` +
      (taylor.hessianRate === null
        ? ""
        : `; with the Hessian term ${fixed(taylor.hessianRate, 3)} (about 3 when the Hessian is right)`),
  );
  lines.push(
    `  optimizer: ${optimizer.iterations} iterations, stopped: ${optimizer.stopReason}${optimizer.message ? ` (${optimizer.message})` : ""}`,
  );
  for (const parameter of parameters) {
    lines.push(
      `  ${parameter.name.padEnd(2)} = ${fixed(parameter.inferred, 5)}   truth ${parameter.truth}, start ${parameter.start}, relative error ${percent(parameter.relativeError)}`,
    );
  }
  const { uncertainty } = report;
  for (const parameter of uncertainty.parameters) {
    lines.push(
      `  ${parameter.name.padEnd(2)}: standard deviation ${sci(parameter.standardDeviation)}, 95% interval [${fixed(parameter.interval[0], 5)}, ${fixed(parameter.interval[1], 5)}]${parameter.coversTruth === null ? "" : parameter.coversTruth ? " (contains the truth)" : " (misses the truth)"}`,
    );
  }
  if (uncertainty.correlation !== null && uncertainty.correlation.length === 2) {
    lines.push(`  correlation of p and k: ${fixed(uncertainty.correlation[0][1], 3)}`);
  }
  lines.push(
    `  uncertainty: Laplace approximation, full Hessian from ${uncertainty.hessianActions} exact Hessian actions (${uncertainty.priorPrecision === 0 ? "flat prior" : `prior precision ${uncertainty.priorPrecision}`}); the data determine ${uncertainty.determinedDirections} of ${uncertainty.eigenvalues.length} directions${uncertainty.negativeLikelihoodDirections > 0 ? ` (the likelihood curves down along ${uncertainty.negativeLikelihoodDirections})` : ""}; 95% flux band half-width up to ${percent(uncertainty.fluxBandRelativeHalfWidth)} of max |q|`,
  );
  lines.push(
    `  flux |q| vs truth over |g| in [${fixed(fluxError.gradientRange[0], 3)}, ${fixed(fluxError.gradientRange[1], 3)}]: max error ${percent(fluxError.inferred)} of max |q| (start ${percent(fluxError.start)})`,
  );
  lines.push(
    `  misfit: start ${sci(misfit.start)}, final ${sci(misfit.final)} (reduced ${misfit.reduction.toPrecision(3)}x; the noiseless truth gives ${sci(misfit.truth)})`,
  );
  lines.push(
    `  solves: ${solves.forward} forward (nonlinear, ${solves.newtonIterations} Newton iterations in all), ${solves.adjoint} adjoint, ${solves.hessianActions} Hessian action${solves.hessianActions === 1 ? "" : "s"}`,
  );
  lines.push(
    `  wall time: ${fixed(wallTime.total, 2)} s (setup ${fixed(wallTime.setup, 2)} s, Taylor test ${fixed(wallTime.taylor, 2)} s, optimization ${fixed(wallTime.optimize, 2)} s, uncertainty ${fixed(wallTime.uncertainty, 2)} s)`,
  );
  return lines.join("\n");
}

/**
 * Writes report.json and the figures (sensors, flux, convergence and a summary of all three; SVG and PNG)
 * to `folder` (created if needed). Returns the paths written.
 *
 * @example
 * const files = await writeReport(report, "out");
 */
export async function writeReport(report: InferenceReport, folder: string): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const written: string[] = [];
  const sensors = sensorFigure(report.figures.sensors);
  const flux = fluxFigure(report.figures.flux, report.figures.fluxBand);
  const convergence = convergenceFigure(report.figures.convergence, report.misfit.truth);
  const title =
    report.parameters.length > 0
      ? `${report.settings.cr} (${report.settings.engine}): ${report.parameters.map((p) => `${p.name} = ${p.inferred.toFixed(3)} (truth ${p.truth})`).join(", ")}`
      : `${report.settings.cr} (${report.settings.engine}): misfit reduced ${report.misfit.reduction.toPrecision(3)}x, flux within ${(100 * report.fluxError.inferred).toFixed(1)}% of the truth`;
  const figures: Record<string, ReturnType<typeof fluxFigure>> = {
    sensors,
    flux,
    convergence,
    summary: summaryFigure(sensors, flux, convergence, title),
  };
  if (report.parameters.length === 0)
    figures.spectrum = spectrumFigure(report.figures.spectrum, report.uncertainty.priorPrecision);
  for (const [name, spec] of Object.entries(figures)) {
    const { svg, png } = await renderFigure(spec);
    const svgPath = join(folder, `${name}.svg`);
    const pngPath = join(folder, `${name}.png`);
    await writeFile(svgPath, svg);
    await writeFile(pngPath, png);
    written.push(svgPath, pngPath);
  }
  const jsonPath = join(folder, "report.json");
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  written.push(jsonPath);
  return written;
}
