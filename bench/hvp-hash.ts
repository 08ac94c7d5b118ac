/**
 * @file Bit-exact hashes of the flux HVP from scratch (computeHessian) and of ReducedFunctional.hessian at a few
 * sizes, plus the bytes of ArrayBuffers allocated per HVP: `node --conditions=tsadjoint-source --import tsx
 * bench/hvp-hash.ts` (run before and after a sweep change and compare).
 */
import { AdjFloat, Control, computeHessian, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { objective } from "./flux.js";

type NDArray = InstanceType<typeof np.NDArray>;

function hash(values: Float64Array, h = 0x811c9dc5): number {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let x = h;
  for (let i = 0; i < bytes.length; i++) x = Math.imul(x ^ bytes[i], 16777619) >>> 0;
  return x;
}

for (const n of [7, 1000, 100000]) {
  const rng = np.random.default_rng(n);
  const g0 = rng.normal(0, 1, [n, 2]);
  const vg = rng.normal(0, 1, [n, 2]);
  let h = 0x811c9dc5;
  for (let r = 0; r < 3; r++) {
    const tape = new Tape();
    const g = new np.NDArray(g0.data, g0.shape);
    const p = new AdjFloat(3.2);
    const J = withTape(tape, () => objective(g, p));
    const controls = [new Control(g), new Control(p)];
    const [dg, dp] = computeHessian(J, controls, [vg, 0.3], { tape });
    h = hash((dg as NDArray).data, h);
    h = hash(Float64Array.of((dp as AdjFloat).value), h);
    const rf = new ReducedFunctional(J, controls, { tape });
    const [eg, ep] = rf.hessian([vg, 0.3 + r]);
    h = hash((eg as NDArray).data, h);
    h = hash(Float64Array.of((ep as AdjFloat).value), h);
  }
  console.log(`n=${n} hash ${h.toString(16)}`);
}
