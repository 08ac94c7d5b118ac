/**
 * @file Benchmark against the NumPy-based peers: the seed's Autograd flux f(u, g, p) = (|g|^2 + 1e-12)^((p-2)/2) g
 * on n points, J = sum(f^2), "from scratch" as autograd and JAX eager do it (a fresh tape, recording plus the
 * sweep): forward, gradient w.r.t. (g, p), Hessian-vector product. Ratios against the peers (`flux_peers.py n`
 * run in this session when the peers' Python is installed, else their reference figures, labelled) and against a
 * plain-JS loop of the same forward measured in this process.
 */
import {
  AdjFloat,
  Control,
  compileFunctional,
  computeGradient,
  computeHessian,
  np,
  ReducedFunctional,
  stopAnnotating,
  Tape,
  withTape,
} from "tsadjoint";
import { printTable, type Row, runPeerScript } from "./harness.js";

type NDArray = InstanceType<typeof np.NDArray>;

type PeerName = "autograd" | "JAX eager" | "JAX jit";
type PeerFigures = Record<PeerName, { forward: number; gradient: number; hvp: number }>;

/** Reference figures in ms (float64, median) from /work/shared/peers/README.md (`flux_peers.py 100000`). */
const REFERENCE: PeerFigures = {
  autograd: { forward: 2.2, gradient: 14.9, hvp: 75.9 },
  "JAX eager": { forward: 2.5, gradient: 12.4, hvp: 28.0 },
  "JAX jit": { forward: 0.9, gradient: 3.7, hvp: 4.1 },
};

/**
 * The peers' figures at n points: `flux_peers.py n` run now (same machine, same session) when the peers'
 * Python is installed, else the reference figures (for n = 10^5).
 */
function peerFigures(n: number): { figures: PeerFigures; source: string } {
  const output = runPeerScript("flux_peers.py", [String(n)]);
  const read = (name: string) => {
    const line = new RegExp(
      `^${name}: forward ([\\d.]+) ms, gradient ([\\d.]+) ms.*hvp ([\\d.]+) ms`,
      "m",
    ).exec(output ?? "");
    return line === null
      ? undefined
      : { forward: Number(line[1]), gradient: Number(line[2]), hvp: Number(line[3]) };
  };
  const autograd = read("autograd");
  const eager = read("jax eager");
  const jit = read("jax jit");
  if (autograd !== undefined && eager !== undefined && jit !== undefined) {
    return {
      figures: { autograd, "JAX eager": eager, "JAX jit": jit },
      source: `run now in this session (flux_peers.py ${n})`,
    };
  }
  return {
    figures: REFERENCE,
    source: "references from /work/shared/peers/README.md, not measured in this session",
  };
}

/** J = sum(f(u, g, p)^2) in np code, exactly as flux_peers.py writes it. */
export function objective(g: NDArray, p: AdjFloat | number): NDArray {
  const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
  const f = np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
  return np.sum(np.power(f, 2));
}

/** The same J as one plain-JS loop (the in-process baseline). */
function objectiveLoop(g: Float64Array, p: number): number {
  const exponent = (p - 2) / 2;
  let total = 0;
  for (let k = 0; k < g.length; k += 2) {
    const mu = (g[k] * g[k] + g[k + 1] * g[k + 1] + 1e-12) ** exponent;
    const f0 = mu * g[k];
    const f1 = mu * g[k + 1];
    total += f0 * f0 + f1 * f1;
  }
  return total;
}

/**
 * Untimed runs before each timed series: each call returns fresh result arrays, and until malloc's heap
 * has grown to its steady state (about 35 calls of the flux at 10^5 points) each fresh 1.6 MB array costs
 * about 390 page faults (~4 ms on this VM); the peers' scripts likewise time after warm-up.
 */
export const WARMUPS = 40;

/** Wall-time and CPU-time (user + system, all threads) statistics of repeated runs, in ms. */
export interface TimeStats {
  median: number;
  min: number;
  max: number;
  /** Median CPU time: less sensitive than wall time to other processes on a loaded machine. */
  cpu: number;
}

/** Median and (min, max) of `repeats` timed runs in ms, after `warmups` untimed runs. */
export function timeStats(fn: () => void, repeats: number, warmups = 4): TimeStats {
  for (let i = 0; i < warmups; i++) fn();
  const times: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    const cpu = process.cpuUsage(cpuStart);
    cpus.push((cpu.user + cpu.system) / 1e3);
  }
  times.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  const middle = Math.floor(times.length / 2);
  return { median: times[middle], min: times[0], max: times[times.length - 1], cpu: cpus[middle] };
}

function format(stats: TimeStats): string {
  return `${stats.median.toFixed(2)} ms (${stats.min.toFixed(2)}-${stats.max.toFixed(2)}, CPU ${stats.cpu.toFixed(2)})`;
}

/** The flux timings from scratch: forward (annotation off and taped), gradient and HVP (recording + sweeps). */
export function fluxTimings(n: number, repeats: number) {
  const rng = np.random.default_rng(0);
  const g0 = rng.normal(0, 1, [n, 2]);
  const vg = rng.normal(0, 1, [n, 2]);
  const p0 = 3.2;
  const vp = 0.3;
  let sink = 0;
  const loop = timeStats(
    () => {
      sink += objectiveLoop(g0.data, p0);
    },
    repeats,
    WARMUPS,
  );
  const forward = timeStats(
    () => {
      sink += stopAnnotating(() => objective(g0, p0)).data[0];
    },
    repeats,
    WARMUPS,
  );
  const taped = timeStats(
    () => {
      const tape = new Tape();
      sink += withTape(tape, () => objective(new np.NDArray(g0.data, g0.shape), new AdjFloat(p0))).data[0];
    },
    repeats,
    WARMUPS,
  );
  const gradient = timeStats(
    () => {
      const tape = new Tape();
      const g = new np.NDArray(g0.data, g0.shape);
      const p = new AdjFloat(p0);
      const J = withTape(tape, () => objective(g, p));
      const [dg] = computeGradient(J, [new Control(g), new Control(p)], { tape });
      sink += (dg as NDArray).data[0];
    },
    repeats,
    WARMUPS,
  );
  const hvp = timeStats(
    () => {
      const tape = new Tape();
      const g = new np.NDArray(g0.data, g0.shape);
      const p = new AdjFloat(p0);
      const J = withTape(tape, () => objective(g, p));
      const [hg] = computeHessian(J, [new Control(g), new Control(p)], [vg, vp], { tape });
      sink += (hg as NDArray).data[0];
    },
    repeats,
    WARMUPS,
  );
  // a reusable recorded program (as JAX users reuse a jitted function): the tape is recorded once, and each
  // call replays it at new inputs (g moves between two points, so no replay is skipped) and sweeps it
  const tape = new Tape();
  const gControl = new np.NDArray(g0.data, g0.shape);
  const pControl = new AdjFloat(p0);
  const J = withTape(tape, () => objective(gControl, pControl));
  const rf = new ReducedFunctional(J, [new Control(gControl), new Control(pControl)], { tape });
  const g1 = new np.NDArray(
    g0.data.map((v) => v * 1.001),
    g0.shape,
  );
  let flip = false;
  const nextPoint = (): [NDArray, number] => {
    flip = !flip;
    return [flip ? g1 : g0, p0];
  };
  const fixedGradient = timeStats(
    () => {
      rf.evaluate(nextPoint());
      const [dg] = rf.derivative();
      sink += dg.data[0];
    },
    repeats,
    WARMUPS,
  );
  const fixedHvp = timeStats(
    () => {
      rf.evaluate(nextPoint());
      const [hg] = rf.hessian([vg, vp]);
      sink += hg.data[0];
    },
    repeats,
    WARMUPS,
  );
  // the same fixed tape compiled (compileFunctional, tsadjoint's jax.jit): generated fused loops over
  // preallocated buffers replace the replay and the sweeps
  const compiled = compileFunctional(rf);
  const compiledGradient = timeStats(
    () => {
      compiled.evaluate(nextPoint());
      const [dg] = compiled.derivative();
      sink += dg.data[0];
    },
    repeats,
    WARMUPS,
  );
  const compiledHvp = timeStats(
    () => {
      compiled.evaluate(nextPoint());
      const [hg] = compiled.hessian([vg, vp]);
      sink += hg.data[0];
    },
    repeats,
    WARMUPS,
  );
  if (Number.isNaN(sink)) console.log("(sink)");
  return { loop, forward, taped, gradient, hvp, fixedGradient, fixedHvp, compiledGradient, compiledHvp };
}

/**
 * Runs the flux benchmark against the peers' reference figures and prints its table.
 *
 * @example
 * runFluxBench(); // 10^5 points: forward, gradient, HVP from scratch vs autograd / JAX eager / JAX jit
 */
export function runFluxBench(n = 1e5, repeats = 15): void {
  const t = fluxTimings(n, repeats);
  const { figures: peers, source } = peerFigures(n);
  const bestEager = (key: "forward" | "gradient" | "hvp") =>
    Math.min(peers.autograd[key], peers["JAX eager"][key]);
  const peerNote = (key: "forward" | "gradient" | "hvp") =>
    `vs autograd ${(t[key === "forward" ? "forward" : key].median / peers.autograd[key]).toFixed(2)}x, ` +
    `JAX eager ${(t[key === "forward" ? "forward" : key].median / peers["JAX eager"][key]).toFixed(2)}x, ` +
    `JAX jit ${(t[key === "forward" ? "forward" : key].median / peers["JAX jit"][key]).toFixed(2)}x`;
  const rows: Row[] = [
    { name: "plain JS loop of J (in-process baseline)", value: format(t.loop) },
    {
      name: "forward J, annotation off",
      value: `${format(t.forward)}; ${peerNote("forward")}`,
      ratio: t.forward.median / t.loop.median,
      target: "<= 2x NumPy (autograd's forward)",
      pass: t.forward.median <= 2 * peers.autograd.forward,
    },
    { name: "forward J, taped (fresh tape)", value: format(t.taped), ratio: t.taped.median / t.loop.median },
    {
      name: "gradient (g, p) from scratch",
      value: `${format(t.gradient)}; ${peerNote("gradient")}`,
      ratio: t.gradient.median / t.loop.median,
      target: "< 1x best of autograd / JAX eager",
      pass: t.gradient.median < bestEager("gradient"),
    },
    {
      name: "HVP (g, p) from scratch",
      value: `${format(t.hvp)}; ${peerNote("hvp")}`,
      ratio: t.hvp.median / t.loop.median,
      target: "< 1x best of autograd / JAX eager",
      pass: t.hvp.median < bestEager("hvp"),
    },
    {
      name: "gradient on a fixed tape (replay at new inputs + adjoint sweep)",
      value: `${format(t.fixedGradient)}; vs JAX jit ${(t.fixedGradient.median / peers["JAX jit"].gradient).toFixed(2)}x`,
      ratio: t.fixedGradient.median / t.loop.median,
      target: "<= 2x JAX jit",
      pass: t.fixedGradient.median <= 2 * peers["JAX jit"].gradient,
    },
    {
      name: "HVP on a fixed tape (replay at new inputs + TLM and Hessian sweeps)",
      value: `${format(t.fixedHvp)}; vs JAX jit ${(t.fixedHvp.median / peers["JAX jit"].hvp).toFixed(2)}x`,
      ratio: t.fixedHvp.median / t.loop.median,
      target: "<= 2x JAX jit",
      pass: t.fixedHvp.median <= 2 * peers["JAX jit"].hvp,
    },
    {
      name: "gradient, compiled (compileFunctional: evaluate at new inputs + derivative)",
      value: `${format(t.compiledGradient)}; vs JAX jit ${(t.compiledGradient.median / peers["JAX jit"].gradient).toFixed(2)}x, vs fixed tape ${(t.compiledGradient.median / t.fixedGradient.median).toFixed(2)}x`,
      ratio: t.compiledGradient.median / t.loop.median,
      target: "<= 2x JAX jit",
      pass: t.compiledGradient.median <= 2 * peers["JAX jit"].gradient,
    },
    {
      name: "HVP, compiled (compileFunctional: evaluate at new inputs + hessian)",
      value: `${format(t.compiledHvp)}; vs JAX jit ${(t.compiledHvp.median / peers["JAX jit"].hvp).toFixed(2)}x, vs fixed tape ${(t.compiledHvp.median / t.fixedHvp.median).toFixed(2)}x`,
      ratio: t.compiledHvp.median / t.loop.median,
      target: "<= 2x JAX jit",
      pass: t.compiledHvp.median <= 2 * peers["JAX jit"].hvp,
    },
  ];
  printTable(
    `flux vs peers, n = ${n} points, median wall time (min-max, median CPU time) of ${repeats}; ratio column: vs the plain JS loop; ` +
      `peer figures: ${source}`,
    rows,
  );
}
