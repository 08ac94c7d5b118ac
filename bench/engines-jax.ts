/**
 * @file Benchmark: overloadJax against jax-js's own calls in the same run. An MLP loss (1000 x 2 inputs,
 * layers 40-30-20-1, tanh) differentiated with respect to all eight weight arrays: gradient and
 * Hessian-vector product, jit on and off, wasm (fast) and cpu (exact float64) devices; and a leak run of
 * 10,000 derivative calls with the live jax-js buffer count and the RSS.
 */
import { grad, type Array as JaxArray, jit, numpy as jnp, jvp, valueAndGrad } from "@jax-js/jax";
import { Control, computeGradient, computeHessian, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { f64, type JaxDevice, overloadJax, releaseJaxResources } from "tsadjoint/jax";
import { defaultRng } from "../src/ops/kernels/random.js";
import type { NDArray } from "../src/values/ndarray.js";
import { liveBuffers } from "../test/engines/jax/live-buffers.js";
import { collectGarbage, printTable, type Row } from "./harness.js";

/** Options of `runJaxBench` (the defaults are the reported configuration). */
export interface JaxBenchOptions {
  /** Number of input points (default 1000). */
  points?: number;
  /** Timing repeats on wasm (default 15) and on cpu (default 3). */
  wasmRepeats?: number;
  cpuRepeats?: number;
  /** Devices to run (default both). */
  devices?: readonly JaxDevice[];
  /** Derivative calls of the leak run (default 10,000). */
  leakCalls?: number;
  /** Print the tables (default true). */
  print?: boolean;
}

/** One measured comparison: overloadJax time, jax-js time, ratio. */
export interface JaxBenchFigure {
  name: string;
  overloadMs: number;
  jaxMs: number;
  ratio: number;
}

/** What `runJaxBench` measured. */
export interface JaxBenchResult {
  figures: JaxBenchFigure[];
  /** Largest relative difference between the overloadJax and jax-js gradients, per device. */
  gradientAgreement: Record<string, number>;
  leak: { calls: number; liveBuffersBefore: number; liveBuffersAfter: number; rssGrowthMB: number };
}

const SIZES = [2, 40, 30, 20, 1];

/** loss(W0, b0, ..., W3, b3, X, T) = sum((mlp(X) - T)^2) / N, tanh hidden layers, linear output. */
function mlpLoss(...args: JaxArray[]): JaxArray {
  const weights = args.slice(0, 8);
  const [inputs, targets] = args.slice(8);
  const count = inputs.shape[0];
  let h = inputs;
  for (let layer = 0; layer < 4; layer++) {
    h = jnp.matmul(h, weights[2 * layer]).add(weights[2 * layer + 1]);
    if (layer < 3) h = jnp.tanh(h);
  }
  const residual = h.sub(targets);
  return residual.ref.mul(residual).sum().div(f64(count));
}

interface Problem {
  weights: NDArray[];
  inputs: NDArray;
  targets: NDArray;
  direction: NDArray[];
}

function makeProblem(points: number): Problem {
  const rng = defaultRng(2024);
  const weights: NDArray[] = [];
  for (let layer = 0; layer < 4; layer++) {
    weights.push(rng.normal(0, 1 / Math.sqrt(SIZES[layer]), [SIZES[layer], SIZES[layer + 1]]));
    weights.push(rng.normal(0, 0.1, [SIZES[layer + 1]]));
  }
  const inputs = rng.uniform(-1, 1, [points, 2]);
  const targets = rng.uniform(-1, 1, [points, 1]);
  const direction = weights.map((w) => rng.normal(0, 1, w.shape.slice()));
  return { weights, inputs, targets, direction };
}

function toJax(value: NDArray, device: JaxDevice): JaxArray {
  return jnp.array(value.data, { shape: value.shape.slice(), dtype: jnp.float64, device });
}

function readAll(arrays: JaxArray[]): Float64Array[] {
  return arrays.map((a) => a.dataSync() as Float64Array);
}

function maxRelativeDifference(a: readonly Float64Array[], b: readonly Float64Array[]): number {
  let worst = 0;
  let scale = 0;
  for (const x of b) for (const v of x) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a[i].length; j++) worst = Math.max(worst, Math.abs(a[i][j] - b[i][j]) / scale);
  }
  return worst;
}

const ARGNUMS = [0, 1, 2, 3, 4, 5, 6, 7];
type Callable = (...args: JaxArray[]) => unknown;

/**
 * Median times of `first` and `second`, measured alternately (one warm-up each), so that a change of
 * machine load affects both alike.
 */
function pairedMedians(first: () => void, second: () => void, repeats: number): [number, number] {
  first();
  second();
  const times: [number[], number[]] = [[], []];
  for (let r = 0; r < repeats; r++) {
    for (const [index, fn] of [first, second].entries()) {
      const start = process.hrtime.bigint();
      fn();
      times[index].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return [median(times[0]), median(times[1])];
}

/** The MLP loss gradient in plain JS, float64, by hand-written backpropagation (the exactness reference). */
function referenceGradient(problem: Problem): Float64Array[] {
  const { weights, inputs, targets } = problem;
  const count = inputs.shape[0];
  const activations: Float64Array[] = [inputs.data];
  let h = inputs.data;
  for (let layer = 0; layer < 4; layer++) {
    const [m, k] = [SIZES[layer], SIZES[layer + 1]];
    const w = weights[2 * layer].data;
    const b = weights[2 * layer + 1].data;
    const out = new Float64Array(count * k);
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < k; j++) {
        let total = b[j];
        for (let q = 0; q < m; q++) total += h[i * m + q] * w[q * k + j];
        out[i * k + j] = layer < 3 ? Math.tanh(total) : total;
      }
    }
    activations.push(out);
    h = out;
  }
  // d loss / d output
  let delta = new Float64Array(count);
  for (let i = 0; i < count; i++) delta[i] = (2 * (h[i] - targets.data[i])) / count;
  const gradients: Float64Array[] = new Array(8);
  for (let layer = 3; layer >= 0; layer--) {
    const [m, k] = [SIZES[layer], SIZES[layer + 1]];
    const below = activations[layer];
    const w = weights[2 * layer].data;
    const gw = new Float64Array(m * k);
    const gb = new Float64Array(k);
    const next = new Float64Array(count * m);
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < k; j++) {
        const d = delta[i * k + j];
        gb[j] += d;
        for (let q = 0; q < m; q++) {
          gw[q * k + j] += below[i * m + q] * d;
          next[i * m + q] += w[q * k + j] * d;
        }
      }
    }
    gradients[2 * layer] = gw;
    gradients[2 * layer + 1] = gb;
    if (layer > 0) for (let i = 0; i < next.length; i++) next[i] *= 1 - below[i] * below[i];
    delta = next;
  }
  return gradients;
}

/** The MLP figures on one device, jit on or off. */
function mlpFigures(
  problem: Problem,
  device: JaxDevice,
  useJit: boolean,
  repeats: number,
  reference: Float64Array[],
) {
  const { weights, inputs, targets, direction } = problem;
  const jaxArgs = () => [
    ...weights.map((w) => toJax(w, device)),
    toJax(inputs, device),
    toJax(targets, device),
  ];
  // jax-js's own calls
  const gradient = grad(mlpLoss, { argnums: ARGNUMS }) as unknown as Callable;
  const valueGradient = valueAndGrad(mlpLoss, { argnums: ARGNUMS }) as unknown as Callable;
  const hvp: Callable = (...args) => {
    const primals = args.slice(0, 8);
    const tangents = args.slice(10);
    const [g, hv] = jvp(
      (...w: JaxArray[]) => (gradient as (...a: JaxArray[]) => JaxArray[])(...w, args[8], args[9]),
      primals,
      tangents,
    ) as unknown as [JaxArray[], JaxArray[]];
    for (const a of g) a.dispose();
    return hv;
  };
  const compiled = useJit
    ? {
        gradient: jit(gradient as never) as unknown as Callable & { dispose(): void },
        valueGradient: jit(valueGradient as never) as unknown as Callable & { dispose(): void },
        hvp: jit(hvp as never) as unknown as Callable & { dispose(): void },
      }
    : undefined;
  const jaxGradient = compiled?.gradient ?? gradient;
  const jaxValueGradient = compiled?.valueGradient ?? valueGradient;
  const jaxHvp = compiled?.hvp ?? hvp;
  const jaxGradientCall = () => readAll(jaxGradient(...jaxArgs()) as JaxArray[]);
  const jaxValueGradientCall = () => {
    const [value, grads] = jaxValueGradient(...jaxArgs()) as [JaxArray, JaxArray[]];
    value.dataSync();
    readAll(grads);
  };
  const jaxHvpCall = () =>
    readAll(jaxHvp(...jaxArgs(), ...direction.map((d) => toJax(d, device))) as JaxArray[]);
  const jaxAgreement = maxRelativeDifference(jaxGradientCall(), reference);

  // the same through overloadJax: one JaxBlock on a tape, derivatives by the tape's drivers
  const rows: JaxBenchFigure[] = [];
  let agreement = 0;
  for (const checkpoint of [false, true]) {
    const loss = overloadJax(mlpLoss as (...args: JaxArray[]) => JaxArray, {
      argnums: ARGNUMS,
      device,
      jit: useJit,
      checkpoint,
    });
    const tape = new Tape();
    const J = withTape(tape, () => loss(...weights, inputs, targets));
    const controls = weights.map((w) => new Control(w));
    const rf = new ReducedFunctional(J, controls, { tape });
    const ours = (computeGradient(J, controls, { tape }) as NDArray[]).map((g) => g.data);
    agreement = Math.max(agreement, maxRelativeDifference(ours, reference));
    const label = `${device}, jit ${useJit ? "on" : "off"}, checkpoint ${checkpoint ? "on" : "off"}`;
    const [gradientMs, jaxGradientMs] = pairedMedians(
      () => computeGradient(J, controls, { tape }),
      jaxGradientCall,
      repeats,
    );
    rows.push({
      name: `gradient at the recorded point [${label}] vs grad`,
      overloadMs: gradientMs,
      jaxMs: jaxGradientMs,
      ratio: gradientMs / jaxGradientMs,
    });
    const [cycleMs, jaxCycleMs] = pairedMedians(
      () => {
        rf.evaluate(weights);
        rf.derivative();
      },
      jaxValueGradientCall,
      repeats,
    );
    rows.push({
      name: `evaluate + gradient [${label}] vs valueAndGrad`,
      overloadMs: cycleMs,
      jaxMs: jaxCycleMs,
      ratio: cycleMs / jaxCycleMs,
    });
    const [hessianMs, jaxHessianMs] = pairedMedians(
      () => computeHessian(J, controls, direction, { tape }),
      jaxHvpCall,
      repeats,
    );
    rows.push({
      name: `Hessian action [${label}] vs jvp(grad)`,
      overloadMs: hessianMs,
      jaxMs: jaxHessianMs,
      ratio: hessianMs / jaxHessianMs,
    });
    releaseJaxResources(tape);
    loss.dispose();
  }
  compiled?.gradient.dispose();
  compiled?.valueGradient.dispose();
  compiled?.hvp.dispose();
  return { rows, agreement, jaxAgreement };
}

/** 10,000 gradient calls through overloadJax on the seed example: live jax-js buffers and RSS. */
function leakRun(calls: number) {
  const rng = defaultRng(5);
  const x = rng.normal(0, 0.5, [3, 3]);
  const y = rng.normal(0, 0.5, [3, 3]);
  const f = overloadJax((a: JaxArray, b: JaxArray) => jnp.exp(jnp.trace(jnp.matmul(a, b))));
  const tape = new Tape();
  const z = withTape(tape, () => f(x, y));
  const controls = [new Control(x), new Control(y)];
  const rf = new ReducedFunctional(z, controls, { tape });
  for (let i = 0; i < 10; i++) rf.derivative();
  collectGarbage();
  const liveBuffersBefore = liveBuffers("cpu");
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < calls; i++) {
    if (i % 3 === 0) rf.evaluate([x, y]);
    rf.derivative();
    if (i % 10 === 0) rf.hessian([x, y]);
  }
  collectGarbage();
  const result = {
    calls,
    liveBuffersBefore,
    liveBuffersAfter: liveBuffers("cpu"),
    rssGrowthMB: (process.memoryUsage().rss - rssBefore) / 2 ** 20,
  };
  releaseJaxResources(tape);
  f.dispose();
  return result;
}

/**
 * Runs the jax-js engine benchmark and prints its tables: every figure is overloadJax's time over
 * jax-js's own call measured in the same run (target <= 1.2x for the gradient and the evaluate + gradient
 * cycle).
 *
 * @example
 * const result = await runJaxBench({ leakCalls: 1000 });
 */
export async function runJaxBench(options: JaxBenchOptions = {}): Promise<JaxBenchResult> {
  const print = options.print ?? true;
  const problem = makeProblem(options.points ?? 1000);
  const reference = referenceGradient(problem);
  const figures: JaxBenchFigure[] = [];
  const gradientAgreement: Record<string, number> = {};
  for (const device of options.devices ?? (["wasm", "cpu"] as const)) {
    const repeats = device === "wasm" ? (options.wasmRepeats ?? 15) : (options.cpuRepeats ?? 3);
    for (const useJit of [true, false]) {
      const { rows, agreement, jaxAgreement } = mlpFigures(problem, device, useJit, repeats, reference);
      figures.push(...rows);
      gradientAgreement[`${device}, jit ${useJit}`] = agreement;
      if (print) {
        const table: Row[] = rows.map((row) => ({
          name: row.name,
          value: `${row.overloadMs.toFixed(2)} ms vs ${row.jaxMs.toFixed(2)} ms`,
          ratio: row.ratio,
          target: "<= 1.2x",
          pass: row.ratio <= 1.2,
        }));
        table.push({
          name: "gradient vs float64 JS backpropagation (max rel. diff.)",
          value: `overloadJax ${agreement.toExponential(1)}, jax-js grad ${jaxAgreement.toExponential(1)}`,
        });
        printTable(
          `overloadJax MLP loss (${problem.inputs.shape[0]} x 2, 40-30-20-1 tanh), ${device}, jit ${useJit ? "on" : "off"}: ` +
            "overloadJax vs jax-js, measured alternately",
          table,
        );
      }
    }
  }
  const leak = leakRun(options.leakCalls ?? 10_000);
  if (print) {
    printTable(`overloadJax leak run: ${leak.calls} gradient calls (+ replays and Hessian actions), cpu`, [
      {
        name: "live jax-js buffers",
        value: `${leak.liveBuffersBefore} before, ${leak.liveBuffersAfter} after`,
        target: "equal",
        pass: leak.liveBuffersAfter === leak.liveBuffersBefore,
      },
      { name: "RSS growth", value: `${leak.rssGrowthMB.toFixed(1)} MB` },
    ]);
  }
  return { figures, gradientAgreement, leak };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runJaxBench();
}
