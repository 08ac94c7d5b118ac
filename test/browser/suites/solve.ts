/**
 * @file Browser suite "solve": `tsadjoint/solve` in the browser. A sparse linear solve whose matrix is
 * assembled from recorded triplet values (sparse Cholesky), the same system by CG and by LU, and a 1-D
 * nonlinear diffusion -(k(u) u')' = f, k = 1 + a u^2, solved by Newton with a colored tridiagonal Jacobian
 * and differentiated through one adjoint solve, each with Taylor tests. Runs unchanged in Chromium and Node.
 */
import { AdjFloat, Control, np, ReducedFunctional, Tape, taylorToDict, withTape } from "tsadjoint";
import {
  CsrMatrix,
  matvec,
  nonlinearSolve,
  SparseMatrix,
  solve,
  sparseMatrix,
  tridiagonalPattern,
} from "tsadjoint/solve";

function rates(report: ReturnType<typeof taylorToDict>) {
  return { R0: report.R0.rates, R1: report.R1.rates, R2: report.R2?.rates ?? [] };
}

/** The sparse linear solve: J = sum(x^2), A(theta) x = b, A tridiagonal [-1, 4, -1] of size n. */
function sparseLinear(n: number) {
  const rows: number[] = [];
  const cols: number[] = [];
  for (let i = 0; i < n; i++) {
    for (const j of [i - 1, i, i + 1]) {
      if (j < 0 || j >= n) continue;
      rows.push(i);
      cols.push(j);
    }
  }
  const theta = np.array(rows.map((i, t) => (i === cols[t] ? 4 : -1)));
  const b = np.sin(np.linspace(0, 3, n));
  const byMethod: Record<string, number[]> = {};
  for (const method of ["cholesky", "lu", "cg"] as const) {
    const x = solve(sparseMatrix(n, n, rows, cols, theta), b, { method });
    byMethod[method] = Array.from(x.data);
  }
  const tape = new Tape();
  const J = withTape(tape, () => np.sum(np.square(solve(sparseMatrix(n, n, rows, cols, theta), b))));
  const rf = new ReducedFunctional(J, [new Control(theta), new Control(b)], { tape });
  const [dTheta, db] = rf.derivative() as np.NDArray[];
  const direction = [np.multiply(0.1, np.cos(np.arange(rows.length))), np.linspace(-1, 1, n)];
  return {
    value: J.item(),
    solutions: byMethod,
    gradient: [Array.from(dTheta.data), Array.from(db.data)],
    taylor: rates(taylorToDict(rf, [theta, b], direction, { hessian: true })),
  };
}

/** 1-D nonlinear diffusion on n interior nodes, J = h sum(u^2), controls a and f. */
function nonlinearDiffusion(n: number) {
  const h = 1 / (n + 1);
  const rows: number[] = [];
  const cols: number[] = [];
  const gradientValues: number[] = [];
  for (let e = 0; e <= n; e++) {
    if (e < n) {
      rows.push(e);
      cols.push(e);
      gradientValues.push(1 / h);
    }
    if (e > 0) {
      rows.push(e);
      cols.push(e - 1);
      gradientValues.push(-1 / h);
    }
  }
  const G = CsrMatrix.fromTriplets(n + 1, n, rows, cols, gradientValues);
  const M = CsrMatrix.fromTriplets(n + 1, n, rows, cols, new Float64Array(rows.length).fill(0.5));
  const gradient = new SparseMatrix(G);
  const divergence = new SparseMatrix(G.transpose());
  const average = new SparseMatrix(M);
  const residual = (u: np.NDArray, a: AdjFloat | number, f: np.NDArray) => {
    const k = np.add(1, np.multiply(a, np.square(matvec(average, u))));
    return np.subtract(matvec(divergence, np.multiply(k, matvec(gradient, u))), f);
  };
  const nodes = np.linspace(h, 1 - h, n);
  const tape = new Tape();
  const a = new AdjFloat(1);
  // f = 80 x (1 - x): plain arithmetic. Math.sin of Node 20's V8 and of Chromium's V8 differ by one unit in
  // the last place at a few percent of points, and the adjoint solve (condition number about 1e3 here)
  // would amplify that past 1e-14; with arithmetic only, browser and Node must agree to round-off.
  const f = np.multiply(80, np.multiply(nodes, np.subtract(1, nodes)));
  let iterations = 0;
  const u = withTape(tape, () =>
    nonlinearSolve(residual, np.zeros([n]), [a, f] as const, {
      jacobianSparsity: tridiagonalPattern(n),
      callback: ({ iteration }) => {
        iterations = iteration;
      },
    }),
  );
  const J = withTape(tape, () => np.multiply(h, np.sum(np.square(u))));
  const rf = new ReducedFunctional(J, [new Control(a), new Control(f)], { tape });
  const [dJda, dJdf] = rf.derivative() as [AdjFloat, np.NDArray];
  const direction = [0.5, np.multiply(2, np.subtract(np.square(nodes), 0.3))];
  return {
    value: J.item(),
    newtonIterations: iterations,
    u: Array.from(u.data),
    dJda: dJda.value,
    dJdf: Array.from(dJdf.data),
    taylor: rates(taylorToDict(rf, [1, f], direction, { hessian: true })),
  };
}

/**
 * Runs the sparse linear and the nonlinear solve with their gradients and Taylor tests.
 *
 * @example
 * const { nonlinear } = run();
 * nonlinear.taylor.R1; // about [2, 2, 2]
 */
export function run(n = 100) {
  return { sparse: sparseLinear(40), nonlinear: nonlinearDiffusion(n) };
}
