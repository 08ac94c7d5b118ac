import fc from "fast-check";
import {
  expandToAllNodes,
  fullLoadVector,
  gradientOperator,
  jacobianPattern,
  loadVector,
  locateElement,
  nodalValues,
  observationOperator,
  p1Space,
  sensorPoints,
  stiffnessMatrix,
  unitSquareMesh,
} from "tsadjoint/fem";
import { factorize } from "tsadjoint/solve";
import { describe, expect, it } from "vitest";

describe("p1Space, gradientOperator, loadVector, jacobianPattern, stiffnessMatrix, observationOperator", () => {
  it("mesh counts, areas and unknown numbering", () => {
    for (const n of [2, 3, 8, 32]) {
      const mesh = unitSquareMesh(n);
      expect(mesh.nodeCount).toBe((n + 1) ** 2);
      expect(mesh.elementCount).toBe(2 * n * n);
      expect(mesh.unknownCount).toBe((n - 1) ** 2);
      const totalArea = mesh.areas.reduce((a, b) => a + b, 0);
      expect(totalArea).toBeCloseTo(1, 13);
      for (const area of mesh.areas) expect(area).toBeCloseTo(0.5 / (n * n), 15);
      for (let k = 0; k < mesh.unknownCount; k++) expect(mesh.unknownOfNode[mesh.nodeOfUnknown[k]]).toBe(k);
    }
  });

  it("B applied to an affine field gives its exact gradient on elements away from the boundary", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (a, b, c) => {
          // A field vanishing on the boundary is needed for the Dirichlet-restricted B; instead compare on
          // the interior triangles (all vertices interior), where boundary columns do not matter.
          const mesh = unitSquareMesh(6);
          const B = gradientOperator(mesh);
          const u = nodalValues(mesh, (x, y) => a * x + b * y + c);
          const g = B.matvec(u);
          for (let e = 0; e < mesh.elementCount; e++) {
            const interior = [0, 1, 2].every((k) => mesh.unknownOfNode[mesh.triangles[3 * e + k]] >= 0);
            if (!interior) continue;
            expect(g[2 * e]).toBeCloseTo(a, 11);
            expect(g[2 * e + 1]).toBeCloseTo(b, 11);
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it("B is exact on every element for a piecewise-linear field vanishing on the boundary", () => {
    // u = nodal hat-like field: its exact gradient per triangle from the vertex values.
    const mesh = unitSquareMesh(5);
    const B = gradientOperator(mesh);
    const u = nodalValues(mesh, (x, y) => Math.sin(3 * x + 1) * y);
    const full = expandToAllNodes(mesh, u);
    const g = B.matvec(u);
    for (let e = 0; e < mesh.elementCount; e++) {
      const [p, q, r] = [0, 1, 2].map((k) => mesh.triangles[3 * e + k]);
      const xy = (node: number) => [mesh.coordinates[2 * node], mesh.coordinates[2 * node + 1]];
      const [xp, yp] = xy(p);
      const [xq, yq] = xy(q);
      const [xr, yr] = xy(r);
      // Solve [xq-xp yq-yp; xr-xp yr-yp] [gx gy]^T = [uq-up; ur-up].
      const det = (xq - xp) * (yr - yp) - (xr - xp) * (yq - yp);
      const du1 = full[q] - full[p];
      const du2 = full[r] - full[p];
      const gx = (du1 * (yr - yp) - du2 * (yq - yp)) / det;
      const gy = ((xq - xp) * du2 - (xr - xp) * du1) / det;
      expect(g[2 * e]).toBeCloseTo(gx, 11);
      expect(g[2 * e + 1]).toBeCloseTo(gy, 11);
    }
  });

  it("the load vector sums to the integral of f (exact for quadratics)", () => {
    const mesh = unitSquareMesh(7);
    const sum = (v: Float64Array) => v.reduce((a, b) => a + b, 0);
    expect(sum(fullLoadVector(mesh, () => 1))).toBeCloseTo(1, 13);
    expect(sum(fullLoadVector(mesh, () => 10))).toBeCloseTo(10, 12);
    // integral of x^2 + x y + 3 y over the unit square = 1/3 + 1/4 + 3/2
    expect(sum(fullLoadVector(mesh, (x, y) => x * x + x * y + 3 * y))).toBeCloseTo(1 / 3 + 1 / 4 + 1.5, 13);
    // The interior load vector: every interior node gets f * (6 triangles * area / 3) = f h^2 for f constant.
    const F = loadVector(mesh, () => 2);
    for (const value of F) expect(value).toBeCloseTo(2 / 49, 14);
  });

  it("the observation operator interpolates P1 functions exactly and locates points", () => {
    const mesh = unitSquareMesh(8);
    const points = sensorPoints(10, mulberry(3));
    expect(points.length).toBe(200);
    const O = observationOperator(mesh, points);
    expect(O.rows).toBe(100);
    // Rows sum to at most 1 (boundary vertices are zero); a field affine in the interior cells is exact
    // at sensors whose triangle has only interior vertices.
    const u = nodalValues(mesh, (x, y) => 2 * x - y + 0.5);
    const values = O.matvec(u);
    for (let s = 0; s < 100; s++) {
      const x = points[2 * s];
      const y = points[2 * s + 1];
      const element = locateElement(mesh, x, y);
      const interior = [0, 1, 2].every((k) => mesh.unknownOfNode[mesh.triangles[3 * element + k]] >= 0);
      if (interior) expect(values[s]).toBeCloseTo(2 * x - y + 0.5, 12);
    }
    // At a node, the observation is the nodal value.
    const atNode = observationOperator(mesh, new Float64Array([0.375, 0.625]));
    const k = mesh.unknownOfNode[5 * 9 + 3];
    expect(atNode.matvec(u)[0]).toBeCloseTo(u[k], 14);
  });

  it("the Jacobian pattern is the stiffness pattern (nodes sharing a triangle)", () => {
    const mesh = unitSquareMesh(4);
    const pattern = jacobianPattern(mesh);
    expect(pattern.nnz).toBe(41);
    expect(pattern.isStructurallySymmetric()).toBe(true);
    const K = stiffnessMatrix(mesh);
    expect(K.hasSamePattern(pattern)).toBe(true);
    // B^T diag(area) B equals K.
    const space = p1Space(mesh);
    const e = new Float64Array(mesh.unknownCount);
    for (let j = 0; j < mesh.unknownCount; j++) {
      e.fill(0);
      e[j] = 1;
      const column = space.weightedGradientTranspose.matvec(space.gradient.matvec(e));
      for (let i = 0; i < mesh.unknownCount; i++) expect(column[i]).toBeCloseTo(K.get(i, j), 13);
    }
  });

  it("the discrete Laplacian converges at second order at the nodes on a manufactured problem", () => {
    const exact = (x: number, y: number) => Math.sin(Math.PI * x) * Math.sin(Math.PI * y);
    const f = (x: number, y: number) => 2 * Math.PI * Math.PI * exact(x, y);
    const errors: number[] = [];
    const sizes = [8, 16, 32, 64];
    for (const n of sizes) {
      const mesh = unitSquareMesh(n);
      const u = factorize(stiffnessMatrix(mesh)).solve(loadVector(mesh, f));
      const reference = nodalValues(mesh, exact);
      let sum = 0;
      for (let k = 0; k < u.length; k++) sum += (u[k] - reference[k]) ** 2;
      errors.push(Math.sqrt(sum / (n * n))); // discrete L2 norm at nodes (h^2 weights)
    }
    for (let i = 0; i + 1 < errors.length; i++) {
      expect(Math.log2(errors[i] / errors[i + 1])).toBeGreaterThan(1.9);
    }
  });
});

/** A tiny seeded uniform generator for the tests. */
function mulberry(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
