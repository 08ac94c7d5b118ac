/** A time loop with blocks of every kind inside each step, recorded with or without checkpointing. */

import {
  AdjFloat,
  Control,
  np,
  type OverloadedValue,
  overloadFunction,
  pointMap,
  ReducedFunction,
  ReducedFunctional,
  Tape,
  withTape,
} from "tsadjoint";
import type { CheckpointSchedule } from "tsadjoint/checkpoint";
import { nonlinearSolve, solve } from "tsadjoint/solve";

type NDArray = InstanceType<typeof np.NDArray>;

const n = 5;

/** y = sin(x) a, rules by hand (an overloadFunction block). */
const scaledSine = overloadFunction((x: NDArray, a: number) => mapArrays((v) => Math.sin(v) * a, x), {
  name: "scaledSine",
  jvp: ({ inputs: [x, a], tangents: [dx, da] }) =>
    mapArrays((v, d) => Math.cos(v) * (a as number) * d + Math.sin(v) * ((da as number) ?? 0), x, dx),
  vjp: ({ inputs: [x, a], cotangents: [ybar] }) => [
    mapArrays((v, w) => Math.cos(v) * (a as number) * w, x, ybar),
    sumOf(mapArrays((v, w) => Math.sin(v) * w, x, ybar)),
  ],
  hvp: ({ inputs: [x, a], tangents: [dx, da], cotangents: [ybar] }) => [
    mapArrays(
      (v, d, w) => w * (-Math.sin(v) * (a as number) * d + Math.cos(v) * ((da as number) ?? 0)),
      x,
      dx,
      ybar,
    ),
    sumOf(mapArrays((v, d, w) => w * Math.cos(v) * d, x, dx, ybar)),
  ],
});

function mapArrays(f: (...values: number[]) => number, ...arrays: unknown[]): NDArray {
  const list = arrays.map((a) => (a === undefined ? undefined : (a as NDArray)));
  const first = list[0] as NDArray;
  const data = new Float64Array(first.size);
  for (let i = 0; i < data.length; i++) data[i] = f(...list.map((a) => (a === undefined ? 0 : a.data[i])));
  return new np.NDArray(data, first.shape);
}

function sumOf(a: NDArray): number {
  let total = 0;
  for (const v of a.data) total += v;
  return total;
}

/** Per point: tanh(u p) (a pointMap block with a nested tape). */
const pointTanh = pointMap([[-1], []], [-1], { bare: true })((u: NDArray, p: AdjFloat | number) =>
  np.tanh(np.multiply(u, p)),
);

/** The implicit diffusion matrix I + 0.1 L (L the 1-D Laplacian). */
function diffusionMatrix(): NDArray {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(n).fill(0);
    row[i] = 1.2;
    if (i > 0) row[i - 1] = -0.1;
    if (i < n - 1) row[i + 1] = -0.1;
    rows.push(row);
  }
  return np.array(rows);
}

export interface Program {
  tape: Tape;
  controls: Control[];
  J: AdjFloat | NDArray;
  u: NDArray;
  rf: ReducedFunctional<Control[]>;
  rfun: ReducedFunction<OverloadedValue[], Control[]>;
}

/**
 * Records `steps` steps of u <- solve(A, v) with v from a nonlinear solve of v^3/3 + v = u + dt (..) with
 * np ops, a pointMap and an overloadFunction, J accumulated every step; u0, p and c are the controls. `kinds`
 * chooses the blocks used (all by default).
 */
export function record(
  steps: number,
  schedule?: CheckpointSchedule,
  kinds: { nonlinear?: boolean; pointMap?: boolean; custom?: boolean; linear?: boolean } = {},
): Program {
  const tape = new Tape();
  const useNonlinear = kinds.nonlinear ?? true;
  const usePointMap = kinds.pointMap ?? true;
  const useCustom = kinds.custom ?? true;
  const useLinear = kinds.linear ?? true;
  const u0 = np.array([0.3, -0.2, 0.5, 0.1, -0.4]);
  const p = new AdjFloat(0.7);
  const c = np.array([1, 0.5, -0.3, 0.8, 0.2]);
  const A = diffusionMatrix();
  const dt = 0.05;
  return withTape(tape, () => {
    // before the loop: a block depending on a control
    const k = np.multiply(c, 0.1);
    if (schedule !== undefined) tape.enableCheckpointing(schedule);
    let u: NDArray = u0;
    let J: AdjFloat | NDArray = new AdjFloat(0);
    let first: NDArray | undefined;
    for (const t of tape.timestepper(steps)) {
      let rate = np.add(np.multiply(np.negative(p), np.power(u, 3)), np.multiply(k, np.sin(u)));
      if (usePointMap) rate = np.add(rate, np.multiply(0.5, pointTanh(u, p)));
      if (useCustom) rate = np.add(rate, scaledSine(u, p));
      // a value of the first step read by every later one (across many step boundaries)
      if (first !== undefined) rate = np.add(rate, np.multiply(0.01, first));
      let v = np.add(u, np.multiply(dt, rate));
      if (useNonlinear) {
        const w = v;
        v = nonlinearSolve(
          (x: NDArray, r: NDArray) => np.subtract(np.add(np.divide(np.power(x, 3), 3), x), r),
          w,
          [w] as const,
          {
            jacobianSparsity: "diagonal",
            absoluteTolerance: 1e-14,
            relativeTolerance: 1e-14,
          },
        );
      }
      u = useLinear ? solve(A, v) : v;
      if (t === 0) first = u;
      J = np.add(J, np.multiply(dt * (1 + 0.01 * t), np.sum(np.square(u))));
    }
    // after the loop
    J = np.add(J, np.sum(np.multiply(c, np.square(u))));
    const controls = [new Control(u0), new Control(p), new Control(c)];
    const rf = new ReducedFunctional(J, controls, { tape });
    const rfun = new ReducedFunction([u, J] as OverloadedValue[], controls, { tape });
    return { tape, controls, J, u, rf, rfun };
  });
}
