/**
 * @file VTK XML unstructured grids (`.vtu`, ASCII) of P1 results, readable by ParaView: the triangles, point
 * fields (one value per node, e.g. the solution) and cell fields (scalars or 2-vectors per triangle, e.g.
 * |grad u| and the flux), and a small reader of the same files (for tests and round trips). Text in, text
 * out: no file system here.
 */
import { InvalidArgumentError } from "../errors.js";
import type { Mesh } from "./mesh.js";

/** A field on the mesh: `components` values per node (point data) or per triangle (cell data). */
export interface VtuField {
  readonly name: string;
  readonly values: ArrayLike<number>;
  /** 1 (scalar, default) or 2 (a 2D vector, written with a zero third component). */
  readonly components?: 1 | 2;
}

function dataArray(field: VtuField, expected: number, kind: string): string {
  const components = field.components ?? 1;
  if (field.values.length !== expected * components) {
    throw new InvalidArgumentError(
      "writeVtu",
      `${kind} field '${field.name}' has ${field.values.length} values, expected ${expected * components}`,
    );
  }
  if (/[<>"&]/.test(field.name))
    throw new InvalidArgumentError("writeVtu", `field name '${field.name}' has XML characters`);
  const parts: string[] = [];
  for (let i = 0; i < expected; i++) {
    if (components === 1) parts.push(String(field.values[i]));
    else parts.push(`${field.values[2 * i]} ${field.values[2 * i + 1]} 0`);
  }
  return `        <DataArray type="Float64" Name="${field.name}" NumberOfComponents="${components === 1 ? 1 : 3}" format="ascii">\n          ${parts.join(" ")}\n        </DataArray>`;
}

/**
 * The mesh and fields as a VTK XML UnstructuredGrid (ASCII, Float64, triangles = VTK cell type 5).
 *
 * @example
 * const text = writeVtu(mesh, [{ name: "u", values: nodeValues }], [{ name: "flux", values: q, components: 2 }]);
 */
export function writeVtu(
  mesh: Mesh,
  pointFields: readonly VtuField[] = [],
  cellFields: readonly VtuField[] = [],
): string {
  const points: string[] = [];
  for (let node = 0; node < mesh.nodeCount; node++) {
    points.push(`${mesh.coordinates[2 * node]} ${mesh.coordinates[2 * node + 1]} 0`);
  }
  const offsets: string[] = [];
  for (let e = 1; e <= mesh.elementCount; e++) offsets.push(String(3 * e));
  return [
    '<?xml version="1.0"?>',
    '<VTKFile type="UnstructuredGrid" version="1.0" byte_order="LittleEndian" header_type="UInt64">',
    "  <UnstructuredGrid>",
    `    <Piece NumberOfPoints="${mesh.nodeCount}" NumberOfCells="${mesh.elementCount}">`,
    "      <PointData>",
    ...pointFields.map((field) => dataArray(field, mesh.nodeCount, "point")),
    "      </PointData>",
    "      <CellData>",
    ...cellFields.map((field) => dataArray(field, mesh.elementCount, "cell")),
    "      </CellData>",
    "      <Points>",
    `        <DataArray type="Float64" NumberOfComponents="3" format="ascii">\n          ${points.join(" ")}\n        </DataArray>`,
    "      </Points>",
    "      <Cells>",
    `        <DataArray type="Int64" Name="connectivity" format="ascii">\n          ${Array.from(mesh.triangles).join(" ")}\n        </DataArray>`,
    `        <DataArray type="Int64" Name="offsets" format="ascii">\n          ${offsets.join(" ")}\n        </DataArray>`,
    `        <DataArray type="UInt8" Name="types" format="ascii">\n          ${new Array(mesh.elementCount).fill(5).join(" ")}\n        </DataArray>`,
    "      </Cells>",
    "    </Piece>",
    "  </UnstructuredGrid>",
    "</VTKFile>",
    "",
  ].join("\n");
}

/** What `readVtu` finds in a file. */
export interface VtuContents {
  readonly pointCount: number;
  readonly cellCount: number;
  /** Point coordinates (3 per point). */
  readonly points: Float64Array;
  readonly connectivity: Int32Array;
  readonly offsets: Int32Array;
  readonly types: Int32Array;
  /** Point and cell data arrays by name, with their component counts. */
  readonly pointData: Map<string, { values: Float64Array; components: number }>;
  readonly cellData: Map<string, { values: Float64Array; components: number }>;
}

function arraysIn(section: string): Map<string, { values: Float64Array; components: number }> {
  const out = new Map<string, { values: Float64Array; components: number }>();
  const pattern = /<DataArray([^>]*)>([\s\S]*?)<\/DataArray>/g;
  for (const match of section.matchAll(pattern)) {
    const attributes = match[1];
    const name = /Name="([^"]*)"/.exec(attributes)?.[1] ?? "";
    const components = Number(/NumberOfComponents="(\d+)"/.exec(attributes)?.[1] ?? 1);
    const text = match[2].trim();
    out.set(name, {
      values: Float64Array.from(text.length === 0 ? [] : text.split(/\s+/).map(Number)),
      components,
    });
  }
  return out;
}

function section(text: string, tag: string): string {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(text);
  return match?.[1] ?? "";
}

/**
 * Reads an ASCII VTK XML UnstructuredGrid (as `writeVtu` writes it): points, cells and the data arrays.
 *
 * @example
 * readVtu(writeVtu(mesh, [{ name: "u", values }])).pointData.get("u")?.values; // the values back
 */
export function readVtu(text: string): VtuContents {
  const piece = /<Piece\s+NumberOfPoints="(\d+)"\s+NumberOfCells="(\d+)"/.exec(text);
  if (piece === null)
    throw new InvalidArgumentError("readVtu", "no <Piece NumberOfPoints=... NumberOfCells=...>");
  const cells = arraysIn(section(text, "Cells"));
  const points = arraysIn(section(text, "Points"));
  const [first] = points.values();
  return {
    pointCount: Number(piece[1]),
    cellCount: Number(piece[2]),
    points: first?.values ?? new Float64Array(),
    connectivity: Int32Array.from(cells.get("connectivity")?.values ?? []),
    offsets: Int32Array.from(cells.get("offsets")?.values ?? []),
    types: Int32Array.from(cells.get("types")?.values ?? []),
    pointData: arraysIn(section(text, "PointData")),
    cellData: arraysIn(section(text, "CellData")),
  };
}
