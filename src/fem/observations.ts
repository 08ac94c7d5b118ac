/**
 * @file Observations from CSV text: rows of `x,y,value` with an optional `sigma` column (per-row noise
 * standard deviation), a header naming the columns in any order. Every problem is an error that names the
 * row (1-based line of the file): empty files, missing or duplicate headers, wrong column counts, values
 * that are not finite numbers, non-positive sigma, and points outside the mesh. Also the CSV writer.
 */
import { InvalidArgumentError } from "../errors.js";
import type { Mesh } from "./mesh.js";
import { findElement } from "./sensors.js";

/** Observations: points (interleaved x, y), values, and per-row sigma when the file has that column. */
export interface Observations {
  readonly points: Float64Array;
  readonly values: Float64Array;
  readonly sigma: Float64Array | null;
  /** The 1-based line of each observation in the file (for messages). */
  readonly lines: Int32Array;
}

const COLUMNS = ["x", "y", "value", "sigma"] as const;

/**
 * Parses observations from CSV text (comma separated; blank lines and lines starting with # are skipped).
 * With a mesh, every point must lie in it.
 *
 * @example
 * const obs = parseObservations("x,y,value\n0.5,0.5,0.12\n", mesh);
 * obs.values; // Float64Array [0.12]
 */
export function parseObservations(text: string, mesh?: Mesh, source = "observations"): Observations {
  const operation = "parseObservations";
  const fail = (line: number, message: string) =>
    new InvalidArgumentError(operation, `${source} row ${line}: ${message}`);
  const rows = text
    .split(/\r?\n/)
    .map((content, index) => ({ content: content.trim(), line: index + 1 }))
    .filter((row) => row.content.length > 0 && !row.content.startsWith("#"));
  if (rows.length === 0) {
    throw new InvalidArgumentError(
      operation,
      `${source} is empty: expected a header 'x,y,value[,sigma]' and rows`,
    );
  }
  const header = rows[0];
  const names = header.content.split(",").map((name) => name.trim().toLowerCase());
  const index = new Map<string, number>();
  names.forEach((name, column) => {
    if (!COLUMNS.some((column) => column === name)) {
      throw fail(
        header.line,
        `unknown column '${name}' in the header (expected x, y, value and optionally sigma)`,
      );
    }
    if (index.has(name)) throw fail(header.line, `duplicate column '${name}' in the header`);
    index.set(name, column);
  });
  for (const required of ["x", "y", "value"]) {
    if (!index.has(required)) throw fail(header.line, `the header has no '${required}' column`);
  }
  const data = rows.slice(1);
  if (data.length === 0) throw fail(header.line, "the header is not followed by any observation");
  const hasSigma = index.has("sigma");
  const points = new Float64Array(2 * data.length);
  const values = new Float64Array(data.length);
  const sigma = hasSigma ? new Float64Array(data.length) : null;
  const lines = new Int32Array(data.length);
  data.forEach((row, i) => {
    const cells = row.content.split(",").map((cell) => cell.trim());
    if (cells.length !== names.length) {
      throw fail(row.line, `expected ${names.length} columns (${names.join(",")}), got ${cells.length}`);
    }
    const read = (name: string): number => {
      const cell = cells[index.get(name) ?? -1] ?? "";
      const value = cell.length === 0 ? Number.NaN : Number(cell);
      if (!Number.isFinite(value)) throw fail(row.line, `${name} '${cell}' is not a finite number`);
      return value;
    };
    const x = read("x");
    const y = read("y");
    points[2 * i] = x;
    points[2 * i + 1] = y;
    values[i] = read("value");
    if (sigma !== null) {
      sigma[i] = read("sigma");
      if (!(sigma[i] > 0)) throw fail(row.line, `sigma must be positive, got ${sigma[i]}`);
    }
    if (mesh !== undefined && findElement(mesh, x, y) < 0) {
      throw fail(row.line, `point (${x}, ${y}) lies outside the mesh`);
    }
    lines[i] = row.line;
  });
  return { points, values, sigma, lines };
}

/**
 * Observations as CSV text with the header `x,y,value[,sigma]` (full float64 precision).
 *
 * @example
 * formatObservations(points, values); // "x,y,value\n0.5,0.5,0.12\n"
 */
export function formatObservations(
  points: ArrayLike<number>,
  values: ArrayLike<number>,
  sigma?: ArrayLike<number>,
): string {
  const out = [sigma === undefined ? "x,y,value" : "x,y,value,sigma"];
  for (let i = 0; i < values.length; i++) {
    const row = [points[2 * i], points[2 * i + 1], values[i]];
    if (sigma !== undefined) row.push(sigma[i]);
    out.push(row.join(","));
  }
  return `${out.join("\n")}\n`;
}
