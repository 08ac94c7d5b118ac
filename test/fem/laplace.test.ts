import fc from "fast-check";
import {
  AdjFloat,
  Control,
  NDArray,
  np,
  ReducedFunction,
  ReducedFunctional,
  Tape,
  withTape,
} from "tsadjoint";
import {
  jacobianByColumns,
  laplaceApproximation,
  NORMAL_95,
  propagatedStandardDeviations,
  symmetricEigen,
} from "tsadjoint/fem";
import { describe, expect, it } from "vitest";

describe("symmetricEigen", () => {
  it("A V = V diag(lambda), V orthonormal, eigenvalues descending (random symmetric matrices)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 1000 }), (n, seed) => {
        const rng = np.random.default_rng(seed);
        const b = rng.normal(0, 1, [n, n]).data;
        const a = new Float64Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = b[i * n + j] + b[j * n + i];
        const { values, vectors } = symmetricEigen(a, n);
        for (let k = 0; k + 1 < n; k++) expect(values[k]).toBeGreaterThanOrEqual(values[k + 1]);
        for (let k = 0; k < n; k++) {
          for (let i = 0; i < n; i++) {
            let av = 0;
            for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[j * n + k];
            expect(av).toBeCloseTo(values[k] * vectors[i * n + k], 10);
          }
          for (let l = 0; l < n; l++) {
            let dot = 0;
            for (let i = 0; i < n; i++) dot += vectors[i * n + k] * vectors[i * n + l];
            expect(dot).toBeCloseTo(k === l ? 1 : 0, 12);
          }
        }
      }),
      { numRuns: 30 },
    );
  });
});

/** A linear least-squares problem J = 0.5 |A x + c y - d|^2 / sigma^2 with an array and a scalar control. */
function linearProblem() {
  const rng = np.random.default_rng(4);
  const A = rng.normal(0, 1, [12, 3]);
  const c = rng.normal(0, 1, [12]);
  const d = rng.normal(0, 1, [12]);
  const sigma = 0.3;
  const tape = new Tape();
  const x = new NDArray(Float64Array.of(0.1, 0.2, 0.3), [3]);
  const y = new AdjFloat(0.4);
  const residual = withTape(tape, () => np.subtract(np.add(np.matmul(A, x), np.multiply(c, y)), d));
  const J = withTape(tape, () => np.multiply(np.sum(np.square(residual as NDArray)), 0.5));
  // the design matrix [A c] (12 x 4)
  const design = new Float64Array(48);
  for (let i = 0; i < 12; i++) {
    for (let j = 0; j < 3; j++) design[i * 4 + j] = A.data[i * 3 + j];
    design[i * 4 + 3] = c.data[i];
  }
  const controls = [new Control(x), new Control(y)];
  return { tape, J, residual, controls, design, sigma };
}

describe("laplaceApproximation", () => {
  it("on linear least squares: H = M^T M / sigma^2 and the covariance is its inverse", () => {
    const { tape, J, controls, design, sigma } = linearProblem();
    const rf = new ReducedFunctional(J, controls, { tape });
    const posterior = laplaceApproximation(rf, { scale: 1 / sigma ** 2 });
    expect(posterior.size).toBe(4);
    expect(Array.from(posterior.mean)).toEqual([0.1, 0.2, 0.3, 0.4]);
    const normal = new Float64Array(16);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let sum = 0;
        for (let r = 0; r < 12; r++) sum += design[r * 4 + i] * design[r * 4 + j];
        normal[i * 4 + j] = sum / sigma ** 2;
        expect(posterior.hessian[i * 4 + j]).toBeCloseTo(normal[i * 4 + j], 9);
      }
    }
    const inverse = np.linalg.inv(new NDArray(normal, [4, 4])).data;
    for (let i = 0; i < 16; i++) expect(posterior.covariance[i]).toBeCloseTo(inverse[i], 12);
    for (let i = 0; i < 4; i++) {
      const sd = Math.sqrt(inverse[i * 5]);
      expect(posterior.standardDeviations[i]).toBeCloseTo(sd, 12);
      expect(posterior.correlation[i * 5]).toBeCloseTo(1, 14);
      expect(posterior.intervals[i][1] - posterior.intervals[i][0]).toBeCloseTo(2 * NORMAL_95 * sd, 12);
    }
    expect(posterior.excludedDirections).toBe(0);
    expect(posterior.hessianActions).toBe(4);
    // a prior precision adds to the diagonal
    const withPrior = laplaceApproximation(rf, { scale: 1 / sigma ** 2, priorPrecision: 2 });
    expect(withPrior.hessian[0]).toBeCloseTo(normal[0] + 2, 9);
  });

  it("a direction the data do not see is excluded (pseudo-inverse), and bad options are errors", () => {
    const tape = new Tape();
    const a = new AdjFloat(1);
    const b = new AdjFloat(2);
    // J depends on a + b only: the direction (1, -1) is not determined
    const J = withTape(tape, () => np.multiply(np.square(np.add(a, b)), 0.5));
    const rf = new ReducedFunctional(J, [new Control(a), new Control(b)], { tape });
    const posterior = laplaceApproximation(rf);
    expect(posterior.excludedDirections).toBe(1);
    expect(posterior.eigenvalues[0]).toBeCloseTo(2, 12);
    expect(posterior.covariance[0]).toBeCloseTo(0.25, 12);
    expect(() => laplaceApproximation(rf, { scale: -1 })).toThrow(
      /scale must be positive and finite, got -1/,
    );
    expect(() => laplaceApproximation(rf, { priorPrecision: Number.NaN })).toThrow(/priorPrecision/);
  });
});

describe("jacobianByColumns and propagatedStandardDeviations", () => {
  it("the Jacobian of the linear residual is the design matrix; the band is sqrt(diag(G C G^T))", () => {
    const { tape, residual, controls, design, sigma } = linearProblem();
    const G = jacobianByColumns(new ReducedFunction(residual, controls, { tape }));
    expect([G.rows, G.cols]).toEqual([12, 4]);
    for (let i = 0; i < 48; i++) expect(G.values[i]).toBeCloseTo(design[i], 13);
    const covariance = new Float64Array(16);
    for (let i = 0; i < 4; i++) covariance[i * 5] = (i + 1) * sigma;
    const band = propagatedStandardDeviations(G, { covariance, size: 4 });
    for (let r = 0; r < 12; r++) {
      let variance = 0;
      for (let i = 0; i < 4; i++) variance += design[r * 4 + i] ** 2 * (i + 1) * sigma;
      expect(band[r]).toBeCloseTo(Math.sqrt(variance), 12);
    }
    expect(() => propagatedStandardDeviations(G, { covariance: new Float64Array(9), size: 3 })).toThrow(
      /the Jacobian has 4 columns but the posterior 3 parameters/,
    );
  });
});
