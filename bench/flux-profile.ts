/**
 * @file The flux timings alone (no peer run), for before/after comparisons and `node --cpu-prof`:
 * `node --expose-gc --conditions=tsadjoint-source --import tsx bench/flux-profile.ts [n] [repeats] [only]`,
 * where `only` (forward | gradient | hvp) repeats that one measurement `repeats` times (for a profile)
 * instead of printing the table. The table gives median wall and CPU ms and the ratio of each to the
 * plain-JS loop measured in the same process.
 */
import {
  AdjFloat,
  Control,
  computeGradient,
  computeHessian,
  np,
  stopAnnotating,
  Tape,
  withTape,
} from "tsadjoint";
import { fluxTimings, objective } from "./flux.js";

type NDArray = InstanceType<typeof np.NDArray>;

const n = Number(process.argv[2] ?? 1e5);
const repeats = Number(process.argv[3] ?? 21);
const only = process.argv[4];
if (only === undefined) {
  const t = fluxTimings(n, repeats);
  const loop = t.loop;
  for (const key of ["loop", "forward", "taped", "gradient", "hvp", "fixedGradient", "fixedHvp"] as const) {
    const s = t[key];
    console.log(
      `${key.padEnd(14)} wall ${s.median.toFixed(2).padStart(7)} ms (min ${s.min.toFixed(2)})  CPU ${s.cpu
        .toFixed(2)
        .padStart(
          7,
        )} ms   ratio wall ${(s.median / loop.median).toFixed(3)}  min ${(s.min / loop.min).toFixed(3)}`,
    );
  }
} else {
  const rng = np.random.default_rng(0);
  const g0 = rng.normal(0, 1, [n, 2]);
  const vg = rng.normal(0, 1, [n, 2]);
  let sink = 0;
  const cpus: number[] = [];
  const walls: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const cpuStart = process.cpuUsage();
    const wallStart = process.hrtime.bigint();
    if (only === "forward") sink += stopAnnotating(() => objective(g0, 3.2)).data[0];
    else {
      const tape = new Tape();
      const g = new np.NDArray(g0.data, g0.shape);
      const p = new AdjFloat(3.2);
      const J = withTape(tape, () => objective(g, p));
      const controls = [new Control(g), new Control(p)];
      const [d] =
        only === "hvp"
          ? computeHessian(J, controls, [vg, 0.3], { tape })
          : computeGradient(J, controls, { tape });
      sink += (d as NDArray).data[0];
    }
    walls.push(Number(process.hrtime.bigint() - wallStart) / 1e6);
    const cpu = process.cpuUsage(cpuStart);
    cpus.push((cpu.user + cpu.system) / 1e3);
  }
  const quantile = (list: number[], q: number) =>
    list.slice().sort((x, y) => x - y)[Math.floor(q * (list.length - 1))];
  const mean = (list: number[]) => list.reduce((x, y) => x + y, 0) / list.length;
  console.log(
    `${only}: CPU mean ${mean(cpus).toFixed(2)} median ${quantile(cpus, 0.5).toFixed(2)} p25 ${quantile(cpus, 0.25).toFixed(2)} ms; ` +
      `wall median ${quantile(walls, 0.5).toFixed(2)} p25 ${quantile(walls, 0.25).toFixed(2)} ms (sink ${sink})`,
  );
}
