/**
 * @file Example: differentiable linear and nonlinear solves. A dense and a sparse linear solve with gradients
 * with respect to the matrix and the right-hand side, then 1-D nonlinear diffusion -(k(u) u')' = f with
 * k(u) = 1 + a u^2 solved by Newton (sparse tridiagonal Jacobian by coloring) and differentiated with
 * respect to a and f through ONE adjoint solve.
 */
import {
  AdjFloat,
  Control,
  computeGradient,
  np,
  ReducedFunctional,
  Tape,
  taylorTest,
  withTape,
} from "tsadjoint";
import {
  CsrMatrix,
  matvec,
  nonlinearSolve,
  SparseMatrix,
  solve,
  sparseMatrix,
  tridiagonalPattern,
} from "tsadjoint/solve";

/** The finite-difference operators of 1-D diffusion on (0, 1) with u(0) = u(1) = 0 and n interior nodes. */
export interface DiffusionOperators {
  /** Number of unknowns. */
  readonly n: number;
  /** Grid spacing 1 / (n + 1). */
  readonly h: number;
  /** Interior nodes x_i = (i + 1) h. */
  readonly nodes: np.NDArray;
  /** Edge gradients (u_e - u_{e-1}) / h, (n + 1) x n. */
  readonly gradient: SparseMatrix;
  /** Its transpose (the divergence up to sign), n x (n + 1). */
  readonly divergence: SparseMatrix;
  /** Edge averages (u_e + u_{e-1}) / 2, (n + 1) x n. */
  readonly average: SparseMatrix;
}

/**
 * The sparse operators of the 1-D problem on n interior nodes.
 *
 * @example
 * const ops = diffusionOperators(100);
 */
export function diffusionOperators(n: number): DiffusionOperators {
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
  const gradient = CsrMatrix.fromTriplets(n + 1, n, rows, cols, gradientValues);
  const average = CsrMatrix.fromTriplets(n + 1, n, rows, cols, new Float64Array(rows.length).fill(0.5));
  return {
    n,
    h,
    nodes: np.linspace(h, 1 - h, n),
    gradient: new SparseMatrix(gradient),
    divergence: new SparseMatrix(gradient.transpose()),
    average: new SparseMatrix(average),
  };
}

/**
 * The residual F(u; a, f) = G^T ((1 + a (M u)^2) (G u)) - f of -(k(u) u')' = f, k(u) = 1 + a u^2, with G the
 * edge gradient and M the edge average. Its Jacobian is tridiagonal.
 *
 * @example
 * const F = diffusionResidual(diffusionOperators(50));
 */
export function diffusionResidual(
  ops: DiffusionOperators,
): (u: np.NDArray, a: AdjFloat | number, f: np.NDArray) => np.NDArray {
  return (u, a, f) => {
    const k = np.add(1, np.multiply(a, np.square(matvec(ops.average, u))));
    const flux = np.multiply(k, matvec(ops.gradient, u));
    return np.subtract(matvec(ops.divergence, flux), f);
  };
}

/**
 * Runs the three solves and returns their gradients and Taylor rates.
 *
 * @example
 * const { nonlinear } = solveExample();
 * nonlinear.taylorRate; // about 2
 */
export function solveExample(n = 100) {
  // 1. Dense: x = A^-1 b, J = sum(x^2); dJ/db = 2 A^-T x, dJ/dA = -2 (A^-T x) x^T.
  const dense = (() => {
    const tape = new Tape();
    const A = np.array([
      [4, 1, 0],
      [1, 3, -1],
      [0, -1, 2],
    ]);
    const b = np.array([1, 2, 3]);
    const J = withTape(tape, () => np.sum(np.square(solve(A, b))));
    const [dA, db] = computeGradient(J, [new Control(A), new Control(b)], { tape });
    return { value: J.item(), dJdA: dA.toArray(), dJdb: db.toArray() };
  })();

  // 2. Sparse: a tridiagonal matrix assembled from recorded triplet values (duplicates summed).
  const sparse = (() => {
    const tape = new Tape();
    const size = 5;
    const rows: number[] = [];
    const cols: number[] = [];
    for (let i = 0; i < size; i++) {
      for (const j of [i - 1, i, i + 1]) {
        if (j < 0 || j >= size) continue;
        rows.push(i);
        cols.push(j);
      }
    }
    const theta = np.array(rows.map((i, t) => (i === cols[t] ? 4 : -1)));
    const b = np.ones([size]);
    const J = withTape(tape, () => np.sum(np.square(solve(sparseMatrix(size, size, rows, cols, theta), b))));
    const rf = new ReducedFunctional(J, [new Control(theta), new Control(b)], { tape });
    const direction = [np.multiply(0.1, np.ones([rows.length])), np.linspace(-1, 1, size)];
    return {
      value: J.item(),
      taylorRate: taylorTest(rf, [theta, b], direction),
      taylorRateHessian: taylorTest(rf, [theta, b], direction, { hessian: true }),
    };
  })();

  // 3. Nonlinear diffusion, n unknowns, parameters a (in k) and f (the source).
  const nonlinear = (() => {
    const tape = new Tape();
    const ops = diffusionOperators(n);
    const a = new AdjFloat(1);
    const f = np.multiply(20, np.sin(np.multiply(Math.PI, ops.nodes)));
    let iterations = 0;
    const u = withTape(tape, () =>
      nonlinearSolve(diffusionResidual(ops), np.zeros([n]), [a, f] as const, {
        jacobianSparsity: tridiagonalPattern(n),
        callback: ({ iteration }) => {
          iterations = iteration;
        },
      }),
    );
    const J = withTape(tape, () => np.multiply(ops.h, np.sum(np.square(u))));
    const rf = new ReducedFunctional(J, [new Control(a), new Control(f)], { tape });
    const [dJda, dJdf] = rf.derivative();
    const direction = [0.5, np.multiply(2, np.cos(np.multiply(3, ops.nodes)))];
    return {
      value: J.item(),
      newtonIterations: iterations,
      dJda: dJda.value,
      dJdfNorm: Math.sqrt(np.sum(np.square(dJdf)).item()),
      taylorRate: taylorTest(rf, [1, f], direction),
      taylorRateHessian: taylorTest(rf, [1, f], direction, { hessian: true }),
    };
  })();
  return { dense, sparse, nonlinear };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { dense, sparse, nonlinear } = solveExample();
  console.log("dense solve: J = sum(x^2), x = A^-1 b");
  console.log(
    `  J = ${dense.value.toFixed(12)}, dJ/db = [${(dense.dJdb as number[]).map((v) => v.toFixed(6)).join(", ")}]`,
  );
  console.log("sparse solve from recorded triplet values");
  console.log(
    `  Taylor rates: gradient ${sparse.taylorRate.toFixed(3)}, Hessian ${sparse.taylorRateHessian.toFixed(3)}`,
  );
  console.log(
    "nonlinear diffusion -(k(u) u')' = f, k = 1 + a u^2 (Newton, tridiagonal Jacobian by coloring)",
  );
  console.log(`  J = ${nonlinear.value.toFixed(12)} after ${nonlinear.newtonIterations} Newton steps`);
  console.log(`  dJ/da = ${nonlinear.dJda.toFixed(10)}, |dJ/df| = ${nonlinear.dJdfNorm.toFixed(10)}`);
  console.log(
    `  Taylor rates: gradient ${nonlinear.taylorRate.toFixed(3)}, Hessian ${nonlinear.taylorRateHessian.toFixed(3)}`,
  );
}
