/**
 * @file Example: a custom constitutive-relation inference written against `tsadjoint/fem` in a few dozen
 * lines. On an L-shaped domain, infer the two parameters of the shear-thickening law q = (a + b |g|^2) g from
 * 60 noisy point values of the solution of -div q(grad u) = 1 (u = 0 on the boundary).
 */
import { AdjFloat, Control, type NDArray, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import {
  gaussianMisfit,
  loadVector,
  observationOperator,
  observe,
  p1Space,
  rectangleMesh,
  sensorPoints,
  solveFlux,
  triangleMesh,
} from "tsadjoint/fem";
import { minimize } from "tsadjoint/optimize";

/** The flux q = (a + b |g|^2) g on per-element gradients g of shape [elements, 2]. */
function flux(g: NDArray, a: AdjFloat, b: AdjFloat): NDArray {
  const squares = np.sum(np.square(g), { axis: 1, keepdims: true });
  return np.multiply(np.add(a, np.multiply(b, squares)), g) as NDArray;
}

/** The L-shape [0, 2]^2 minus [1, 2]^2: a structured mesh of the square without the top-right quarter. */
export function lShapeMesh(cells = 16) {
  const square = rectangleMesh(cells, cells, { width: 2, height: 2 });
  const kept: number[] = [];
  for (let e = 0; e < square.elementCount; e++) {
    const [p, q, r] = square.triangles.subarray(3 * e, 3 * e + 3);
    const cx = (square.coordinates[2 * p] + square.coordinates[2 * q] + square.coordinates[2 * r]) / 3;
    const cy =
      (square.coordinates[2 * p + 1] + square.coordinates[2 * q + 1] + square.coordinates[2 * r + 1]) / 3;
    if (cx < 1 || cy < 1) kept.push(p, q, r);
  }
  return triangleMesh(square.coordinates, kept); // nodes of the removed corner belong to no triangle: unused
}

/**
 * Makes synthetic data from a = 1, b = 4 with noise sigma, then fits (a, b) from a = 0.5, b = 0.5.
 *
 * @example
 * inferShearThickening().inferred; // about [1, 4]
 */
export function inferShearThickening(seed = 2, sigma = 2e-4) {
  const mesh = lShapeMesh();
  const space = p1Space(mesh);
  const load = loadVector(mesh, () => 4);
  const rng = np.random.default_rng(seed);
  const points = sensorPoints(10, () => rng.nextDouble(), 0.05, { box: [0, 0, 2, 2], mesh });
  const O = observationOperator(mesh, points);
  const truth = withTape(new Tape(), () =>
    solveFlux(space, flux, [new AdjFloat(1), new AdjFloat(4)], { load }),
  );
  const data = O.matvec(truth.data).map((value) => value + sigma * rng.nextNormal());

  const tape = new Tape();
  const [a, b] = [new AdjFloat(0.5), new AdjFloat(0.5)];
  const J = withTape(tape, () =>
    gaussianMisfit(observe(O, solveFlux(space, flux, [a, b], { load })), data, sigma),
  );
  const rf = new ReducedFunctional(J, [new Control(a), new Control(b)], { tape });
  const result = minimize(rf, {
    method: "L-BFGS-B",
    bounds: [
      [0.01, null],
      [0, null],
    ],
  });
  const inferred = (result.x as AdjFloat[]).map((value) => value.value);
  return { inferred, sensors: points.length / 2, misfit: result.fun, iterations: result.iterations };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { inferred, sensors, misfit, iterations } = inferShearThickening();
  console.log(
    `${sensors} sensors on the L-shape; inferred a = ${inferred[0].toFixed(4)} (truth 1), b = ${inferred[1].toFixed(4)} (truth 4)`,
  );
  console.log(
    `in ${iterations} L-BFGS-B iterations; misfit ${misfit.toFixed(2)} (about ${sensors / 2} expected at the noise level)`,
  );
}
