import {
  AdjFloat,
  Control,
  NDArray,
  np,
  ReducedFunctional,
  ShapeMismatchError,
  Tape,
  taylorTest,
  withTape,
} from "tsadjoint";
import {
  dirichletGradient,
  elementGradients,
  fluxResidual,
  gaussianMisfit,
  loadVector,
  nodalValues,
  observationOperator,
  observe,
  p1Space,
  rectangleMesh,
  solveFlux,
  stiffnessMatrix,
  unitSquareMesh,
} from "tsadjoint/fem";
import { factorize } from "tsadjoint/solve";
import { describe, expect, it } from "vitest";

/** The power law q = k (|g|^2 + eps)^((p - 2) / 2) g, recorded with numpy. */
function powerLaw(g: NDArray, p: AdjFloat | number, k: AdjFloat | number): NDArray {
  const squares = np.sum(np.square(g), { axis: 1, keepdims: true });
  const exponent = np.divide(np.subtract(p, 2), 2);
  return np.multiply(np.multiply(np.power(np.add(squares, 1e-8), exponent), k), g) as NDArray;
}

describe("fluxResidual and solveFlux", () => {
  it("a linear flux q = c g reproduces the stiffness solve K u = F / c", () => {
    const mesh = unitSquareMesh(6);
    const space = p1Space(mesh);
    const load = loadVector(mesh, (x, y) => 1 + x * y);
    const u = withTape(new Tape(), () =>
      solveFlux(space, (g, c: AdjFloat) => np.multiply(g, c) as NDArray, [new AdjFloat(2.5)], { load }),
    );
    const reference = factorize(stiffnessMatrix(mesh)).solve(load);
    for (let i = 0; i < reference.length; i++) expect(u.data[i]).toBeCloseTo(reference[i] / 2.5, 12);
    // the residual at the solution vanishes
    const residual = fluxResidual(space, (g, c: number) => np.multiply(g, c) as NDArray, { load });
    const r = residual(u, 2.5);
    for (const value of r.data) expect(Math.abs(value)).toBeLessThan(1e-12);
  });

  it("non-homogeneous Dirichlet data: the harmonic u = 1 + 2x - y is reproduced exactly", () => {
    const mesh = rectangleMesh(5, 4, { width: 1.5 });
    const space = p1Space(mesh);
    const exact = (x: number, y: number) => 1 + 2 * x - y;
    const all = new Float64Array(mesh.nodeCount);
    for (let i = 0; i < mesh.nodeCount; i++) {
      if (mesh.unknownOfNode[i] < 0) all[i] = exact(mesh.coordinates[2 * i], mesh.coordinates[2 * i + 1]);
    }
    const gD = dirichletGradient(mesh, all);
    const u = withTape(new Tape(), () =>
      solveFlux(space, (g) => np.multiply(g, 1) as NDArray, [], {
        load: new Float64Array(mesh.unknownCount),
        dirichletGradient: gD,
      }),
    );
    const reference = nodalValues(mesh, exact);
    for (let i = 0; i < reference.length; i++) expect(u.data[i]).toBeCloseTo(reference[i], 12);
    const g = elementGradients(space, u, gD);
    for (let e = 0; e < mesh.elementCount; e++) {
      expect(g.data[2 * e]).toBeCloseTo(2, 12);
      expect(g.data[2 * e + 1]).toBeCloseTo(-1, 12);
    }
  });

  it("the misfit of observations through the power-law solve passes the Taylor test (gradient and Hessian)", () => {
    const mesh = unitSquareMesh(6);
    const space = p1Space(mesh);
    const load = loadVector(mesh, (x) => 0.5 + 20 * x ** 3);
    const points = new Float64Array([0.3, 0.4, 0.7, 0.2, 0.55, 0.8, 0.21, 0.66]);
    const O = observationOperator(mesh, points);
    const tape = new Tape();
    const p = new AdjFloat(2.6);
    const k = new AdjFloat(0.8);
    const J = withTape(tape, () => {
      const u = solveFlux(space, powerLaw, [p, k], {
        load,
        initialGuess: factorize(stiffnessMatrix(mesh)).solve(load),
      });
      return gaussianMisfit(observe(O, u), [0.1, 0.2, 0.3, 0.1], [0.05, 0.1, 0.05, 0.2]);
    });
    const rf = new ReducedFunctional(J, [new Control(p), new Control(k)], { tape });
    expect(taylorTest(rf, [2.6, 0.8], [0.1, -0.05])).toBeGreaterThan(1.9);
    // larger steps than the default keep the second-order remainder above round-off
    const epsilons = [0.04, 0.02, 0.01, 0.005];
    expect(taylorTest(rf, [3.1, 1.2], [0.1, -0.05], { hessian: true, epsilons })).toBeGreaterThan(2.9);
  });

  it("shape errors name the argument", () => {
    const mesh = unitSquareMesh(4);
    const space = p1Space(mesh);
    expect(() => fluxResidual(space, (g) => g, { load: new Float64Array(3) })).toThrow(ShapeMismatchError);
    expect(() => fluxResidual(space, (g) => g, { load: new Float64Array(3) })).toThrow(
      /the load vector must have length 9/,
    );
    const bad = fluxResidual(space, (g) => np.sum(g, { axis: 1 }) as NDArray, { load: new Float64Array(9) });
    expect(() => bad(new NDArray(new Float64Array(9), [9]))).toThrow(/one 2-vector per element/);
  });
});

describe("observe and gaussianMisfit", () => {
  it("gaussianMisfit is 0.5 sum ((predicted - observed) / sigma)^2 and checks sigma", () => {
    const predicted = new NDArray(new Float64Array([1, 2, 3]), [3]);
    expect(gaussianMisfit(predicted, [1.5, 2, 2], 0.5).data[0]).toBeCloseTo(0.5 * (1 + 0 + 4), 14);
    expect(gaussianMisfit(predicted, [1.5, 2, 2], [0.5, 1, 2]).data[0]).toBeCloseTo(0.5 * (1 + 0.25), 14);
    expect(() => gaussianMisfit(predicted, [1, 2, 3], [1, 0, 1])).toThrow(
      /sigma must be positive and finite, got 0 for observation 1/,
    );
    expect(() => gaussianMisfit(predicted, [1, 2], 1)).toThrow(/the observations must have length 3/);
  });

  it("observe adds the Dirichlet offsets", () => {
    const mesh = unitSquareMesh(4);
    const O = observationOperator(mesh, [0.5, 0.5]);
    const u = new NDArray(new Float64Array(9).fill(2), [9]);
    expect(observe(O, u).data[0]).toBeCloseTo(2, 14);
    expect(observe(O, u, [0.5]).data[0]).toBeCloseTo(2.5, 14);
    expect(() => observe(O, u, [1, 2])).toThrow(/offsets must have length 1/);
  });
});
