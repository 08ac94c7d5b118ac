/**
 * @file Benchmark of the flagship constitutive-relation inference: wall time of one forward solve, one
 * gradient and one Hessian action of the reduced functional at meshes 32 and 64, per engine, as ratios
 * (recorded forward / plain-JS forward, gradient / forward, Hessian action / gradient), and the end-to-end
 * inference time of the default run.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { NDArray } from "tsadjoint";
import {
  type ConstitutiveKind,
  constitutiveModel,
  type EngineName,
  type JaxDeviceName,
} from "../examples/cr-inference/constitutive.js";
import { solvePowerLawReference } from "../examples/cr-inference/fem.js";
import {
  DEFAULT_SETTINGS,
  recordProblem,
  runInference,
  START,
  syntheticData,
} from "../examples/cr-inference/problem.js";
import { printTable, type Row, runPeerScript } from "./harness.js";

/** One engine configuration of the benchmark. */
export interface FlagshipConfiguration {
  readonly cr: ConstitutiveKind;
  readonly engine: EngineName;
  readonly jaxDevice?: JaxDeviceName;
  /** Meshes to run it on (the jax-js cpu device is an interpreter: mesh 32 only). */
  readonly meshes: readonly number[];
  readonly repeats: number;
}

/** The default configurations: every engine that is installed, power law and network. */
export const FLAGSHIP_CONFIGURATIONS: readonly FlagshipConfiguration[] = [
  { cr: "power-law", engine: "native", meshes: [32, 64], repeats: 7 },
  { cr: "power-law", engine: "jax", jaxDevice: "wasm", meshes: [32, 64], repeats: 5 },
  { cr: "power-law", engine: "jax", jaxDevice: "cpu", meshes: [32], repeats: 3 },
  { cr: "network", engine: "native", meshes: [32, 64], repeats: 5 },
  { cr: "network", engine: "jax", jaxDevice: "wasm", meshes: [32, 64], repeats: 5 },
  { cr: "network", engine: "tfjs", meshes: [32, 64], repeats: 5 },
];

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function milliseconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const format = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

/** Two control points near the start, alternated so that every evaluation is a real Newton solve. */
function controlPoints(
  initial: readonly (number | NDArray)[],
  kind: ConstitutiveKind,
): (number | NDArray)[][] {
  return [0, 1].map((which) =>
    initial.map((value, index) => {
      const shift = which === 0 ? 0.02 : -0.02;
      if (typeof value === "number")
        return kind === "power-law" && index === 0 ? value + 10 * shift : value + shift;
      return new NDArray(
        value.data.map((v, i) => v + shift * Math.sin(i + index)),
        value.shape,
      );
    }),
  );
}

/** Timings of one configuration on one mesh (medians in ms). */
async function measure(configuration: FlagshipConfiguration, mesh: number) {
  const data = syntheticData({ ...DEFAULT_SETTINGS, mesh });
  const cr = await constitutiveModel(configuration.cr, configuration.engine, {
    p0: START.p,
    k0: START.k,
    seed: 1,
    jaxDevice: configuration.jaxDevice,
  });
  try {
    const problem = recordProblem(data, cr, 0);
    const { rf } = problem;
    const points = controlPoints(
      problem.controls.map((c) => c.blockVariable.saved as number | NDArray),
      configuration.cr,
    );
    const direction = points[0].map((value) =>
      typeof value === "number"
        ? 0.1
        : new NDArray(
            value.data.map((_, i) => 0.01 * Math.cos(i)),
            value.shape,
          ),
    );
    const forward: number[] = [];
    const gradient: number[] = [];
    const hessian: number[] = [];
    const plain: number[] = [];
    let plainSolution: Float64Array | undefined;
    rf.evaluate(points[1]); // warm-up (compiles engine kernels)
    if (configuration.cr === "power-law") {
      const [p, k] = points[1] as number[];
      plainSolution = solvePowerLawReference(data.space, data.load, p, k, { regularization: 1e-8 }).solution;
    }
    rf.derivative();
    rf.hessian(direction);
    for (let repeat = 0; repeat < configuration.repeats; repeat++) {
      const point = points[repeat % 2];
      let start = process.hrtime.bigint();
      rf.evaluate(point);
      forward.push(milliseconds(start));
      // gradient at a new point: includes the Jacobian at the solution (assembled once, reused by Hessians)
      start = process.hrtime.bigint();
      rf.derivative();
      gradient.push(milliseconds(start));
      start = process.hrtime.bigint();
      rf.hessian(direction);
      hessian.push(milliseconds(start));
      if (configuration.cr === "power-law") {
        const [p, k] = point as number[];
        start = process.hrtime.bigint();
        // warm-started from the other point's solution, as the replay is
        plainSolution = solvePowerLawReference(data.space, data.load, p, k, {
          regularization: 1e-8,
          initialGuess: plainSolution,
        }).solution;
        plain.push(milliseconds(start));
      }
    }
    return {
      forward: median(forward),
      gradient: median(gradient),
      hessian: hessian.length > 0 ? median(hessian) : undefined,
      plain: plain.length > 0 ? median(plain) : undefined,
    };
  } finally {
    cr.dispose();
  }
}

/**
 * Runs `run` and measures its wall time, the process's CPU time (user + system, every thread) and the time
 * spent in garbage collection: the durations of the `gc` performance entries (node's perf_hooks) that
 * started while it ran.
 */
async function garbageCollectionDuring<T>(
  run: () => Promise<T>,
): Promise<{ result: T; wallMs: number; cpuMs: number; gcMs: number }> {
  let gcMs = 0;
  let begin = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.startTime >= begin) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ["gc"] });
  const cpu = process.cpuUsage();
  begin = performance.now();
  const start = process.hrtime.bigint();
  const result = await run();
  const wallMs = milliseconds(start);
  const used = process.cpuUsage(cpu);
  // gc entries are delivered asynchronously: let the observer see the last ones
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return { result, wallMs, cpuMs: (used.user + used.system) / 1000, gcMs };
}

/** One row set per configuration and mesh, as printed. */
export interface FlagshipFigures {
  readonly name: string;
  readonly forwardMs: number;
  readonly gradientMs: number;
  readonly hessianMs?: number;
  readonly plainForwardMs?: number;
}

/** scikit-fem + SciPy reference figures (the peers folder's README, `flagship_skfem.py --mesh N`). */
const SKFEM_REFERENCE: Readonly<Record<number, { totalMs: number; perNewtonMs: number }>> = {
  32: { totalMs: 1400, perNewtonMs: 4.6 },
  64: { totalMs: 3700, perNewtonMs: 18 },
  128: { totalMs: 20000, perNewtonMs: 88 },
};

/**
 * The main job in scikit-fem + SciPy at `mesh`: run in this process's session when the peers' Python is
 * installed (`TSADJOINT_PEERS_PYTHON`, default /tmp/peers-venv/bin/python, and the peers folder beside the
 * repository), else the reference figure.
 */
function skfemFigures(mesh: number): { totalMs: number; perNewtonMs: number; source: string } | undefined {
  const output = runPeerScript("flagship_skfem.py", ["--mesh", String(mesh)]);
  const total = output === undefined ? null : /time: total ([\d.]+) s/.exec(output);
  const perNewton =
    output === undefined
      ? null
      : /per Newton iteration \(total time \/ all Newton its\): ([\d.]+) ms/.exec(output);
  if (total !== null && perNewton !== null) {
    return { totalMs: 1000 * Number(total[1]), perNewtonMs: Number(perNewton[1]), source: "run now" };
  }
  const reference = SKFEM_REFERENCE[mesh];
  return reference === undefined ? undefined : { ...reference, source: "reference figure" };
}

/**
 * Runs the flagship benchmark and prints its tables: per engine and mesh, one forward solve (a replay of
 * the tape at new parameters: Newton from the previous solution), one gradient (adjoint) and one Hessian
 * action, as ratios; then the end-to-end default inference. Returns the measured figures.
 *
 * @example
 * await runFlagshipBench();
 */
export async function runFlagshipBench(
  // `npm run bench flagship -- --end-to-end` runs the end-to-end inferences only
  configurations: readonly FlagshipConfiguration[] = process.argv.includes("--end-to-end")
    ? []
    : FLAGSHIP_CONFIGURATIONS,
): Promise<FlagshipFigures[]> {
  const figures: FlagshipFigures[] = [];
  for (const configuration of configurations) {
    const label = `${configuration.cr}, ${configuration.engine}${configuration.jaxDevice ? ` (${configuration.jaxDevice})` : ""}`;
    for (const mesh of configuration.meshes) {
      const result = await measure(configuration, mesh);
      const rows: Row[] = [];
      if (result.plain !== undefined) {
        rows.push({ name: "plain-JS forward, analytic Jacobian (baseline)", value: format(result.plain) });
      }
      rows.push({
        name: "forward solve (replay)",
        value: format(result.forward),
        ...(result.plain === undefined ? {} : { ratio: result.forward / result.plain }),
      });
      rows.push({
        name: "gradient / forward",
        value: format(result.gradient),
        ratio: result.gradient / result.forward,
        target: "<= 1",
        pass: result.gradient <= result.forward,
      });
      if (result.hessian !== undefined) {
        rows.push({
          name: "Hessian action / gradient",
          value: format(result.hessian),
          ratio: result.hessian / result.gradient,
          target: "<= 3",
          pass: result.hessian <= 3 * result.gradient,
        });
      }
      printTable(
        `flagship: ${label}, mesh ${mesh} (${2 * mesh * mesh} elements, ${(mesh - 1) ** 2} unknowns)`,
        rows,
      );
      figures.push({
        name: `${label}, mesh ${mesh}`,
        forwardMs: result.forward,
        gradientMs: result.gradient,
        hessianMs: result.hessian,
        plainForwardMs: result.plain,
      });
    }
  }
  const endToEnd: Row[] = [];
  for (const settings of [
    DEFAULT_SETTINGS,
    { ...DEFAULT_SETTINGS, mesh: 64 },
    { ...DEFAULT_SETTINGS, mesh: 128 },
    { ...DEFAULT_SETTINGS, cr: "network" as const, maxIterations: 100 },
  ]) {
    const gc = await garbageCollectionDuring(() => runInference(settings));
    const { result: report, wallMs: total, cpuMs, gcMs } = gc;
    const perIteration = total / Math.max(1, report.optimizer.iterations);
    // the peers' figure (flagship_skfem.py): the whole run over all Newton iterations
    const perNewton = total / Math.max(1, report.solves.newtonIterations);
    endToEnd.push({
      name: `${settings.cr} (${settings.engine}), mesh ${settings.mesh}`,
      value: `${format(total)} (${report.optimizer.iterations} iterations, ${report.solves.forward} forward, ${report.solves.adjoint} adjoint solves; ${format(perIteration)} per iteration, ${format(perNewton)} per Newton iteration; CPU ${format(cpuMs)})`,
    });
    endToEnd.push({
      name: "  garbage collection / whole run (perf_hooks gc entries)",
      value: `${format(gcMs)} of ${format(total)} (${((100 * gcMs) / total).toFixed(2)}%)`,
      ratio: gcMs / total,
      target: "< 0.03",
      pass: gcMs < 0.03 * total,
    });
    const peer = settings.cr === "power-law" && settings.mesh >= 64 ? skfemFigures(settings.mesh) : undefined;
    if (peer !== undefined) {
      endToEnd.push({
        name: `  per Newton iteration vs scikit-fem + SciPy (${peer.source})`,
        value: `${format(perNewton)} vs ${format(peer.perNewtonMs)}`,
        ratio: perNewton / peer.perNewtonMs,
        target: "<= 1",
        pass: perNewton <= peer.perNewtonMs,
      });
      endToEnd.push({
        name: `  whole run vs scikit-fem + SciPy (${peer.source})`,
        value: `${format(total)} vs ${format(peer.totalMs)}`,
        ratio: total / peer.totalMs,
        target: "<= 1",
        pass: total <= peer.totalMs,
      });
    }
  }
  printTable("flagship: end-to-end inference (Taylor tests included)", endToEnd);
  return figures;
}

if (process.argv[1]?.endsWith("flagship.ts")) await runFlagshipBench();
