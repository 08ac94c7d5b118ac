import fc from "fast-check";
import { InvalidArgumentError } from "tsadjoint";
import {
  evaluateP1,
  expandToAllNodes,
  findElement,
  locateElement,
  meshBounds,
  nodalValues,
  observationOffsets,
  observationOperator,
  rectangleMesh,
  sensorPoints,
  triangleMesh,
  unitSquareMesh,
} from "tsadjoint/fem";
import { describe, expect, it } from "vitest";

/** An L-shaped mesh: the square [0, 2]^2 without [1, 2]^2, from a structured mesh of the square. */
function lShape() {
  const square = rectangleMesh(8, 8, { width: 2, height: 2 });
  const kept: number[] = [];
  for (let e = 0; e < square.elementCount; e++) {
    const nodes = Array.from(square.triangles.subarray(3 * e, 3 * e + 3));
    const cx = nodes.reduce((s, n) => s + square.coordinates[2 * n], 0) / 3;
    const cy = nodes.reduce((s, n) => s + square.coordinates[2 * n + 1], 0) / 3;
    if (!(cx > 1 && cy > 1)) kept.push(...nodes);
  }
  return triangleMesh(square.coordinates, kept);
}

describe("findElement and locateElement", () => {
  it("the found triangle contains the point (property, structured and non-convex meshes)", () => {
    const meshes = [
      { mesh: unitSquareMesh(7), inside: (x: number, y: number) => x <= 1 && y <= 1 },
      { mesh: lShape(), inside: (x: number, y: number) => !(x > 1 && y > 1) },
    ];
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        (x, y) => {
          // points within 1e-9 of the lines x = 1 or y = 1 are within the locator's round-off tolerance
          if (Math.abs(x - 1) < 1e-9 || Math.abs(y - 1) < 1e-9) return;
          for (const { mesh, inside: contains } of meshes) {
            const [x0, y0, x1, y1] = meshBounds(mesh);
            const inside = x >= x0 && x <= x1 && y >= y0 && y <= y1 && contains(x, y);
            const element = findElement(mesh, x, y);
            if (!inside) {
              expect(element).toBe(-1);
              continue;
            }
            expect(element).toBeGreaterThanOrEqual(0);
            // barycentric weights are non-negative up to round-off
            const values = evaluateP1(
              mesh,
              mesh.coordinates.filter((_, i) => i % 2 === 0),
              [x, y],
            );
            expect(values[0]).toBeCloseTo(x, 12);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("locateElement names the point outside the mesh", () => {
    expect(locateElement(unitSquareMesh(4), 0.3, 0.1)).toBe(3);
    expect(() => locateElement(lShape(), 1.5, 1.5)).toThrow(InvalidArgumentError);
    expect(() => locateElement(lShape(), 1.5, 1.5)).toThrow(/point \(1.5, 1.5\) lies outside the mesh/);
  });
});

describe("observationOperator, observationOffsets, evaluateP1", () => {
  it("interpolates P1 functions exactly: O u + offsets equals the affine field", () => {
    const mesh = lShape();
    const field = (x: number, y: number) => 2 * x - y + 0.5;
    const points = sensorPoints(9, mulberry(5), 0.02, { box: [0, 0, 2, 2], mesh });
    expect(points.length).toBeGreaterThan(0);
    expect(points.length).toBeLessThan(2 * 81); // points in the cut-out corner are dropped
    const all = new Float64Array(mesh.nodeCount);
    for (let i = 0; i < mesh.nodeCount; i++)
      all[i] = field(mesh.coordinates[2 * i], mesh.coordinates[2 * i + 1]);
    const u = nodalValues(mesh, field);
    const O = observationOperator(mesh, points);
    const values = O.matvec(u);
    const offsets = observationOffsets(mesh, points, all);
    const direct = evaluateP1(mesh, expandToAllNodes(mesh, u, all), points);
    for (let s = 0; s < points.length / 2; s++) {
      const exact = field(points[2 * s], points[2 * s + 1]);
      expect(values[s] + offsets[s]).toBeCloseTo(exact, 12);
      expect(direct[s]).toBeCloseTo(exact, 12);
    }
  });

  it("a point outside the mesh is an error naming its index; odd lengths are errors", () => {
    const mesh = unitSquareMesh(4);
    expect(() => observationOperator(mesh, [0.5, 0.5, 1.2, 0.3])).toThrow(
      /observationOperator: point 1 \(1.2, 0.3\) lies outside the mesh/,
    );
    expect(() => observationOperator(mesh, [0.5, 0.5, 0.1])).toThrow(/interleaved \(x, y\) pairs, got 3/);
    expect(() => evaluateP1(mesh, new Float64Array(25), [Number.NaN, 0.5])).toThrow(/point 0 \(NaN, 0.5\)/);
  });

  it("sensorPoints: a seeded jittered grid inside the margins", () => {
    const points = sensorPoints(10, mulberry(3));
    expect(points.length).toBe(200);
    for (const value of points) {
      expect(value).toBeGreaterThan(0.05);
      expect(value).toBeLessThan(0.95);
    }
    expect(Array.from(sensorPoints(10, mulberry(3)))).toEqual(Array.from(points));
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
