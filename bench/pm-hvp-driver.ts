/** @file Driver: repeats the numpy bench's pointMap Hessian action (profiling / hashing). */
import { createHash } from "node:crypto";
import { AdjFloat, Control, np, pointMap, ReducedFunction, Tape, withTape } from "tsadjoint";

type NDArray = InstanceType<typeof np.NDArray>;
function fluxBody(_u: NDArray, g: NDArray, p: AdjFloat | number): NDArray {
  const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
  return np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
}
const flux = pointMap([[-1], [-1, 2], []], [-1, 2], { bare: true })(fluxBody);
const n = 100000;
const rng = np.random.default_rng(5);
const u = rng.normal(0, 1, [n]);
const g = rng.uniform(0.5, 1.5, [n, 2]);
const p = new AdjFloat(3.5);
const tape = new Tape();
const q = withTape(tape, () => (process.env.PLAIN === "1" ? fluxBody(u, g, p) : flux(u, g, p)));
const rf = new ReducedFunction(q, [new Control(g), new Control(p)], { tape });
const w = rng.uniform(-1, 1, [n, 2]);
const dg = rng.uniform(-1, 1, [n, 2]);
const mode = process.argv[2] ?? "hash";
const iters = Number(process.argv[3] ?? 50);
const h = createHash("sha256");
function feed(r: unknown): void {
  for (const x of r as unknown[]) {
    if (x instanceof np.NDArray)
      h.update(new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength));
    else h.update(String((x as AdjFloat).value ?? x));
  }
}
rf.evaluate([g, p]);
const cpu0 = process.cpuUsage();
const times: number[] = [];
const dtimes: number[] = [];
for (let i = 0; i < iters; i++) {
  let t = performance.now();
  const r = rf.hessAction([dg, 0.5], w);
  times.push(performance.now() - t);
  if (i < 3) feed(r);
  if (mode === "both") {
    t = performance.now();
    rf.adjJacAction(w);
    dtimes.push(performance.now() - t);
  }
}
const cpu = process.cpuUsage(cpu0);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(
  `hash ${h.digest("hex").slice(0, 16)} hvp median ${med(times).toFixed(2)} ms` +
    (dtimes.length
      ? ` deriv ${med(dtimes).toFixed(2)} ms ratio ${(med(times) / med(dtimes)).toFixed(2)}`
      : "") +
    ` cpu ${((cpu.user + cpu.system) / 1000 / iters).toFixed(2)} ms/iter`,
);
