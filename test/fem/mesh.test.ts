import { InvalidArgumentError } from "tsadjoint";
import { rectangleMesh, SQUARE_TAGS, triangleMesh, unitSquareMesh } from "tsadjoint/fem";
import { describe, expect, it } from "vitest";

describe("unitSquareMesh and rectangleMesh", () => {
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
      // 4 n boundary edges, tagged by side
      expect(mesh.boundaryEdges.length).toBe(2 * 4 * n);
      for (const tag of Object.values(SQUARE_TAGS)) {
        expect(mesh.boundaryTags.filter((t) => t === tag).length).toBe(n);
      }
    }
  });

  it("boundary tags sit on their side and boundary edges keep the domain on their left", () => {
    const mesh = rectangleMesh(5, 3, { width: 2, height: 1.5, x0: -1 });
    expect(mesh.tagNames.get(SQUARE_TAGS.left)).toBe("left");
    for (let i = 0; i < mesh.boundaryTags.length; i++) {
      const a = mesh.boundaryEdges[2 * i];
      const b = mesh.boundaryEdges[2 * i + 1];
      const [xa, ya, xb, yb] = [
        mesh.coordinates[2 * a],
        mesh.coordinates[2 * a + 1],
        mesh.coordinates[2 * b],
        mesh.coordinates[2 * b + 1],
      ];
      const side = {
        1: ya === 0 && yb === 0,
        2: xa === 1 && xb === 1,
        3: ya === 1.5 && yb === 1.5,
        4: xa === -1,
      }[mesh.boundaryTags[i] as 1 | 2 | 3 | 4];
      expect(side).toBe(true);
      // the centre (0, 0.75) is on the left of every boundary edge (counter-clockwise boundary)
      expect((xb - xa) * (0.75 - ya) - (yb - ya) * (0 - xa)).toBeGreaterThan(0);
    }
    expect(mesh.areas.reduce((a, b) => a + b, 0)).toBeCloseTo(3, 13);
  });

  it("rejects too few cells with a typed error naming the argument", () => {
    expect(() => unitSquareMesh(1)).toThrow(InvalidArgumentError);
    expect(() => unitSquareMesh(2.5)).toThrow(
      /unitSquareMesh: cells along x must be an integer >= 2, got 2.5/,
    );
  });
});

describe("triangleMesh", () => {
  it("reorients clockwise triangles and finds the boundary of a mesh with an interior node", () => {
    // a square split into four triangles around its centre (node 4), two of them given clockwise
    const coordinates = [0, 0, 1, 0, 1, 1, 0, 1, 0.5, 0.5];
    const mesh = triangleMesh(coordinates, [0, 1, 4, 1, 4, 2, 2, 3, 4, 3, 4, 0]);
    expect(mesh.areas.every((area) => Math.abs(area - 0.25) < 1e-15)).toBe(true);
    expect(mesh.boundaryEdges.length).toBe(8);
    expect(mesh.unknownCount).toBe(1);
    expect(mesh.nodeOfUnknown[0]).toBe(4);
    // counter-clockwise after reorientation
    for (let e = 0; e < 4; e++) {
      const [a, b, c] = mesh.triangles.subarray(3 * e, 3 * e + 3);
      const cross =
        (mesh.coordinates[2 * b] - mesh.coordinates[2 * a]) *
          (mesh.coordinates[2 * c + 1] - mesh.coordinates[2 * a + 1]) -
        (mesh.coordinates[2 * c] - mesh.coordinates[2 * a]) *
          (mesh.coordinates[2 * b + 1] - mesh.coordinates[2 * a + 1]);
      expect(cross).toBeGreaterThan(0);
    }
  });

  it("dirichletNodes choose the fixed nodes; tags are matched in either orientation", () => {
    const coordinates = [0, 0, 1, 0, 1, 1, 0, 1];
    const mesh = triangleMesh(coordinates, [0, 1, 2, 0, 2, 3], {
      dirichletNodes: [0, 3],
      edgeTags: { edges: [3, 0, 1, 2], tags: [7, 9] },
      tagNames: { 7: "left", 9: "right" },
    });
    expect(Array.from(mesh.nodeOfUnknown)).toEqual([1, 2]);
    const tagOf = (a: number, b: number) => {
      for (let i = 0; i < mesh.boundaryTags.length; i++) {
        const p = mesh.boundaryEdges[2 * i];
        const q = mesh.boundaryEdges[2 * i + 1];
        if ((p === a && q === b) || (p === b && q === a)) return mesh.boundaryTags[i];
      }
      return undefined;
    };
    expect(tagOf(0, 3)).toBe(7);
    expect(tagOf(1, 2)).toBe(9);
    expect(tagOf(0, 1)).toBe(0);
    expect(mesh.tagNames.get(9)).toBe("right");
  });

  it("bad input is a typed error naming what is wrong", () => {
    expect(() => triangleMesh([0, 0, 1], [0, 1, 2])).toThrow(/interleaved \(x, y\) pairs, got 3/);
    expect(() => triangleMesh([0, 0, 1, 0, 0, 1], [0, 1])).toThrow(/triples of node indices, got 2/);
    expect(() => triangleMesh([0, 0, 1, 0, 0, 1], [0, 1, 3])).toThrow(
      /triangle 0 refers to node 3, outside 0..2/,
    );
    expect(() => triangleMesh([0, 0, 1, 0, 2, 0], [0, 1, 2])).toThrow(/triangle 0 is degenerate/);
    expect(() => triangleMesh([0, 0, 1, Number.NaN, 0, 1], [0, 1, 2])).toThrow(/node 1 has a non-finite/);
    expect(() => triangleMesh([0, 0, 1, 0, 0, 1], [0, 1, 2], { dirichletNodes: [5] })).toThrow(
      /Dirichlet node 5 is outside 0..2/,
    );
  });
});

describe("triangleMesh with unused nodes", () => {
  it("nodes of no triangle are never unknowns", () => {
    const mesh = triangleMesh([0, 0, 1, 0, 0, 1, 5, 5, 0.3, 0.3], [0, 1, 4, 1, 2, 4, 2, 0, 4]);
    expect(Array.from(mesh.nodeOfUnknown)).toEqual([4]);
    expect(mesh.unknownOfNode[3]).toBe(-1);
  });
});
