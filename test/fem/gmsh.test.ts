import { annulusMesh, lShapeMesh, readGmsh, unitSquareMesh, writeGmsh } from "tsadjoint/fem";
import { describe, expect, it } from "vitest";

/** A hand-written Gmsh 2.2 file: the unit square as 2 triangles, a tagged bottom edge and left edge. */
const SQUARE_22 = `$MeshFormat
2.2 0 8
$EndMeshFormat
$PhysicalNames
3
1 7 "bottom"
1 8 "left"
2 100 "domain"
$EndPhysicalNames
$Nodes
5
10 0 0 0
11 1 0 0
12 1 1 0
13 0 1 0
14 0.5 0.5 0
$EndNodes
$Elements
7
1 15 2 0 1 10
2 1 2 7 1 10 11
3 1 2 8 4 13 10
4 2 2 100 1 10 11 14
5 2 2 100 1 11 12 14
6 2 2 100 1 12 13 14
7 2 2 100 1 13 10 14
$EndElements
`;

describe("readGmsh", () => {
  it("reads a hand-written 2.2 file: node tags, triangles, physical lines and names", () => {
    const mesh = readGmsh(SQUARE_22);
    expect(mesh.nodeCount).toBe(5);
    expect(mesh.elementCount).toBe(4);
    expect(mesh.unknownCount).toBe(1);
    expect(mesh.tagNames.get(7)).toBe("bottom");
    expect(mesh.tagNames.get(8)).toBe("left");
    expect(mesh.tagNames.has(100)).toBe(false); // a surface group, not a boundary
    const tags = Array.from(mesh.boundaryTags).sort();
    expect(tags).toEqual([0, 0, 7, 8]);
  });

  it("write then read gives the same mesh, in format 2.2 and 4.1 (square, L-shape, annulus)", () => {
    for (const mesh of [unitSquareMesh(5), lShapeMesh(3), annulusMesh({ inner: 0.4, outer: 1, rings: 3 })]) {
      for (const version of [2.2, 4.1] as const) {
        const back = readGmsh(writeGmsh(mesh, version));
        expect(back.nodeCount).toBe(mesh.nodeCount);
        expect(Array.from(back.coordinates)).toEqual(Array.from(mesh.coordinates));
        expect(Array.from(back.triangles)).toEqual(Array.from(mesh.triangles));
        expect(Array.from(back.boundaryTags)).toEqual(Array.from(mesh.boundaryTags));
        expect([...back.tagNames]).toEqual([...mesh.tagNames]);
        expect(back.unknownCount).toBe(mesh.unknownCount);
      }
    }
  });

  it("errors name the line: bad version, binary, missing node, no triangles, garbage", () => {
    expect(() => readGmsh("$MeshFormat\n3.0 0 8\n$EndMeshFormat\n")).toThrow(
      /mesh line 2: format 3 is not supported/,
    );
    expect(() => readGmsh("$MeshFormat\n2.2 1 8\n$EndMeshFormat\n")).toThrow(
      /binary .msh files are not supported/,
    );
    expect(() => readGmsh(SQUARE_22.replace("4 2 2 100 1 10 11 14", "4 2 2 100 1 10 11 99"))).toThrow(
      /line 23: element refers to node 99/,
    );
    expect(() => readGmsh(SQUARE_22.replace("11 1 0 0", "11 1 zero 0"))).toThrow(
      /line 13: expected numbers in \$Nodes/,
    );
    expect(() => readGmsh("hello\n")).toThrow(/no \$MeshFormat|expected a section header/);
    expect(() => readGmsh("$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$Nodes\n1\n1 0 0 0\n$EndNodes\n")).toThrow(
      /no 3-node triangles/,
    );
    expect(() => readGmsh("$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$Nodes\n2\n1 0 0 0\n")).toThrow(
      /unexpected end of file/,
    );
  });
});
