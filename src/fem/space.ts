/**
 * @file The P1 space of a mesh: constant operators built once (the gradient operator B from unknowns to
 * per-element gradients, the assembly matrix (diag(area) B)^T, the stiffness matrix, the sparsity pattern of
 * dR/du), load vectors and nodal interpolation. These are plain CsrMatrix objects and typed arrays; the tape
 * sees them only as constants (see `assembly.ts` for the recorded residual).
 */
import { InvalidArgumentError } from "../errors.js";
import { CsrMatrix } from "../solve/sparse/csr.js";
import { elementGeometry, type Mesh } from "./mesh.js";

/**
 * The gradient operator B: nodal values on the unknowns (length `unknownCount`) to per-element gradients
 * (length 2 * elementCount, rows 2e and 2e + 1 are d/dx and d/dy on triangle e). Dirichlet nodes are left
 * out (their columns are dropped; see `dirichletGradient` for their contribution). With `weights` (one per
 * element) row pair e is multiplied by weights[e], e.g. the areas for the transpose used in assembly.
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
 * Per-element gradients (2 per element) of the P1 function that is `nodeValues` on the Dirichlet nodes and
 * zero on the unknowns: the constant part g_D of grad u = B u + g_D for non-homogeneous Dirichlet data.
 *
 * @example
 * const gD = dirichletGradient(mesh, allNodeValues); // zeros for homogeneous conditions
 */
export function dirichletGradient(mesh: Mesh, nodeValues: ArrayLike<number>): Float64Array {
  const out = new Float64Array(2 * mesh.elementCount);
  for (let e = 0; e < mesh.elementCount; e++) {
    let geometry: Float64Array | undefined;
    for (let local = 0; local < 3; local++) {
      const node = mesh.triangles[3 * e + local];
      if (mesh.unknownOfNode[node] >= 0 || nodeValues[node] === 0) continue;
      geometry ??= elementGeometry(mesh.coordinates, mesh.triangles, e).gradients;
      out[2 * e] += nodeValues[node] * geometry[2 * local];
      out[2 * e + 1] += nodeValues[node] * geometry[2 * local + 1];
    }
  }
  return out;
}

/**
 * Nodal values of `field` at the unknowns (in the unknowns' ordering).
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
 * Nodal values on every node from values on the unknowns; Dirichlet nodes get `dirichletValues[node]`
 * (default zero).
 *
 * @example
 * const full = expandToAllNodes(mesh, u); // length mesh.nodeCount
 */
export function expandToAllNodes(
  mesh: Mesh,
  unknownValues: ArrayLike<number>,
  dirichletValues?: ArrayLike<number>,
): Float64Array {
  const out =
    dirichletValues === undefined ? new Float64Array(mesh.nodeCount) : Float64Array.from(dirichletValues);
  for (let k = 0; k < mesh.unknownCount; k++) out[mesh.nodeOfUnknown[k]] = unknownValues[k];
  return out;
}

/**
 * The load vector F_i = integral of f phi_i over the domain, for every node (Dirichlet nodes included), with
 * the three-point edge-midpoint rule on each triangle (exact for quadratic f). The entries sum to the
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
 * The load vector restricted to the unknowns.
 *
 * @example
 * const F = loadVector(unitSquareMesh(32), () => 10);
 */
export function loadVector(mesh: Mesh, f: (x: number, y: number) => number): Float64Array {
  return restrictToUnknowns(mesh, fullLoadVector(mesh, f));
}

/**
 * The entries of a per-node vector that belong to the unknowns.
 *
 * @example
 * restrictToUnknowns(mesh, fullLoadVector(mesh, () => 1)); // the same as loadVector(mesh, () => 1)
 */
export function restrictToUnknowns(mesh: Mesh, nodeVector: ArrayLike<number>): Float64Array {
  const out = new Float64Array(mesh.unknownCount);
  for (let k = 0; k < mesh.unknownCount; k++) out[k] = nodeVector[mesh.nodeOfUnknown[k]];
  return out;
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

/** The triplet structure of the matrices B^T diag(area) D B for per-element 2x2 tangents D. */
export interface ElementTangentAssembly {
  /** Row (unknown) of each triplet. */
  readonly rows: Int32Array;
  /** Column (unknown) of each triplet. */
  readonly cols: Int32Array;
  /**
   * The triplet values area_e grad phi_a^T D_e grad phi_b from per-element tangents D_e (row-major,
   * 4 per element); duplicates sum when assembled.
   */
  values(tangents: Float64Array): Float64Array;
}

/**
 * The triplets of the Jacobian of a flux residual, dR/du = B^T diag(area) (dq/dg) B, as a function of the
 * per-element tangents dq/dg: for plain-JS Newton solvers and analytic Jacobians (assemble with
 * `scatterMap` / `assembleValues` from `tsadjoint/solve`).
 *
 * @example
 * const { rows, cols, values } = elementTangentAssembly(mesh);
 * const K = CsrMatrix.fromTriplets(n, n, rows, cols, values(identityTangents)); // the stiffness matrix
 */
export function elementTangentAssembly(mesh: Mesh): ElementTangentAssembly {
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
 * The Neumann load on every node: for each boundary edge whose tag has a value h (the normal flux q . n,
 * outward), h |edge| / 2 to each of its two nodes (the exact integral of h phi_i for constant h). Add its
 * restriction to the unknowns to the load vector.
 *
 * @example
 * const F = loadVector(mesh, f).map((v, i) => v + restrictToUnknowns(mesh, neumannLoad(mesh, new Map([[2, 0.5]])))[i]);
 */
export function neumannLoad(mesh: Mesh, values: ReadonlyMap<number, number>): Float64Array {
  const out = new Float64Array(mesh.nodeCount);
  for (let i = 0; i < mesh.boundaryTags.length; i++) {
    const h = values.get(mesh.boundaryTags[i]);
    if (h === undefined || h === 0) continue;
    const a = mesh.boundaryEdges[2 * i];
    const b = mesh.boundaryEdges[2 * i + 1];
    const length = Math.hypot(
      mesh.coordinates[2 * b] - mesh.coordinates[2 * a],
      mesh.coordinates[2 * b + 1] - mesh.coordinates[2 * a + 1],
    );
    out[a] += 0.5 * h * length;
    out[b] += 0.5 * h * length;
  }
  return out;
}

/**
 * The load vector F_i = integral of f phi_i on every node for f given by its values at the nodes (the P1
 * interpolant; exact: the P1 mass matrix times the nodal values).
 *
 * @example
 * nodalLoadVector(mesh, new Float64Array(mesh.nodeCount).fill(1)); // the same as fullLoadVector(mesh, () => 1)
 */
export function nodalLoadVector(mesh: Mesh, nodeValues: ArrayLike<number>): Float64Array {
  if (nodeValues.length !== mesh.nodeCount) {
    throw new InvalidArgumentError(
      "nodalLoadVector",
      `expected one value per node (${mesh.nodeCount}), got ${nodeValues.length}`,
    );
  }
  const out = new Float64Array(mesh.nodeCount);
  for (let e = 0; e < mesh.elementCount; e++) {
    const v = mesh.triangles.subarray(3 * e, 3 * e + 3);
    const sum = nodeValues[v[0]] + nodeValues[v[1]] + nodeValues[v[2]];
    for (let a = 0; a < 3; a++) out[v[a]] += (mesh.areas[e] / 12) * (sum + nodeValues[v[a]]);
  }
  return out;
}
