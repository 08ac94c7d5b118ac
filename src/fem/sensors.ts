/**
 * @file Point evaluation of P1 functions: locating the triangle that contains a point (a bucket grid over
 * the mesh, built once per mesh), barycentric coordinates, the observation operator (a constant sparse
 * matrix, sensors x unknowns) and seeded jittered sensor layouts.
 */
import { InvalidArgumentError } from "../errors.js";
import { CsrMatrix } from "../solve/sparse/csr.js";
import { elementGeometry, type Mesh } from "./mesh.js";

/** A uniform grid of buckets over the mesh's bounding box, each listing the triangles that overlap it. */
interface Locator {
  readonly x0: number;
  readonly y0: number;
  readonly cellWidth: number;
  readonly cellHeight: number;
  readonly nx: number;
  readonly ny: number;
  readonly start: Int32Array;
  readonly items: Int32Array;
}

const locators = new WeakMap<Mesh, Locator>();

function buildLocator(mesh: Mesh): Locator {
  const { coordinates, triangles, elementCount } = mesh;
  let xMin = Number.POSITIVE_INFINITY;
  let yMin = Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  let yMax = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < coordinates.length; i += 2) {
    xMin = Math.min(xMin, coordinates[i]);
    xMax = Math.max(xMax, coordinates[i]);
    yMin = Math.min(yMin, coordinates[i + 1]);
    yMax = Math.max(yMax, coordinates[i + 1]);
  }
  const n = Math.max(1, Math.ceil(Math.sqrt(elementCount / 2)));
  const nx = n;
  const ny = n;
  const cellWidth = (xMax - xMin) / nx || 1;
  const cellHeight = (yMax - yMin) / ny || 1;
  const cell = (value: number, origin: number, size: number, count: number) =>
    Math.min(count - 1, Math.max(0, Math.floor((value - origin) / size)));
  const ranges = new Int32Array(4 * elementCount);
  const counts = new Int32Array(nx * ny + 1);
  for (let e = 0; e < elementCount; e++) {
    let ex0 = Number.POSITIVE_INFINITY;
    let ex1 = Number.NEGATIVE_INFINITY;
    let ey0 = Number.POSITIVE_INFINITY;
    let ey1 = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < 3; k++) {
      const node = triangles[3 * e + k];
      ex0 = Math.min(ex0, coordinates[2 * node]);
      ex1 = Math.max(ex1, coordinates[2 * node]);
      ey0 = Math.min(ey0, coordinates[2 * node + 1]);
      ey1 = Math.max(ey1, coordinates[2 * node + 1]);
    }
    const i0 = cell(ex0, xMin, cellWidth, nx);
    const i1 = cell(ex1, xMin, cellWidth, nx);
    const j0 = cell(ey0, yMin, cellHeight, ny);
    const j1 = cell(ey1, yMin, cellHeight, ny);
    ranges.set([i0, i1, j0, j1], 4 * e);
    for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) counts[j * nx + i + 1]++;
  }
  for (let c = 0; c < nx * ny; c++) counts[c + 1] += counts[c];
  const items = new Int32Array(counts[nx * ny]);
  const fill = counts.slice(0, nx * ny);
  for (let e = 0; e < elementCount; e++) {
    const [i0, i1, j0, j1] = ranges.subarray(4 * e, 4 * e + 4);
    for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) items[fill[j * nx + i]++] = e;
  }
  return { x0: xMin, y0: yMin, cellWidth, cellHeight, nx, ny, start: counts, items };
}

/**
 * Barycentric coordinates of (x, y) in triangle `element` (they sum to 1; all are >= 0 inside).
 *
 * @example
 * barycentric(unitSquareMesh(4), 0, 0.2, 0.1); // three weights summing to 1
 */
export function barycentric(mesh: Mesh, element: number, x: number, y: number): [number, number, number] {
  const { gradients } = elementGeometry(mesh.coordinates, mesh.triangles, element);
  const weights: [number, number, number] = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const node = mesh.triangles[3 * element + a];
    // phi_a is affine with gradient g_a and phi_a(node a) = 1.
    const dx = x - mesh.coordinates[2 * node];
    const dy = y - mesh.coordinates[2 * node + 1];
    weights[a] = 1 + gradients[2 * a] * dx + gradients[2 * a + 1] * dy;
  }
  return weights;
}

/**
 * The triangle containing (x, y), or -1 when the point lies outside the mesh. Points on a shared edge (or
 * within round-off of the boundary) go to the triangle where they are deepest inside.
 *
 * @example
 * findElement(unitSquareMesh(4), 0.3, 0.1); // 3
 * findElement(unitSquareMesh(4), 1.5, 0.1); // -1
 */
export function findElement(mesh: Mesh, x: number, y: number): number {
  if (!(Number.isFinite(x) && Number.isFinite(y))) return -1;
  let locator = locators.get(mesh);
  if (locator === undefined) {
    locator = buildLocator(mesh);
    locators.set(mesh, locator);
  }
  const i = Math.floor((x - locator.x0) / locator.cellWidth);
  const j = Math.floor((y - locator.y0) / locator.cellHeight);
  const tolerance = 1e-10;
  let best = -1;
  let bestDepth = -tolerance;
  // a point within round-off of a bucket edge is also looked up in the neighbouring buckets
  for (let dj = -1; dj <= 1; dj++) {
    for (let di = -1; di <= 1; di++) {
      const bi = i + di;
      const bj = j + dj;
      if (bi < 0 || bj < 0 || bi >= locator.nx || bj >= locator.ny) continue;
      if (di !== 0 || dj !== 0) {
        const dx = Math.max(
          locator.x0 + bi * locator.cellWidth - x,
          x - locator.x0 - (bi + 1) * locator.cellWidth,
        );
        const dy = Math.max(
          locator.y0 + bj * locator.cellHeight - y,
          y - locator.y0 - (bj + 1) * locator.cellHeight,
        );
        if (dx > tolerance * locator.cellWidth || dy > tolerance * locator.cellHeight) continue;
      }
      const bucket = bj * locator.nx + bi;
      for (let t = locator.start[bucket]; t < locator.start[bucket + 1]; t++) {
        const element = locator.items[t];
        const depth = Math.min(...barycentric(mesh, element, x, y));
        if (depth > bestDepth || (depth === bestDepth && element < best)) {
          best = element;
          bestDepth = depth;
        }
      }
    }
  }
  return best;
}

/**
 * The triangle containing point (x, y); an InvalidArgumentError when the point is outside the mesh.
 *
 * @example
 * locateElement(unitSquareMesh(4), 0.3, 0.1); // 3
 */
export function locateElement(mesh: Mesh, x: number, y: number): number {
  const element = findElement(mesh, x, y);
  if (element < 0) {
    throw new InvalidArgumentError("locateElement", `point (${x}, ${y}) lies outside the mesh`);
  }
  return element;
}

/**
 * The observation operator: values of the P1 function at `points` (interleaved x, y) from its nodal values
 * on the unknowns, by barycentric interpolation (a constant sparse matrix, points x unknowns). Dirichlet
 * nodes contribute nothing (see `observationOffsets` for their part). A point outside the mesh is an
 * InvalidArgumentError naming the point's index.
 *
 * @example
 * const O = observationOperator(mesh, new Float64Array([0.5, 0.5]));
 * O.matvec(u); // [u(0.5, 0.5)]
 */
export function observationOperator(mesh: Mesh, points: ArrayLike<number>): CsrMatrix {
  const count = checkPoints("observationOperator", points);
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  const vals: number[] = [];
  for (let s = 0; s < count; s++) {
    const { element, weights } = pointWeights(mesh, points, s, "observationOperator");
    for (let a = 0; a < 3; a++) {
      const unknown = mesh.unknownOfNode[mesh.triangles[3 * element + a]];
      if (unknown < 0 || weights[a] === 0) continue;
      rowIdx.push(s);
      colIdx.push(unknown);
      vals.push(weights[a]);
    }
  }
  return CsrMatrix.fromTriplets(count, mesh.unknownCount, rowIdx, colIdx, vals);
}

/**
 * The values at `points` of the P1 function that is `nodeValues` on the Dirichlet nodes and zero on the
 * unknowns: with the observation operator O, the P1 function's values are O u + offsets.
 *
 * @example
 * observationOffsets(mesh, points, dirichletNodeValues); // zeros for homogeneous conditions
 */
export function observationOffsets(
  mesh: Mesh,
  points: ArrayLike<number>,
  nodeValues: ArrayLike<number>,
): Float64Array {
  const count = checkPoints("observationOffsets", points);
  const out = new Float64Array(count);
  for (let s = 0; s < count; s++) {
    const { element, weights } = pointWeights(mesh, points, s, "observationOffsets");
    for (let a = 0; a < 3; a++) {
      const node = mesh.triangles[3 * element + a];
      if (mesh.unknownOfNode[node] < 0) out[s] += weights[a] * nodeValues[node];
    }
  }
  return out;
}

/**
 * Values at `points` of the P1 function with the given values at every node.
 *
 * @example
 * evaluateP1(mesh, nodeValues, new Float64Array([0.5, 0.5])); // [u(0.5, 0.5)]
 */
export function evaluateP1(
  mesh: Mesh,
  nodeValues: ArrayLike<number>,
  points: ArrayLike<number>,
): Float64Array {
  const count = checkPoints("evaluateP1", points);
  const out = new Float64Array(count);
  for (let s = 0; s < count; s++) {
    const { element, weights } = pointWeights(mesh, points, s, "evaluateP1");
    for (let a = 0; a < 3; a++) out[s] += weights[a] * nodeValues[mesh.triangles[3 * element + a]];
  }
  return out;
}

function checkPoints(operation: string, points: ArrayLike<number>): number {
  if (points.length % 2 !== 0) {
    throw new InvalidArgumentError(
      operation,
      `points must be interleaved (x, y) pairs, got ${points.length} numbers`,
    );
  }
  return points.length / 2;
}

function pointWeights(
  mesh: Mesh,
  points: ArrayLike<number>,
  index: number,
  operation: string,
): { element: number; weights: [number, number, number] } {
  const x = points[2 * index];
  const y = points[2 * index + 1];
  const element = findElement(mesh, x, y);
  if (element < 0) {
    throw new InvalidArgumentError(operation, `point ${index} (${x}, ${y}) lies outside the mesh`);
  }
  return { element, weights: barycentric(mesh, element, x, y) };
}

/**
 * Points on a jittered grid inside the box [x0 + margin, x1 - margin] x [y0 + margin, y1 - margin]
 * (default the unit square with margin 0.05): `perSide`^2 points, each moved at random (by `uniform`, a
 * seeded generator of [0, 1)) within its grid cell, so that they do not line up with mesh edges. With a
 * mesh, points outside it (a non-convex domain) are dropped.
 *
 * @example
 * sensorPoints(10, () => Math.random()).length; // 200 (100 points, interleaved)
 */
export function sensorPoints(
  perSide: number,
  uniform: () => number,
  margin = 0.05,
  options: { box?: readonly [number, number, number, number]; mesh?: Mesh } = {},
): Float64Array {
  const [x0, y0, x1, y1] = options.box ?? [0, 0, 1, 1];
  const out: number[] = [];
  const width = (x1 - x0 - 2 * margin) / perSide;
  const height = (y1 - y0 - 2 * margin) / perSide;
  for (let j = 0; j < perSide; j++) {
    for (let i = 0; i < perSide; i++) {
      const x = x0 + margin + (i + 0.1 + 0.8 * uniform()) * width;
      const y = y0 + margin + (j + 0.1 + 0.8 * uniform()) * height;
      if (options.mesh !== undefined && findElement(options.mesh, x, y) < 0) continue;
      out.push(x, y);
    }
  }
  return Float64Array.from(out);
}

/**
 * The bounding box [xMin, yMin, xMax, yMax] of a mesh.
 *
 * @example
 * meshBounds(unitSquareMesh(4)); // [0, 0, 1, 1]
 */
export function meshBounds(mesh: Mesh): [number, number, number, number] {
  let xMin = Number.POSITIVE_INFINITY;
  let yMin = Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  let yMax = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < mesh.coordinates.length; i += 2) {
    xMin = Math.min(xMin, mesh.coordinates[i]);
    xMax = Math.max(xMax, mesh.coordinates[i]);
    yMin = Math.min(yMin, mesh.coordinates[i + 1]);
    yMax = Math.max(yMax, mesh.coordinates[i + 1]);
  }
  return [xMin, yMin, xMax, yMax];
}
