/**
 * @file A small 2D P1 finite-element toolkit on the unit square: a structured triangular mesh, per-element
 * gradient operators and areas, load vectors, point-evaluation (observation) operators and the sparsity
 * pattern of the stiffness/Jacobian matrix. Everything here is plain numerics on typed arrays and constant
 * CsrMatrix objects built once per mesh; the tape sees these matrices only as constants.
 */
import { assembleValues, CsrMatrix, factorize, scatterMap } from "tsadjoint/solve";

/**
 * A structured triangulation of the unit square: `cellsPerSide` x `cellsPerSide` squares, each cut into
 * two counter-clockwise triangles along the diagonal from (x, y) to (x + h, y + h).
 * Homogeneous Dirichlet conditions hold on the boundary, so the unknowns are the interior nodes.
 */
export interface Mesh {
  /** Cells along each side. */
  readonly cellsPerSide: number;
  /** Mesh size h = 1 / cellsPerSide (the length of a cell side). */
  readonly cellSize: number;
  /** Number of nodes, (n + 1)^2. */
  readonly nodeCount: number;
  /** Number of triangles, 2 n^2. */
  readonly elementCount: number;
  /** Number of interior nodes (the unknowns), (n - 1)^2. */
  readonly unknownCount: number;
  /** Node coordinates, interleaved (x0, y0, x1, y1, ...). */
  readonly coordinates: Float64Array;
  /** Triangle vertices (three node indices per triangle, counter-clockwise). */
  readonly triangles: Int32Array;
  /** Triangle areas. */
  readonly areas: Float64Array;
  /** For every node, its unknown index, or -1 on the boundary. */
  readonly unknownOfNode: Int32Array;
  /** For every unknown, its node index. */
  readonly nodeOfUnknown: Int32Array;
}

/**
 * The structured mesh of the unit square with `cellsPerSide` cells per side (2 triangles per cell).
 *
 * @example
 * const mesh = unitSquareMesh(4);
 * mesh.nodeCount; // 25
 * mesh.elementCount; // 32
 * mesh.unknownCount; // 9
 */
export function unitSquareMesh(cellsPerSide: number): Mesh {
  if (!Number.isInteger(cellsPerSide) || cellsPerSide < 2) {
    throw new RangeError(`unitSquareMesh: cellsPerSide must be an integer >= 2, got ${cellsPerSide}`);
  }
  const n = cellsPerSide;
  const side = n + 1;
  const nodeCount = side * side;
  const elementCount = 2 * n * n;
  const coordinates = new Float64Array(2 * nodeCount);
  const unknownOfNode = new Int32Array(nodeCount).fill(-1);
  const nodeOfUnknown = new Int32Array((n - 1) * (n - 1));
  let unknown = 0;
  for (let j = 0; j <= n; j++) {
    for (let i = 0; i <= n; i++) {
      const node = j * side + i;
      coordinates[2 * node] = i / n;
      coordinates[2 * node + 1] = j / n;
      if (i > 0 && i < n && j > 0 && j < n) {
        unknownOfNode[node] = unknown;
        nodeOfUnknown[unknown++] = node;
      }
    }
  }
  const triangles = new Int32Array(3 * elementCount);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const n00 = j * side + i;
      const n10 = n00 + 1;
      const n01 = n00 + side;
      const n11 = n01 + 1;
      const e = 2 * (j * n + i);
      triangles.set([n00, n10, n11], 3 * e);
      triangles.set([n00, n11, n01], 3 * (e + 1));
    }
  }
  const areas = new Float64Array(elementCount);
  for (let e = 0; e < elementCount; e++) areas[e] = elementGeometry(coordinates, triangles, e).area;
  return {
    cellsPerSide: n,
    cellSize: 1 / n,
    nodeCount,
    elementCount,
    unknownCount: nodeOfUnknown.length,
    coordinates,
    triangles,
    areas,
    unknownOfNode,
    nodeOfUnknown,
  };
}

/** Area and basis-function gradients of one triangle. */
export interface ElementGeometry {
  /** The triangle's area (positive for counter-clockwise vertices). */
  readonly area: number;
  /** Gradients of the three barycentric basis functions: (dx0, dy0, dx1, dy1, dx2, dy2). */
  readonly gradients: Float64Array;
}

/**
 * Area and constant basis-function gradients of triangle `element`:
 * grad phi_a = (y_b - y_c, x_c - x_b) / (2 area) for (a, b, c) a cyclic permutation of the vertices.
 *
 * @example
 * const mesh = unitSquareMesh(2);
 * elementGeometry(mesh.coordinates, mesh.triangles, 0).area; // 0.125
 */
export function elementGeometry(
  coordinates: Float64Array,
  triangles: Int32Array,
  element: number,
): ElementGeometry {
  const a = triangles[3 * element];
  const b = triangles[3 * element + 1];
  const c = triangles[3 * element + 2];
  const xa = coordinates[2 * a];
  const ya = coordinates[2 * a + 1];
  const xb = coordinates[2 * b];
  const yb = coordinates[2 * b + 1];
  const xc = coordinates[2 * c];
  const yc = coordinates[2 * c + 1];
  const twiceArea = (xb - xa) * (yc - ya) - (xc - xa) * (yb - ya);
  const gradients = new Float64Array([
    (yb - yc) / twiceArea,
    (xc - xb) / twiceArea,
    (yc - ya) / twiceArea,
    (xa - xc) / twiceArea,
    (ya - yb) / twiceArea,
    (xb - xa) / twiceArea,
  ]);
  return { area: 0.5 * twiceArea, gradients };
}

/**
 * The gradient operator B: interior nodal values (length `unknownCount`) to per-element gradients
 * (length 2 * elementCount, rows 2e and 2e + 1 are d/dx and d/dy on triangle e). Boundary nodes are zero
 * (homogeneous Dirichlet), so their columns are dropped. With `weights` (one per element) row pair e is
 * multiplied by weights[e], e.g. the areas for the transpose used in assembly.
 *
 * @example
 * const mesh = unitSquareMesh(4);
 * const B = gradientOperator(mesh); // 64 x 9
 * B.matvec(nodalValues(mesh, (x, y) => x * (1 - x))); // per-element gradients
 */
export function gradientOperator(mesh: Mesh, weights?: Float64Array): CsrMatrix {
  const { elementCount, coordinates, triangles, unknownOfNode } = mesh;
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  const vals: number[] = [];
  for (let e = 0; e < elementCount; e++) {
    const { gradients } = elementGeometry(coordinates, triangles, e);
    const weight = weights === undefined ? 1 : weights[e];
    for (let local = 0; local < 3; local++) {
      const unknown = unknownOfNode[triangles[3 * e + local]];
      if (unknown < 0) continue;
      rowIdx.push(2 * e, 2 * e + 1);
      colIdx.push(unknown, unknown);
      vals.push(weight * gradients[2 * local], weight * gradients[2 * local + 1]);
    }
  }
  return CsrMatrix.fromTriplets(2 * elementCount, mesh.unknownCount, rowIdx, colIdx, vals);
}

/**
 * Nodal values of `field` at the interior nodes (the unknowns' ordering).
 *
 * @example
 * const u = nodalValues(unitSquareMesh(4), (x, y) => Math.sin(Math.PI * x) * Math.sin(Math.PI * y));
 */
export function nodalValues(mesh: Mesh, field: (x: number, y: number) => number): Float64Array {
  const out = new Float64Array(mesh.unknownCount);
  for (let k = 0; k < mesh.unknownCount; k++) {
    const node = mesh.nodeOfUnknown[k];
    out[k] = field(mesh.coordinates[2 * node], mesh.coordinates[2 * node + 1]);
  }
  return out;
}

/**
 * Nodal values on every node from values on the unknowns (boundary nodes get zero).
 *
 * @example
 * const full = expandToAllNodes(mesh, u); // length mesh.nodeCount
 */
export function expandToAllNodes(mesh: Mesh, unknownValues: ArrayLike<number>): Float64Array {
  const out = new Float64Array(mesh.nodeCount);
  for (let k = 0; k < mesh.unknownCount; k++) out[mesh.nodeOfUnknown[k]] = unknownValues[k];
  return out;
}

/**
 * The load vector F_i = integral of f phi_i over the domain, for every node (boundary included), with the
 * three-point edge-midpoint rule on each triangle (exact for quadratic f). The entries sum to the
 * quadrature of the integral of f.
 *
 * @example
 * const F = fullLoadVector(unitSquareMesh(4), () => 1); // sums to 1
 */
export function fullLoadVector(mesh: Mesh, f: (x: number, y: number) => number): Float64Array {
  const { elementCount, coordinates, triangles, areas } = mesh;
  const out = new Float64Array(mesh.nodeCount);
  for (let e = 0; e < elementCount; e++) {
    const v = [triangles[3 * e], triangles[3 * e + 1], triangles[3 * e + 2]];
    // Midpoint m_k of the edge opposite vertex k; phi_a(m_k) = 1/2 for a != k, 0 for a = k.
    const midValues = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const p = v[(k + 1) % 3];
      const q = v[(k + 2) % 3];
      midValues[k] = f(
        0.5 * (coordinates[2 * p] + coordinates[2 * q]),
        0.5 * (coordinates[2 * p + 1] + coordinates[2 * q + 1]),
      );
    }
    const weight = areas[e] / 3;
    for (let a = 0; a < 3; a++) {
      let sum = 0;
      for (let k = 0; k < 3; k++) if (k !== a) sum += 0.5 * midValues[k];
      out[v[a]] += weight * sum;
    }
  }
  return out;
}

/**
 * The load vector restricted to the unknowns (interior nodes).
 *
 * @example
 * const F = loadVector(unitSquareMesh(32), () => 10);
 */
export function loadVector(mesh: Mesh, f: (x: number, y: number) => number): Float64Array {
  const full = fullLoadVector(mesh, f);
  const out = new Float64Array(mesh.unknownCount);
  for (let k = 0; k < mesh.unknownCount; k++) out[k] = full[mesh.nodeOfUnknown[k]];
  return out;
}

/**
 * The triangle containing point (x, y) of the unit square (points on shared edges go to one of them).
 *
 * @example
 * locateElement(unitSquareMesh(4), 0.3, 0.1); // 2 * (0 * 4 + 1) + 0 = 2
 */
export function locateElement(mesh: Mesh, x: number, y: number): number {
  if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) {
    throw new RangeError(`locateElement: point (${x}, ${y}) is outside the unit square`);
  }
  const n = mesh.cellsPerSide;
  const i = Math.min(Math.floor(x * n), n - 1);
  const j = Math.min(Math.floor(y * n), n - 1);
  const s = x * n - i;
  const t = y * n - j;
  return 2 * (j * n + i) + (s >= t ? 0 : 1);
}

/**
 * Barycentric coordinates of (x, y) in triangle `element`.
 *
 * @example
 * barycentric(mesh, 0, 0.5, 0.2); // three weights summing to 1
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
 * The observation operator: values of the P1 function at `points` (interleaved x, y) from its interior
 * nodal values, by barycentric interpolation (a constant sparse matrix, sensors x unknowns).
 *
 * @example
 * const O = observationOperator(mesh, new Float64Array([0.5, 0.5]));
 * O.matvec(u); // [u(0.5, 0.5)]
 */
export function observationOperator(mesh: Mesh, points: Float64Array): CsrMatrix {
  const count = points.length / 2;
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  const vals: number[] = [];
  for (let s = 0; s < count; s++) {
    const x = points[2 * s];
    const y = points[2 * s + 1];
    const element = locateElement(mesh, x, y);
    const weights = barycentric(mesh, element, x, y);
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
 * The sparsity pattern of the stiffness matrix and of dR/du: entry (i, j) when unknowns i and j share a
 * triangle (values are all 1).
 *
 * @example
 * jacobianPattern(unitSquareMesh(4)).nnz; // 9 + 2 * 16 = 41 (7-point stencil on a 3 x 3 grid)
 */
export function jacobianPattern(mesh: Mesh): CsrMatrix {
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  for (let e = 0; e < mesh.elementCount; e++) {
    for (let a = 0; a < 3; a++) {
      const i = mesh.unknownOfNode[mesh.triangles[3 * e + a]];
      if (i < 0) continue;
      for (let b = 0; b < 3; b++) {
        const j = mesh.unknownOfNode[mesh.triangles[3 * e + b]];
        if (j < 0) continue;
        rowIdx.push(i);
        colIdx.push(j);
      }
    }
  }
  const ones = new Float64Array(rowIdx.length).fill(1);
  const summed = CsrMatrix.fromTriplets(mesh.unknownCount, mesh.unknownCount, rowIdx, colIdx, ones);
  return summed.withValues(new Float64Array(summed.nnz).fill(1));
}

/**
 * The stiffness matrix K = B^T diag(coefficient * area) B of -div(c grad u) (c constant per element,
 * default 1) on the unknowns.
 *
 * @example
 * const K = stiffnessMatrix(mesh); // the discrete Laplacian
 */
export function stiffnessMatrix(mesh: Mesh, coefficient?: Float64Array): CsrMatrix {
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  const vals: number[] = [];
  for (let e = 0; e < mesh.elementCount; e++) {
    const { area, gradients } = elementGeometry(mesh.coordinates, mesh.triangles, e);
    const scale = area * (coefficient === undefined ? 1 : coefficient[e]);
    for (let a = 0; a < 3; a++) {
      const i = mesh.unknownOfNode[mesh.triangles[3 * e + a]];
      if (i < 0) continue;
      for (let b = 0; b < 3; b++) {
        const j = mesh.unknownOfNode[mesh.triangles[3 * e + b]];
        if (j < 0) continue;
        rowIdx.push(i);
        colIdx.push(j);
        vals.push(
          scale * (gradients[2 * a] * gradients[2 * b] + gradients[2 * a + 1] * gradients[2 * b + 1]),
        );
      }
    }
  }
  return CsrMatrix.fromTriplets(mesh.unknownCount, mesh.unknownCount, rowIdx, colIdx, vals);
}

/** Every constant operator of the P1 discretisation of one mesh, built once. */
export interface P1Space {
  readonly mesh: Mesh;
  /** B: unknowns -> per-element gradients (2 rows per element). */
  readonly gradient: CsrMatrix;
  /** (diag(area) B)^T: per-element fluxes (2 per element) -> assembled residual contributions. */
  readonly weightedGradientTranspose: CsrMatrix;
  /** Sparsity pattern of dR/du. */
  readonly jacobianPattern: CsrMatrix;
}

/**
 * The P1 space of a mesh with its constant operators: gradient B, the assembly matrix (diag(area) B)^T
 * and the Jacobian pattern. R(u) = weightedGradientTranspose q(B u) - F.
 *
 * @example
 * const space = p1Space(unitSquareMesh(32));
 */
export function p1Space(mesh: Mesh): P1Space {
  const gradient = gradientOperator(mesh);
  return {
    mesh,
    gradient,
    weightedGradientTranspose: gradientOperator(mesh, mesh.areas).transpose(),
    jacobianPattern: jacobianPattern(mesh),
  };
}

/**
 * Points on a jittered grid inside [margin, 1 - margin]^2: `perSide`^2 sensors, each moved at random
 * (seeded) within its grid cell, so they do not line up with mesh edges.
 *
 * @example
 * sensorPoints(10, () => Math.random()).length; // 200 (100 points, interleaved)
 */
export function sensorPoints(perSide: number, uniform: () => number, margin = 0.05): Float64Array {
  const out = new Float64Array(2 * perSide * perSide);
  const width = (1 - 2 * margin) / perSide;
  for (let j = 0; j < perSide; j++) {
    for (let i = 0; i < perSide; i++) {
      const s = j * perSide + i;
      out[2 * s] = margin + (i + 0.1 + 0.8 * uniform()) * width;
      out[2 * s + 1] = margin + (j + 0.1 + 0.8 * uniform()) * width;
    }
  }
  return out;
}

/**
 * Plain-JS Newton solve of the power-law problem -div(k (|grad u|^2 + eps)^((p-2)/2) grad u) = F with an
 * analytic Jacobian and a backtracking line search, nothing recorded. It makes the synthetic data and is
 * the baseline of the benchmark. Starts from the Laplace solution scaled by 1/k unless given a start.
 *
 * @example
 * const u = solvePowerLawReference(space, loadVector(space.mesh, () => 10), 3, 1).solution;
 */
export function solvePowerLawReference(
  space: P1Space,
  load: Float64Array,
  exponent: number,
  consistency: number,
  options: {
    regularization?: number;
    relativeTolerance?: number;
    maxIterations?: number;
    /** Start of Newton's method (default: the Laplace solution divided by k). */
    initialGuess?: Float64Array;
  } = {},
): { solution: Float64Array; iterations: number; residualNorm: number } {
  const { mesh, gradient: B, weightedGradientTranspose: BT } = space;
  const eps = options.regularization ?? 1e-10;
  const tolerance = (options.relativeTolerance ?? 1e-11) * norm2(load);
  const maxIterations = options.maxIterations ?? 50;
  const E = mesh.elementCount;
  const local = elementUnknowns(mesh);
  const scatter = scatterMap(mesh.unknownCount, mesh.unknownCount, local.rows, local.cols);
  const residual = (u: Float64Array): Float64Array => {
    const g = B.matvec(u);
    const q = new Float64Array(2 * E);
    for (let e = 0; e < E; e++) {
      const gx = g[2 * e];
      const gy = g[2 * e + 1];
      const c = consistency * Math.pow(gx * gx + gy * gy + eps, (exponent - 2) / 2);
      q[2 * e] = c * gx;
      q[2 * e + 1] = c * gy;
    }
    const r = BT.matvec(q);
    for (let i = 0; i < r.length; i++) r[i] -= load[i];
    return r;
  };
  const jacobian = (u: Float64Array): CsrMatrix => {
    const g = B.matvec(u);
    const tangents = new Float64Array(4 * E);
    for (let e = 0; e < E; e++) {
      const gx = g[2 * e];
      const gy = g[2 * e + 1];
      const s = gx * gx + gy * gy + eps;
      const c = consistency * Math.pow(s, (exponent - 2) / 2);
      const d = (exponent - 2) / s;
      // dq/dg = c (I + (p - 2) g g^T / s)
      tangents.set([c * (1 + d * gx * gx), c * d * gx * gy, c * d * gx * gy, c * (1 + d * gy * gy)], 4 * e);
    }
    return assembleValues(scatter, local.values(tangents));
  };
  let u: Float64Array;
  if (options.initialGuess !== undefined) u = options.initialGuess.slice();
  else {
    u = factorize(stiffnessMatrix(mesh)).solve(load);
    for (let i = 0; i < u.length; i++) u[i] /= consistency;
  }
  let r = residual(u);
  let rNorm = norm2(r);
  let iterations = 0;
  while (rNorm > tolerance && iterations < maxIterations) {
    const step = factorize(jacobian(u)).solve(r);
    let t = 1;
    let trial = u;
    let trialResidual = r;
    let trialNorm = Number.POSITIVE_INFINITY;
    while (t > 1e-10) {
      trial = u.map((v, i) => v - t * step[i]);
      trialResidual = residual(trial);
      trialNorm = norm2(trialResidual);
      if (trialNorm <= (1 - 1e-4 * t) * rNorm) break;
      t /= 2;
    }
    u = trial;
    r = trialResidual;
    rNorm = trialNorm;
    iterations++;
  }
  return { solution: u, iterations, residualNorm: rNorm };
}

/** Euclidean norm. */
function norm2(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}

/**
 * Per-element local stiffness structure: the (row, col) triplets of every element's interior-vertex pairs
 * and a function mapping per-element 2x2 tangents D_e (row-major, 4 per element) to the triplet values
 * area_e grad phi_a^T D_e grad phi_b.
 */
function elementUnknowns(mesh: Mesh): {
  rows: Int32Array;
  cols: Int32Array;
  values: (tangents: Float64Array) => Float64Array;
} {
  const rows: number[] = [];
  const cols: number[] = [];
  const owners: number[] = [];
  const gradA: number[] = [];
  const gradB: number[] = [];
  for (let e = 0; e < mesh.elementCount; e++) {
    const { area, gradients } = elementGeometry(mesh.coordinates, mesh.triangles, e);
    for (let a = 0; a < 3; a++) {
      const i = mesh.unknownOfNode[mesh.triangles[3 * e + a]];
      if (i < 0) continue;
      for (let b = 0; b < 3; b++) {
        const j = mesh.unknownOfNode[mesh.triangles[3 * e + b]];
        if (j < 0) continue;
        rows.push(i);
        cols.push(j);
        owners.push(e);
        gradA.push(area * gradients[2 * a], area * gradients[2 * a + 1]);
        gradB.push(gradients[2 * b], gradients[2 * b + 1]);
      }
    }
  }
  const count = rows.length;
  return {
    rows: Int32Array.from(rows),
    cols: Int32Array.from(cols),
    values: (tangents) => {
      const out = new Float64Array(count);
      for (let t = 0; t < count; t++) {
        const o = 4 * owners[t];
        const ax = gradA[2 * t];
        const ay = gradA[2 * t + 1];
        const bx = gradB[2 * t];
        const by = gradB[2 * t + 1];
        out[t] =
          ax * (tangents[o] * bx + tangents[o + 1] * by) + ay * (tangents[o + 2] * bx + tangents[o + 3] * by);
      }
      return out;
    },
  };
}
