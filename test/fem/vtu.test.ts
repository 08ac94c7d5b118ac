import { nodalValues, readVtu, unitSquareMesh, writeVtu } from "tsadjoint/fem";
import { describe, expect, it } from "vitest";

describe("writeVtu and readVtu", () => {
  it("round trip: points, triangles, point and cell fields parse back to the same float64 values", () => {
    const mesh = unitSquareMesh(3);
    const u = new Float64Array(mesh.nodeCount).map((_, i) => Math.sin(i) / 3);
    const magnitude = new Float64Array(mesh.elementCount).map((_, e) => e * 0.1 + 1e-17);
    const flux = new Float64Array(2 * mesh.elementCount).map((_, i) => Math.cos(i) * 1e5);
    const text = writeVtu(
      mesh,
      [{ name: "u", values: u }],
      [
        { name: "|grad u|", values: magnitude },
        { name: "flux", values: flux, components: 2 },
      ],
    );
    expect(text.startsWith('<?xml version="1.0"?>')).toBe(true);
    const back = readVtu(text);
    expect(back.pointCount).toBe(16);
    expect(back.cellCount).toBe(18);
    expect(Array.from(back.connectivity)).toEqual(Array.from(mesh.triangles));
    expect(Array.from(back.types)).toEqual(new Array(18).fill(5));
    expect(back.offsets[17]).toBe(54);
    for (let node = 0; node < 16; node++) {
      expect(back.points[3 * node]).toBe(mesh.coordinates[2 * node]);
      expect(back.points[3 * node + 2]).toBe(0);
    }
    expect(Array.from(back.pointData.get("u")?.values ?? [])).toEqual(Array.from(u));
    expect(Array.from(back.cellData.get("|grad u|")?.values ?? [])).toEqual(Array.from(magnitude));
    const vectors = back.cellData.get("flux");
    expect(vectors?.components).toBe(3);
    for (let e = 0; e < 18; e++) {
      expect(vectors?.values[3 * e]).toBe(flux[2 * e]);
      expect(vectors?.values[3 * e + 1]).toBe(flux[2 * e + 1]);
    }
  });

  it("a field of the wrong length is an error naming it", () => {
    const mesh = unitSquareMesh(2);
    expect(() => writeVtu(mesh, [{ name: "u", values: nodalValues(mesh, () => 1) }])).toThrow(
      /point field 'u' has 1 values, expected 9/,
    );
  });
});
