/**
 * @file The Newton Jacobian from per-point Jacobian stacks (ResidualTape.stackJacobian, findStackPlan,
 * StackAssembler): equal to the colored sweeps' and to the dense tangent columns on the flagship residual and
 * on a small custom one, the residuals it must leave to the colored sweeps, and nonlinearSolve using it.
 */
import { AdjFloat, NDArray, np, pointMap, Tape, withTape } from "tsadjoint";
import { fluxResidual, loadVector, p1Space, solveFlux, unitSquareMesh } from "tsadjoint/fem";
import { CsrMatrix, matvec, NonlinearSolveBlock, nonlinearSolve, SparseMatrix } from "tsadjoint/solve";
import { describe, expect, it } from "vitest";
import { ResidualTape } from "../../src/solve/residual-tape.js";
import { seededRandom } from "./helpers.js";

/** The flagship's power law q = k (|g|^2 + eps)^((p-2)/2) g as one point map. */
const powerLaw = pointMap([[-1, 2], [], []], [-1, 2], { bare: true, name: "powerLaw" })(
  (g: NDArray, p: AdjFloat | number, k: AdjFloat | number): NDArray => {
    const s = np.add(np.sum(np.multiply(g, g), 1), 1e-8);
    const mu = np.multiply(np.power(s, np.divide(np.subtract(p, 2), 2)), k);
    return np.multiply(np.reshape(mu, [g.shape[0], 1]), g);
  },
);

/** max |a - b| / max |b| over the entries. */
function relativeDifference(a: Float64Array, b: Float64Array): number {
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    difference = Math.max(difference, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return difference / scale;
}

/** The Jacobian from stacks, from the colored sweeps and from dense tangent columns, at u. */
function threeJacobians(tape: ResidualTape, pattern: CsrMatrix, u: NDArray) {
  tape.evaluate(u, tape.initialInputs);
  const stacks = tape.stackJacobian(pattern);
  if (stacks === undefined) throw new Error("no stack Jacobian");
  const fromStacks = stacks.values.slice();
  const { coloring, seeds } = tape.compression(pattern);
  const colored = tape.sparseJacobian(pattern, coloring, seeds).values.slice();
  const dense = tape.denseJacobian().data;
  const onPattern = new Float64Array(pattern.nnz);
  for (let i = 0; i < pattern.rows; i++) {
    for (let s = pattern.rowPtr[i]; s < pattern.rowPtr[i + 1]; s++)
      onPattern[s] = dense[i * pattern.cols + pattern.colIndex[s]];
  }
  return { fromStacks, colored, dense: onPattern };
}

describe("ResidualTape.stackJacobian", () => {
  it("equals the colored and the dense Jacobian on the flagship residual (P1 power law)", () => {
    const space = p1Space(unitSquareMesh(6));
    const n = space.mesh.unknownCount;
    const load = loadVector(space.mesh, (x) => 0.5 + 20 * x ** 3);
    const residual = fluxResidual(
      space,
      (g, p: AdjFloat | number, k: AdjFloat | number) => powerLaw(g, p, k),
      { load },
    );
    const random = seededRandom(11);
    const u0 = new NDArray(
      Float64Array.from({ length: n }, () => random() - 0.5),
      [n],
    );
    const tape = new ResidualTape(residual, u0, [new AdjFloat(3.4), new AdjFloat(0.8)], "test");
    for (let repeat = 0; repeat < 3; repeat++) {
      const u = new NDArray(
        Float64Array.from({ length: n }, () => random() - 0.5),
        [n],
      );
      const { fromStacks, colored, dense } = threeJacobians(tape, space.jacobianPattern, u);
      expect(relativeDifference(fromStacks, colored)).toBeLessThanOrEqual(1e-14);
      expect(relativeDifference(fromStacks, dense)).toBeLessThanOrEqual(1e-14);
    }
    expect(tape.stackAssemblies).toBe(3);
  });

  it("equals the colored and the dense Jacobian on a custom residual: 2 inputs and 3 outputs per point, scalar factors", () => {
    // F(u) = c - 2.5 * M_out q(reshape(M_in u, [n, 2]), p), q with 3 outputs per point and a parameter p
    const points = 7;
    const unknowns = 9;
    const random = seededRandom(5);
    const sparse = (rows: number, cols: number, density: number) => {
      const dense = new Float64Array(rows * cols);
      for (let i = 0; i < rows; i++) {
        dense[i * cols + Math.floor(random() * cols)] = random() + 0.5;
        for (let j = 0; j < cols; j++) if (random() < density) dense[i * cols + j] = random() - 0.5;
      }
      return CsrMatrix.fromDense(rows, cols, dense);
    };
    const inMatrix = new SparseMatrix(sparse(2 * points, unknowns, 0.15));
    const outMatrix = new SparseMatrix(sparse(unknowns, 3 * points, 0.2));
    const q = pointMap([[-1, 2], []], [-1, 3], { bare: true, name: "q" })((x: NDArray, p: AdjFloat) => {
      const [a, b] = [np.take(x, 0, { axis: 1 }), np.take(x, 1, { axis: 1 })];
      return np.stack([np.multiply(np.sin(a), b), np.exp(np.multiply(a, p)), np.multiply(np.square(b), a)], {
        axis: 1,
      });
    });
    const c = new NDArray(
      Float64Array.from({ length: unknowns }, () => random()),
      [unknowns],
    );
    const residual = (u: NDArray, p: AdjFloat) => {
      const x = np.reshape(matvec(inMatrix, u), [points, 2]);
      const y = np.reshape(q(x, p), [3 * points]);
      return np.subtract(c, np.multiply(matvec(outMatrix, y), 2.5));
    };
    const u0 = new NDArray(
      Float64Array.from({ length: unknowns }, () => random() - 0.5),
      [unknowns],
    );
    const tape = new ResidualTape(residual, u0, [new AdjFloat(0.7)], "test");
    // a pattern holding J's structure and more: the full matrix
    const full = CsrMatrix.fromDense(unknowns, unknowns, new Float64Array(unknowns * unknowns).fill(1));
    const { fromStacks, colored, dense } = threeJacobians(tape, full, u0);
    expect(relativeDifference(fromStacks, colored)).toBeLessThanOrEqual(1e-14);
    expect(relativeDifference(fromStacks, dense)).toBeLessThanOrEqual(1e-14);
    // the entries outside J's structure are exactly zero in both
    for (let s = 0; s < full.nnz; s++) if (dense[s] === 0) expect(Math.abs(fromStacks[s])).toBe(0);
  });

  it("leaves other residuals to the colored sweeps", () => {
    const n = 6;
    const pattern = CsrMatrix.fromDense(n, n, new Float64Array(n * n).fill(1));
    const u0 = new NDArray(
      Float64Array.from({ length: n }, (_, i) => 0.1 * i),
      [n],
    );
    const cube = pointMap([[-1]], [-1], { bare: true })((x: NDArray) => np.multiply(x, np.square(x)));
    const residuals: ((u: NDArray) => NDArray)[] = [
      (u) => np.subtract(np.sin(u), 1), // no per-point map
      (u) => np.add(cube(u), u), // u reaches F along two branches
      (u) => np.multiply(cube(u), cube(u)), // a nonlinear block after the map
      (u) => cube(np.sin(u)), // a nonlinear block before the map
    ];
    for (const residual of residuals) {
      const tape = new ResidualTape(residual, u0, undefined, "test");
      tape.evaluate(u0, []);
      expect(tape.stackJacobian(pattern)).toBeUndefined();
    }
    // a map with an output that is not per point gives no stacks: declined, and not asked again
    const withTotal = pointMap([[-1]], [[-1], []], { bare: true })((x: NDArray) => [
      np.multiply(x, np.square(x)),
      np.sum(x),
    ]);
    const declined = new ResidualTape(
      (u: NDArray) => np.subtract((withTotal(u) as NDArray[])[0], 1),
      u0,
      undefined,
      "test",
    );
    declined.evaluate(u0, []);
    expect(declined.stackJacobian(pattern)).toBeUndefined();
    expect(declined.stackJacobian(pattern)).toBeUndefined();
    expect(declined.stackAssemblies).toBe(0);
    // the map alone works, and a pattern missing part of J's structure declines
    const tape = new ResidualTape((u: NDArray) => np.subtract(cube(u), 1), u0, undefined, "test");
    tape.evaluate(u0, []);
    expect(tape.stackJacobian(pattern)).toBeDefined();
    const empty = new CsrMatrix(n, n, new Int32Array(n + 1), new Int32Array(0), new Float64Array(0));
    expect(tape.stackJacobian(empty)).toBeUndefined();
  });
});

describe("nonlinearSolve with a per-point map", () => {
  it("builds every Newton Jacobian from the stacks, with no tangent sweep, and solves as the colored sweeps do", () => {
    const space = p1Space(unitSquareMesh(8));
    const load = loadVector(space.mesh, (x) => 0.5 + 20 * x ** 3);
    const tape = new Tape();
    const u = withTape(tape, () =>
      solveFlux(
        space,
        (g, p: AdjFloat | number, k: AdjFloat | number) => powerLaw(g, p, k),
        [new AdjFloat(3), new AdjFloat(1)],
        {
          load,
        },
      ),
    );
    const block = tape.blocks.find((b) => b instanceof NonlinearSolveBlock) as NonlinearSolveBlock;
    const { newtonIterations, jacobianEvaluations, stackAssemblies, tangentSweeps } = block.statistics;
    expect(newtonIterations).toBeGreaterThan(3);
    expect(stackAssemblies).toBe(jacobianEvaluations);
    expect(tangentSweeps).toBe(0);
    // the same problem through the colored sweeps (the user's Jacobian callback forces them off the stack
    // path: here it returns the colored Jacobian of a separate residual tape)
    const residual = fluxResidual(
      space,
      (g, p: AdjFloat | number, k: AdjFloat | number) => powerLaw(g, p, k),
      { load },
    );
    const colored = new ResidualTape(
      residual,
      new NDArray(new Float64Array(u.size), [u.size]),
      [3, 1],
      "test",
    );
    const { coloring, seeds } = colored.compression(space.jacobianPattern);
    const reference = nonlinearSolve(residual, np.zeros([u.size]), [3, 1], {
      jacobian: (w) => {
        colored.evaluate(w, colored.initialInputs);
        return colored.sparseJacobian(space.jacobianPattern, coloring, seeds);
      },
    });
    expect(relativeDifference(u.data, reference.data)).toBeLessThan(1e-12);
  });
});
