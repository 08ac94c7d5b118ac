/**
 * @file Command line of the constitutive-relation inference (`npm start -- [flags]`): flag parsing with
 * node:util parseArgs, the help text, the optimizer progress bar, and the run itself (report to stdout,
 * report.json and figures to the output folder).
 */
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { ConfigError, formatConfigReport, loadConfig, runConfig, synthesize } from "./config.js";
import {
  type ConstitutiveKind,
  type EngineName,
  type JaxDeviceName,
  POWER_LAW_BOUNDS,
} from "./constitutive.js";
import { type InferenceSettings, type IterationInfo, type OptimizerName, runInference } from "./problem.js";
import { formatReport, writeReport } from "./report.js";
import {
  checkpointSchedule,
  formatTransientReport,
  runTransient,
  TRANSIENT_DEFAULTS,
  type TransientSettings,
} from "./transient.js";

/** `--config file`: a synthesize run writes the observations (and mesh); otherwise the inference. */
async function runConfigFile(path: string, quiet: boolean): Promise<number> {
  const log = (line: string) => {
    if (!quiet) console.log(line);
  };
  try {
    const config = await loadConfig(path);
    if (config.synthesize !== null) {
      const files = await synthesize(config, log);
      console.log(`wrote ${files.join(", ")}`);
      return 0;
    }
    console.log(formatConfigReport(await runConfig(config, log)));
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || (error instanceof Error && error.name === "InvalidArgumentError")) {
      console.error(`error: ${path}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

/** The help text (`--help`). */
export const HELP = `Infer a constitutive relation q(grad u) from noisy observations of the solution of
  -div q(grad u) = f   on the unit square, u = 0 on the boundary, f = 0.5 + 20 x^3,
discretised with P1 triangles. Synthetic data come from the power law q(g) = k (|g|^2 + eps)^((p-2)/2) g
with the true p and k; the CR is then inferred from the sensor values by minimising the misfit, with
gradients (and Hessian actions) through the nonlinear solve by the adjoint method.

Usage: npm start -- [flags]

Flags:
  --cr <power-law|network>   CR to infer (default power-law).
                               power-law: q = k (|g|^2 + eps)^((p-2)/2) g; the controls are p and k.
                               network:   q = N(|g|^2) g with a 1-16-16-1 tanh network N whose 321
                                          weights are the controls (the CR is learned from data).
  --engine <native|jax|tfjs> Engine that evaluates and differentiates the CR (default native).
                               native: tsadjoint's numpy through pointMap (float64);
                               jax:    jax-js through overloadJax, pointwise (device: --jax-device);
                               tfjs:   TensorFlow.js through runTensorflowGraph (network only; float32).
  --jax-device <cpu|wasm>    jax-js device. cpu (default for power-law): exact float64, but an
                               interpreter, about 100x slower; wasm (default for network): fast, but
                               tanh/exp/log/power in float32 (relative error about 1e-7), so solver
                               tolerances are loosened and the Hessian Taylor test is skipped.
  --optimizer <name>         l-bfgs-b (default, with bounds), newton-cg (Hessian actions) or bfgs.
                               newton-cg on the network stops at the noise level (discrepancy principle):
                               past it the misfit falls only by fitting noise along weight directions the
                               data do not determine, where truncated CG meets negative curvature at every
                               step, so it would creep on to --max-iter.
  --mesh <n>                 Cells per side of the mesh (default 32: 1089 nodes, 2048 triangles).
  --noise <level>            Gaussian noise, relative to the RMS of the noiseless observations
                               (default 0.01 = 1%).
  --seed <int>               Seed of the noise and the sensor positions (and the network's initial
                               weights) (default 1).
  --p-true <p>               True exponent of the synthetic data (default 3).
  --k-true <k>               True consistency of the synthetic data (default 1).
  --max-iter <n>             Optimizer iteration limit (default 50 for power-law, 100 for network).
  --tikhonov <alpha>         Weight of the Tikhonov term alpha/2 |theta - theta_start|^2 (default 0).
  --out <folder>             Folder for report.json and the figures (SVG and PNG) (default out).
  --problem <steady|transient>  steady (default) as above; transient: du/dt - div q(grad u) = f from
                               u = 0, implicit Euler (one nonlinear solve per step), the power law
                               inferred from 25 sensors observed every 10 steps, with the time loop
                               checkpointed (defaults: --mesh 8, --steps 200, dt 0.005, --max-iter 30).
                               Prints the inferred p and k with the steps advanced and the memory held.
  --steps <n>                Time steps of the transient problem (default 200).
  --checkpoint <schedule>    Transient problem: none (whole trajectory on the tape), memory, disk,
                               revolve:<snapshots> (default revolve:20) or multistage:<memory>:<disk>.
  --config <run.json>        Run on your own data: mesh (Gmsh .msh or built-in), boundary conditions,
                               source, observations CSV and CR family from a JSON file (see the README and
                               examples/cr-inference/config.schema.json); only --quiet may be added.
  --quiet                    Print only the final report (no progress bar).
  --help                     Print this help.

Bounds (l-bfgs-b): p in [1.2, 6], k in [0.05, 20]. Start: p = 2, k = 0.5.
Outputs: report.json (every number and every figure's data), sensors.{svg,png} (predicted vs observed
values), flux.{svg,png} (|q| against |g|: truth, start and inferred), convergence.{svg,png} (misfit per
iteration, log scale) and summary.{svg,png} (the three side by side).`;

/** Parsed command line. */
export interface CliOptions {
  readonly settings: InferenceSettings;
  /** Set for `--problem transient`. */
  readonly transient?: TransientSettings;
  readonly out: string;
  readonly quiet: boolean;
  readonly help: boolean;
  /** A run configuration file (`--config run.json`): the problem, data and CR come from it. */
  readonly config?: string;
}

/** A command-line error: a message for the user (exit code 2). */
export class UsageError extends Error {}

/** A plain decimal number (no hex, octal, binary, Infinity or blanks: "0x10" is not 16). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function numberFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  check: (v: number) => boolean,
  range: string,
): number {
  if (raw === undefined) return fallback;
  const value = DECIMAL.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value))
    throw new UsageError(`--${name}: '${raw}' is not a decimal number (expected ${range})`);
  if (!check(value)) throw new UsageError(`--${name}: ${raw} is out of range (expected ${range})`);
  return value;
}

/**
 * parseArgs reads "--mesh -3" as two options ("argument is ambiguous"); a negative number after an option
 * that takes a value is its value, so join the two as "--mesh=-3" (the range check then explains).
 */
function joinNegativeValues(argv: readonly string[], valued: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    if (valued.has(arg) && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function choice<T extends string>(
  name: string,
  raw: string | undefined,
  fallback: T,
  allowed: readonly T[],
): T {
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase() as T;
  if (!allowed.includes(value)) {
    throw new UsageError(`--${name}: '${raw}' is not one of ${allowed.join(", ")}`);
  }
  return value;
}

/**
 * Parses the flags (see {@link HELP}). Throws a UsageError for unknown flags or bad values.
 *
 * @example
 * parseCli(["--mesh", "8", "--quiet"]).settings.mesh; // 8
 */
export function parseCli(argv: readonly string[]): CliOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    const valued = new Set(
      [
        "cr",
        "engine",
        "jax-device",
        "optimizer",
        "mesh",
        "noise",
        "seed",
        "p-true",
        "k-true",
        "max-iter",
        "tikhonov",
        "out",
        "problem",
        "steps",
        "checkpoint",
        "config",
      ].map((name) => `--${name}`),
    );
    ({ values } = parseArgs({
      args: joinNegativeValues(argv, valued),
      strict: true,
      allowPositionals: false,
      options: {
        cr: { type: "string" },
        engine: { type: "string" },
        "jax-device": { type: "string" },
        optimizer: { type: "string" },
        mesh: { type: "string" },
        noise: { type: "string" },
        seed: { type: "string" },
        "p-true": { type: "string" },
        "k-true": { type: "string" },
        "max-iter": { type: "string" },
        tikhonov: { type: "string" },
        out: { type: "string" },
        problem: { type: "string" },
        steps: { type: "string" },
        checkpoint: { type: "string" },
        config: { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const text = (name: string) => values[name] as string | undefined;
  if (text("config") !== undefined) {
    // the file defines the whole run: a flag beside it would be silently ignored, so it is an error
    const others = Object.keys(values).filter((name) => !["config", "quiet", "help"].includes(name));
    if (others.length > 0) {
      throw new UsageError(
        `--config takes the whole run from the file, so ${others.map((name) => `--${name}`).join(", ")} cannot be combined with it (set the same in the file; only --quiet may be added)`,
      );
    }
  }
  const cr = choice<ConstitutiveKind>("cr", text("cr"), "power-law", ["power-law", "network"]);
  const engine = choice<EngineName>("engine", text("engine"), "native", ["native", "jax", "tfjs"]);
  if (engine === "tfjs" && cr === "power-law") {
    throw new UsageError(
      "--engine tfjs runs the network CR only (TensorFlow.js is float32); use --cr network",
    );
  }
  const optimizer = choice<OptimizerName>("optimizer", text("optimizer"), "l-bfgs-b", [
    "l-bfgs-b",
    "newton-cg",
    "bfgs",
  ]);
  const settings: InferenceSettings = {
    cr,
    engine,
    optimizer,
    mesh: numberFlag(
      "mesh",
      text("mesh"),
      32,
      (v) => Number.isInteger(v) && v >= 2 && v <= 512,
      "an integer from 2 to 512",
    ),
    noise: numberFlag("noise", text("noise"), 0.01, (v) => v >= 0, "a number >= 0, e.g. 0.01 for 1%"),
    seed: numberFlag("seed", text("seed"), 1, Number.isSafeInteger, "an integer"),
    pTrue: numberFlag("p-true", text("p-true"), 3, (v) => v > 1, "a number > 1"),
    kTrue: numberFlag("k-true", text("k-true"), 1, (v) => v > 0, "a number > 0"),
    maxIterations: numberFlag(
      "max-iter",
      text("max-iter"),
      cr === "network" ? 100 : 50,
      (v) => Number.isInteger(v) && v >= 1,
      "an integer >= 1",
    ),
    tikhonov: numberFlag("tikhonov", text("tikhonov"), 0, (v) => v >= 0, "a number >= 0"),
    ...(text("jax-device") === undefined
      ? {}
      : { jaxDevice: choice<JaxDeviceName>("jax-device", text("jax-device"), "cpu", ["cpu", "wasm"]) }),
  };
  const problem = choice("problem", text("problem"), "steady", ["steady", "transient"]);
  let transient: TransientSettings | undefined;
  if (problem === "transient") {
    const steps = numberFlag(
      "steps",
      text("steps"),
      TRANSIENT_DEFAULTS.steps,
      (v) => Number.isInteger(v) && v >= 1,
      "an integer >= 1",
    );
    const checkpoint = text("checkpoint") ?? TRANSIENT_DEFAULTS.checkpoint;
    try {
      checkpointSchedule(checkpoint, steps);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    transient = {
      ...TRANSIENT_DEFAULTS,
      mesh: text("mesh") === undefined ? TRANSIENT_DEFAULTS.mesh : settings.mesh,
      steps,
      checkpoint,
      noise: settings.noise,
      seed: settings.seed,
      pTrue: settings.pTrue,
      kTrue: settings.kTrue,
      maxIterations:
        text("max-iter") === undefined ? TRANSIENT_DEFAULTS.maxIterations : settings.maxIterations,
    };
  } else if (text("steps") !== undefined || text("checkpoint") !== undefined) {
    throw new UsageError("--steps and --checkpoint apply to --problem transient");
  }
  if (cr === "power-law") {
    // the inference is bounded; a truth outside the bounds would leave the result on the bound silently
    for (const [flag, value, [low, high]] of [
      ["p-true", settings.pTrue, POWER_LAW_BOUNDS.p],
      ["k-true", settings.kTrue, POWER_LAW_BOUNDS.k],
    ] as const) {
      if (value < low || value > high) {
        throw new UsageError(
          `--${flag}: ${value} is outside the inference bounds [${low}, ${high}] of the power law, so the inferred value could only sit on the bound`,
        );
      }
    }
  }
  return {
    settings,
    ...(transient === undefined ? {} : { transient }),
    out: text("out") ?? "out",
    ...(text("config") === undefined ? {} : { config: text("config") }),
    quiet: values.quiet === true,
    help: values.help === true,
  };
}

/**
 * Runs the command line: parses `argv`, runs the inference with a progress bar (unless quiet or not a
 * TTY), prints the report and writes the outputs. Returns the process exit code.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}; see --help`);
    return 2;
  }
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  if (options.config !== undefined) return runConfigFile(options.config, options.quiet);
  const { settings, quiet } = options;
  if (options.transient !== undefined) {
    const report = await runTransient(options.transient, (message) => {
      if (!quiet) console.log(message);
    });
    console.log(formatTransientReport(report));
    return 0;
  }
  const showBar = !quiet && process.stdout.isTTY === true;
  const log = (message: string) => {
    if (!quiet) console.log(message);
  };
  let bar: cliProgress.SingleBar | undefined;
  const onIteration = (info: IterationInfo) => {
    bar?.update(Math.min(info.iteration, settings.maxIterations), {
      misfit: info.misfit.toExponential(3),
      state: info.summary,
    });
  };
  const report = await runInference(settings, {
    log,
    onOptimizeStart: () => {
      if (!showBar) return;
      bar = new cliProgress.SingleBar(
        {
          format: "  optimizing |{bar}| {value}/{total} iterations | misfit {misfit} | {state}",
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(settings.maxIterations, 0, { misfit: "-", state: "" });
    },
    onIteration,
    onOptimizeEnd: () => {
      bar?.stop();
      bar = undefined;
    },
  });
  const files = await writeReport(report, options.out);
  console.log(formatReport(report));
  log(
    `  wrote ${files.length} files to ${options.out}/ (report.json, sensors, flux, convergence, summary as SVG and PNG)`,
  );
  return 0;
}
