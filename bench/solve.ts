/**
 * @file Benchmark of the solve blocks: 1-D nonlinear diffusion -(k(u) u')' = f, k(u) = 1 + a u^2, on 10^4
 * unknowns with a sparse tridiagonal Jacobian (coloring, 3 tangent sweeps per Jacobian, sparse LU). Figures are
 * ratios against the forward Newton solve measured in the same run: the gradient of J = h sum(u^2) through the
 * solve (one transposed solve with the Jacobian at the solution), and the Hessian action against the gradient.
 * The measurements are interleaved round by round and each ratio is the median of the per-round ratios, so a
 * change of machine load during the run affects numerator and denominator alike. SOLVE_BENCH_VERBOSE=1 prints
 * every round (forward, first gradient, gradient, Hessian action, first Hessian action, in ms). A second table
 * times the sparse kernels alone on 2-D grids (AMD ordering, supernodal Cholesky, Gilbert-Peierls LU, GMRES).
 */
import { AdjFloat, Control, computeGradient, computeHessian, np, Tape, withTape } from "tsadjoint";
import {
  analyzeCholesky,
  analyzeLu,
  approximateMinimumDegree,
  CsrMatrix,
  gmres,
  NonlinearSolveBlock,
  nonlinearSolve,
  SparseMatrix,
  solve,
  symmetricGraph,
  tridiagonalPattern,
} from "tsadjoint/solve";
import { diffusionOperators, diffusionResidual } from "../examples/solve.js";
import { collectGarbage, printTable, timeMedian } from "./harness.js";

function median(values: readonly number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Milliseconds taken by `fn`, after a garbage collection (with --expose-gc). */
function timed(fn: () => void): number {
  collectGarbage();
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Runs the solve benchmark on n unknowns (default 10^4) and prints the table. */
export function runSolveBench(n = 10_000, rounds = 9): void {
  const ops = diffusionOperators(n);
  const residual = diffusionResidual(ops);
  const pattern = tridiagonalPattern(n);
  const f = np.multiply(20, np.sin(np.multiply(Math.PI, ops.nodes)));
  const u0 = np.zeros([n]);

  const record = () => {
    const tape = new Tape();
    const a = new AdjFloat(1);
    const source = np.multiply(1, f);
    const u = withTape(tape, () =>
      nonlinearSolve(residual, u0, [a, source] as const, { jacobianSparsity: pattern }),
    );
    const J = withTape(tape, () => np.multiply(ops.h, np.sum(np.square(u))));
    const controls = [new Control(a), new Control(source)];
    const block = tape.blocks.find((b) => b instanceof NonlinearSolveBlock) as NonlinearSolveBlock;
    return { tape, J, controls, block, source };
  };
  type State = ReturnType<typeof record>;
  const gradientOf = ({ tape, J, controls }: State) => {
    computeGradient(J, controls, { tape });
  };
  const hessianOf = ({ tape, J, controls, source }: State) => {
    computeHessian(J, controls, [0.5, np.multiply(0.1, source)], { tape });
  };

  const samples = { forward: [] as number[], gradientFirst: [] as number[], gradient: [] as number[] };
  const more = { hessian: [] as number[], hessianFirst: [] as number[] };
  const ratios = {
    gradientFirst: [] as number[],
    gradient: [] as number[],
    hessian: [] as number[],
    hessianPerStep: [] as number[],
    first: [] as number[],
  };
  let iterations = 0;
  for (let round = 0; round <= rounds; round++) {
    let state: State | undefined;
    const forward = timed(() => {
      state = record();
    });
    const solved = state as State;
    iterations = solved.block.statistics.newtonIterations;
    // first gradient after the solve: assembles and factorizes the Jacobian at the solution (3 tangent sweeps,
    // one LU refactorization), one transposed solve, one adjoint sweep of the residual
    const gradientFirst = timed(() => gradientOf(solved));
    // later gradients and Hessian actions reuse that factorization
    const gradient = timed(() => gradientOf(solved));
    const hessian = timed(() => hessianOf(solved));
    const fresh = record();
    const hessianFirst = timed(() => hessianOf(fresh));
    if (process.env.SOLVE_BENCH_VERBOSE)
      console.log(
        [forward, gradientFirst, gradient, hessian, hessianFirst].map((t) => t.toFixed(2)).join("  "),
      );
    if (round === 0) continue; // warm-up
    samples.forward.push(forward);
    samples.gradientFirst.push(gradientFirst);
    samples.gradient.push(gradient);
    more.hessian.push(hessian);
    more.hessianFirst.push(hessianFirst);
    ratios.gradientFirst.push(gradientFirst / forward);
    ratios.gradient.push(gradient / forward);
    ratios.hessian.push(hessian / gradient);
    ratios.hessianPerStep.push(hessian / gradientFirst);
    ratios.first.push(hessianFirst / gradientFirst);
  }

  // a sparse linear solve of the same size for scale
  const values = new Float64Array(pattern.nnz).fill(-1);
  for (let i = 0; i < n; i++) values[pattern.indexOf(i, i)] = 4;
  const tridiagonal = new SparseMatrix(pattern.withValues(values));
  const b = np.ones([n]);
  const linear = timeMedian(() => {
    const tape = new Tape();
    const x = withTape(tape, () => solve(tridiagonal, b));
    computeGradient(
      withTape(tape, () => np.sum(np.square(x))),
      new Control(b),
      { tape },
    );
  });

  const ms = (values: number[]) => `${median(values).toFixed(2)} ms`;
  printTable(
    `nonlinear diffusion, n = ${n} (tridiagonal Jacobian by 3-color compression), ${rounds} rounds`,
    [
      {
        name: "forward Newton solve",
        value: `${ms(samples.forward)} (${iterations} Newton steps from u0 = 0)`,
      },
      {
        name: "gradient, first after the solve",
        value: ms(samples.gradientFirst),
        ratio: median(ratios.gradientFirst),
        target: "<= 0.5x forward",
        pass: median(ratios.gradientFirst) <= 0.5,
      },
      { name: "gradient, factorization reused", value: ms(samples.gradient), ratio: median(ratios.gradient) },
      {
        name: "Hessian action vs gradient (both first)",
        value: ms(more.hessianFirst),
        ratio: median(ratios.first),
        target: "<= 3x",
        pass: median(ratios.first) <= 3,
      },
      {
        name: "Hessian action vs gradient (both reused)",
        value: ms(more.hessian),
        ratio: median(ratios.hessian),
        target: "<= 3x",
        pass: median(ratios.hessian) <= 3,
      },
      {
        name: "Hessian action (reused) vs first gradient",
        value: ms(more.hessian),
        ratio: median(ratios.hessianPerStep),
      },
      { name: "sparse linear solve + gradient", value: `${linear.toFixed(2)} ms (tridiagonal, n = ${n})` },
    ],
  );
  runSparseKernelBench();
}

/** The 5-point Laplacian on an nx-by-ny grid (Dirichlet), with a convection term making it nonsymmetric. */
function gridOperator(nx: number, ny: number, convection: number): CsrMatrix {
  const rows: number[] = [];
  const cols: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      const k = i * ny + j;
      rows.push(k);
      cols.push(k);
      values.push(4);
      const neighbors: [number, number, number][] = [
        [i - 1, j, -1 - convection],
        [i + 1, j, -1 + convection],
        [i, j - 1, -1],
        [i, j + 1, -1],
      ];
      for (const [a, b, v] of neighbors) {
        if (a < 0 || a >= nx || b < 0 || b >= ny) continue;
        rows.push(k);
        cols.push(a * ny + b);
        values.push(v);
      }
    }
  }
  return CsrMatrix.fromTriplets(nx * ny, nx * ny, rows, cols, values);
}

/** Times the sparse kernels on 2-D grids (median of 7 runs each) and prints them. */
export function runSparseKernelBench(): void {
  const spd = gridOperator(150, 150, 0);
  const nonsymmetric = gridOperator(120, 120, 0.3);
  const small = gridOperator(70, 70, 0.3);
  const graph = symmetricGraph(spd.rows, spd.rowPtr, spd.colIndex, false);
  const cholesky = analyzeCholesky(spd);
  const lu = analyzeLu(nonsymmetric);
  const b = new Float64Array(small.rows).fill(1);
  const ms = (value: number) => `${value.toFixed(2)} ms`;
  printTable("sparse kernels (2-D 5-point grids)", [
    {
      name: "AMD ordering, Laplacian 150x150",
      value: ms(timeMedian(() => approximateMinimumDegree(graph))),
    },
    { name: "Cholesky factor, Laplacian 150x150", value: ms(timeMedian(() => cholesky.factor(spd))) },
    {
      name: "LU factor, convection-diffusion 120x120",
      value: ms(timeMedian(() => lu.factor(nonsymmetric))),
    },
    {
      name: "GMRES(30) + ILU(0), convection-diffusion 70x70",
      value: ms(timeMedian(() => gmres(small, b, { relativeTolerance: 1e-10 }))),
    },
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) runSolveBench();
