/**
 * @file Browser suite "numpy": a representative set of `tsadjoint/numpy` operations (elementwise with
 * broadcasting, reductions, linear algebra, shape functions) run through the rule checker (recompute, TLM
 * against finite differences, the dot-product test, Taylor rates 1, 2, 3), plus a composite program's
 * Taylor test and the seed's flux through `compileFunctional` (generated code) against the uncompiled tape. Runs unchanged in Chromium and in Node and returns plain JSON.
 */
import {
  AdjFloat,
  Control,
  checkRule,
  compileFunctional,
  type OverloadedValue,
  ReducedFunctional,
  type RuleCheckReport,
  Tape,
  taylorToDict,
  withTape,
} from "tsadjoint";
import * as np from "tsadjoint/numpy";

type Fn = (...inputs: OverloadedValue[]) => OverloadedValue;
const A = (value: OverloadedValue) => value as np.NDArray;

/** The checked operations: a name, the function of the inputs, the input shapes. */
const cases: ReadonlyArray<{ name: string; fn: Fn; shapes: number[][]; positive?: boolean }> = [
  { name: "exp", fn: (x) => np.exp(A(x)), shapes: [[3, 2]] },
  { name: "log", fn: (x) => np.log(A(x)), shapes: [[4]], positive: true },
  { name: "sin", fn: (x) => np.sin(A(x)), shapes: [[2, 3]] },
  { name: "tanh", fn: (x) => np.tanh(A(x)), shapes: [[5]] },
  { name: "power (broadcast)", fn: (x, p) => np.power(A(x), A(p)), shapes: [[3, 2], [2]], positive: true },
  { name: "arctan2 (broadcast)", fn: (y, x) => np.arctan2(A(y), A(x)), shapes: [[2, 3], [3]] },
  {
    name: "multiply (broadcast)",
    fn: (x, y) => np.multiply(A(x), A(y)),
    shapes: [
      [4, 1],
      [1, 3],
    ],
  },
  { name: "sum axis 1", fn: (x) => np.sum(A(x), 1), shapes: [[3, 4]] },
  { name: "max axis 0", fn: (x) => np.max(A(x), 0), shapes: [[3, 4]] },
  { name: "prod", fn: (x) => np.prod(A(x)), shapes: [[5]] },
  { name: "cumsum", fn: (x) => np.cumsum(A(x), 0), shapes: [[4, 2]] },
  { name: "norm", fn: (x) => np.norm(A(x)), shapes: [[3, 3]] },
  {
    name: "matmul",
    fn: (a, b) => np.matmul(A(a), A(b)),
    shapes: [
      [3, 4],
      [4, 2],
    ],
  },
  {
    name: "einsum ij,jk->ik",
    fn: (a, b) => np.einsum("ij,jk->ik", A(a), A(b)),
    shapes: [
      [2, 3],
      [3, 2],
    ],
  },
  {
    name: "linalg.inv",
    fn: (a) => np.linalg.inv(np.add(A(a), np.multiply(4, np.eye(3)))),
    shapes: [[3, 3]],
  },
  {
    name: "linalg.det",
    fn: (a) => np.linalg.det(np.add(A(a), np.multiply(3, np.eye(3)))),
    shapes: [[3, 3]],
  },
  {
    name: "linalg.cholesky",
    fn: (a) => np.linalg.cholesky(np.add(np.matmul(A(a), np.transpose(A(a))), np.multiply(3, np.eye(3)))),
    shapes: [[3, 3]],
  },
  { name: "reshape + transpose", fn: (x) => np.transpose(np.reshape(A(x), [3, 4])), shapes: [[2, 6]] },
  {
    name: "concatenate",
    fn: (x, y) => np.concatenate([A(x), A(y)], 1),
    shapes: [
      [2, 2],
      [2, 3],
    ],
  },
  {
    name: "slice",
    fn: (x) =>
      np.slice(A(x), [
        { start: 1, stop: 4, step: 2 },
        { start: 0, stop: 2 },
      ]),
    shapes: [[5, 3]],
  },
  { name: "clip", fn: (x) => np.clip(A(x), -0.7, 0.8), shapes: [[6]] },
];

/** What one rule check measured. */
export interface CaseReport extends RuleCheckReport {
  name: string;
}

/**
 * Runs every case through `checkRule` at seeded random inputs, then a composite program's Taylor test.
 *
 * @example
 * const { cases } = run();
 * cases.every((c) => c.rateR1 > 1.9);
 */
export function run() {
  const rng = np.random.default_rng(7);
  const reports: CaseReport[] = cases.map((c, i) => {
    const inputs = c.shapes.map((shape) => {
      const x = rng.uniform(-1, 1, shape);
      return c.positive ? np.add(np.absolute(x), 0.5) : x;
    });
    return { name: c.name, ...checkRule(c.fn, inputs, { seed: i + 1 }) };
  });

  // a composite program: J(x, w) = mean(tanh(x @ w)^2) + log(1 + |w|^2)
  const tape = new Tape();
  const x = rng.normal(0, 1, [6, 4]);
  const w = rng.normal(0, 0.5, [4]);
  const J = withTape(tape, () =>
    np.add(np.mean(np.square(np.tanh(np.matmul(x, w)))), np.log(np.add(1, np.sum(np.square(w))))),
  );
  const rf = new ReducedFunctional(J, [new Control(x), new Control(w)], { tape });
  const h = [rng.normal(0, 1, [6, 4]), rng.normal(0, 1, [4])];
  const report = taylorToDict(rf, [x, w], h, { hessian: true });
  const gradient = (rf.derivative() as np.NDArray[]).map((g) => Array.from(g.data));
  return {
    compiled: compiledFlux(),
    cases: reports,
    composite: {
      value: J.item(),
      gradient,
      R0: report.R0.rates,
      R1: report.R1.rates,
      R2: report.R2?.rates ?? [],
      blocks: tape.blocks.length,
    },
  };
}

/** Plain numbers of a derivative (an NDArray's entries, an AdjFloat's value). */
function numbers(values: readonly unknown[]): number[][] {
  return values.map((v) => (v instanceof AdjFloat ? [v.value] : Array.from((v as np.NDArray).data)));
}

/**
 * The seed's flux J = sum((|g|^2 + 1e-12)^((p-2)/2) g)^2 on 200 points, compiled with `compileFunctional`
 * and uncompiled, each evaluated at a new point: value, gradient and Hessian action of both.
 */
function compiledFlux() {
  const rng = np.random.default_rng(11);
  const n = 200;
  const g = rng.normal(0, 1, [n, 2]);
  const p = new AdjFloat(3.2);
  const tape = new Tape();
  const J = withTape(tape, () => {
    const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
    return np.sum(np.power(np.multiply(np.reshape(mu, [n, 1]), g), 2));
  });
  const rf = new ReducedFunctional(J, [new Control(g), new Control(p)], { tape });
  const compiled = compileFunctional(rf);
  const point: [np.NDArray, number] = [np.multiply(g, 0.9), 2.7];
  const direction: [np.NDArray, number] = [rng.normal(0, 1, [n, 2]), 0.3];
  const run = (f: typeof rf | typeof compiled) => ({
    value: f.evaluate(point),
    gradient: numbers(f.derivative()),
    hessian: numbers(f.hessian(direction)),
  });
  const compiledResult = run(compiled);
  return { mode: compiled.stats.mode, compiled: compiledResult, uncompiled: run(rf) };
}
