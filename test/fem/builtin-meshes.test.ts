import {
  annulusMesh,
  loadVector,
  lShapeMesh,
  neumannLoad,
  p1Space,
  restrictToUnknowns,
  SQUARE_TAGS,
  unitSquareMesh,
  withDirichletTags,
} from "tsadjoint/fem";
import { factorize } from "tsadjoint/solve";
import { describe, expect, it } from "vitest";
import { stiffnessMatrix } from "../../src/fem/space.js";

const area = (mesh: { areas: Float64Array }) => mesh.areas.reduce((a, b) => a + b, 0);

describe("lShapeMesh and annulusMesh", () => {
  it("areas converge to the domain's; tags name the boundaries", () => {
    expect(area(lShapeMesh(4))).toBeCloseTo(3, 13);
    expect(lShapeMesh(4).tagNames.get(1)).toBe("boundary");
    const errors = [4, 8, 16].map((rings) =>
      Math.abs(area(annulusMesh({ inner: 0, outer: 1, rings })) - Math.PI),
    );
    expect(errors[1]).toBeLessThan(errors[0] / 3);
    expect(errors[2]).toBeLessThan(errors[1] / 3);
    const annulus = annulusMesh({ inner: 0.5, outer: 1, rings: 4, center: [2, 1] });
    expect([...annulus.tagNames]).toEqual([
      [1, "outer"],
      [2, "inner"],
    ]);
    for (let i = 0; i < annulus.boundaryTags.length; i++) {
      const node = annulus.boundaryEdges[2 * i];
      const r = Math.hypot(annulus.coordinates[2 * node] - 2, annulus.coordinates[2 * node + 1] - 1);
      expect(r).toBeCloseTo(annulus.boundaryTags[i] === 1 ? 1 : 0.5, 12);
    }
    const disk = annulusMesh({ inner: 0, outer: 1, rings: 8 });
    expect(disk.tagNames.has(2)).toBe(false);
    expect(Math.abs(area(annulusMesh({ inner: 0.5, outer: 1, rings: 8 })) - 0.75 * Math.PI)).toBeLessThan(
      0.01,
    );
    // triangles are not slivers: the smallest is at least a quarter of the mean
    expect(Math.min(...disk.areas)).toBeGreaterThan(0.25 * (area(disk) / disk.elementCount));
    expect(() => annulusMesh({ inner: 1, outer: 0.5, rings: 3 })).toThrow(/need 0 <= inner < outer/);
  });

  it("the Poisson problem on the disk converges to (1 - r^2) / 4", () => {
    const errors = [4, 8, 16].map((rings) => {
      const mesh = annulusMesh({ inner: 0, outer: 1, rings });
      const u = factorize(stiffnessMatrix(mesh)).solve(loadVector(mesh, () => 1));
      let error = 0;
      for (let k = 0; k < mesh.unknownCount; k++) {
        const node = mesh.nodeOfUnknown[k];
        const r2 = mesh.coordinates[2 * node] ** 2 + mesh.coordinates[2 * node + 1] ** 2;
        error = Math.max(error, Math.abs(u[k] - (1 - r2) / 4));
      }
      return error;
    });
    expect(errors[2]).toBeLessThan(errors[0] / 8);
    expect(errors[2]).toBeLessThan(2e-3);
  });
});

describe("withDirichletTags and neumannLoad", () => {
  it("u = x on the square: Dirichlet left (0) and right (1), zero Neumann on top and bottom", () => {
    const mesh = withDirichletTags(unitSquareMesh(6), [SQUARE_TAGS.left, SQUARE_TAGS.right]);
    expect(mesh.unknownCount).toBe(5 * 7);
    const space = p1Space(mesh);
    expect(space.mesh.unknownCount).toBe(35);
    // du/dn = 1 on the right edge is a Neumann load of total 1 when the right edge is not Dirichlet
    const neumannMesh = withDirichletTags(unitSquareMesh(6), [SQUARE_TAGS.left]);
    const load = neumannLoad(neumannMesh, new Map([[SQUARE_TAGS.right, 1]]));
    expect(load.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    const u = factorize(stiffnessMatrix(neumannMesh)).solve(restrictToUnknowns(neumannMesh, load));
    for (let k = 0; k < neumannMesh.unknownCount; k++) {
      expect(u[k]).toBeCloseTo(neumannMesh.coordinates[2 * neumannMesh.nodeOfUnknown[k]], 12);
    }
    expect(() => withDirichletTags(unitSquareMesh(3), [9])).toThrow(
      /no boundary edge has tag 9; the mesh's tags are 1, 2, 3, 4/,
    );
  });
});

describe("nodalLoadVector", () => {
  it("equals the quadrature load for P1 (affine) sources and checks the length", async () => {
    const { fullLoadVector, nodalLoadVector } = await import("tsadjoint/fem");
    const mesh = lShapeMesh(3);
    const f = (x: number, y: number) => 2 - x + 3 * y;
    const nodes = new Float64Array(mesh.nodeCount).map((_, i) =>
      f(mesh.coordinates[2 * i], mesh.coordinates[2 * i + 1]),
    );
    const a = nodalLoadVector(mesh, nodes);
    const b = fullLoadVector(mesh, f);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 14);
    expect(() => nodalLoadVector(mesh, [1, 2])).toThrow(/expected one value per node/);
  });
});
