/**
 * @file Before/after of the flux from scratch in ONE process (a fair comparison on a loaded machine): this
 * tree and another checkout of the repository (e.g. main) are both loaded and their runs alternate with
 * a plain-JS loop of the same J:
 * `node --expose-gc --conditions=tsadjoint-source --import tsx bench/flux-ab.ts /path/to/other/tree [forward|gradient|hvp] [rounds]`.
 * Prints wall and CPU time (mean, median, 25th percentile) of each and the ratio to the loop.
 */
import * as Here from "../src/index.js";

type Library = typeof Here;
type Mode = "forward" | "gradient" | "hvp";

const other = process.argv[2];
if (other === undefined) {
  console.error("usage: bench/flux-ab.ts /path/to/other/tree [forward|gradient|hvp] [rounds]");
  process.exit(2);
}
const mode = (process.argv[3] ?? "gradient") as Mode;
const rounds = Number(process.argv[4] ?? 40);
const There = (await import(`${other}/src/index.ts`)) as Library;
const n = 1e5;

/** One run of the flux in `mode` with library `lib`, returning a number (kept, so nothing is skipped). */
function fluxRun(lib: Library): () => number {
  const { np, AdjFloat, Tape, withTape, Control, computeGradient, computeHessian, stopAnnotating } = lib;
  type Array = InstanceType<typeof np.NDArray>;
  const rng = np.random.default_rng(0);
  const g0 = rng.normal(0, 1, [n, 2]);
  const vg = rng.normal(0, 1, [n, 2]);
  const objective = (g: Array, p: InstanceType<typeof AdjFloat> | number): Array => {
    const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
    const f = np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
    return np.sum(np.power(f, 2));
  };
  return () => {
    if (mode === "forward") return stopAnnotating(() => objective(g0, 3.2)).data[0];
    const tape = new Tape();
    const g = new np.NDArray(g0.data, g0.shape);
    const p = new AdjFloat(3.2);
    const J = withTape(tape, () => objective(g, p));
    const controls = [new Control(g), new Control(p)];
    const [d] =
      mode === "hvp"
        ? computeHessian(J, controls, [vg, 0.3], { tape })
        : computeGradient(J, controls, { tape });
    return (d as Array).data[0];
  };
}

/** The same J as one plain-JS loop (the in-process baseline, as bench/flux.ts). */
function loopRun(): () => number {
  const g = Here.np.random.default_rng(0).normal(0, 1, [n, 2]).data;
  return () => {
    const exponent = (3.2 - 2) / 2;
    let total = 0;
    for (let k = 0; k < g.length; k += 2) {
      const mu = (g[k] * g[k] + g[k + 1] * g[k + 1] + 1e-12) ** exponent;
      const f0 = mu * g[k];
      const f1 = mu * g[k + 1];
      total += f0 * f0 + f1 * f1;
    }
    return total;
  };
}

const runs: Record<string, () => number> = { other: fluxRun(There), here: fluxRun(Here), loop: loopRun() };
const cpu: Record<string, number[]> = { other: [], here: [], loop: [] };
const wall: Record<string, number[]> = { other: [], here: [], loop: [] };
let sink = 0;
for (let r = 0; r < rounds + 4; r++) {
  for (const key of r % 2 === 0 ? ["here", "other", "loop"] : ["other", "here", "loop"]) {
    const cpuStart = process.cpuUsage();
    const wallStart = process.hrtime.bigint();
    sink += runs[key]();
    const used = process.cpuUsage(cpuStart);
    if (r < 4) continue; // warm-up rounds
    wall[key].push(Number(process.hrtime.bigint() - wallStart) / 1e6);
    cpu[key].push((used.user + used.system) / 1e3);
  }
}
const quantile = (list: number[], q: number) =>
  list.slice().sort((x, y) => x - y)[Math.floor(q * (list.length - 1))];
const mean = (list: number[]) => list.reduce((x, y) => x + y, 0) / list.length;
for (const key of ["loop", "other", "here"]) {
  const w = wall[key];
  const c = cpu[key];
  console.log(
    `${mode} ${key.padEnd(5)} wall mean ${mean(w).toFixed(2)} median ${quantile(w, 0.5).toFixed(2)} p25 ${quantile(w, 0.25).toFixed(2)}` +
      ` | CPU mean ${mean(c).toFixed(2)} median ${quantile(c, 0.5).toFixed(2)} p25 ${quantile(c, 0.25).toFixed(2)} ms` +
      ` | vs loop (median wall) ${(quantile(w, 0.5) / quantile(wall.loop, 0.5)).toFixed(2)}x`,
  );
}
if (Number.isNaN(sink)) console.log("(sink)");
