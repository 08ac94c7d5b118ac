/**
 * @file Gmsh meshes: a reader of the ASCII `.msh` formats 2.2 and 4.1 (triangles; line elements of physical
 * groups tag the boundary, `$PhysicalNames` names them) and a writer of format 2.2 and 4.1 (so that the
 * program can ship the meshes it makes). Text in, text out: no file system here (browser-safe).
 */
import { InvalidArgumentError } from "../errors.js";
import { type Mesh, triangleMesh } from "./mesh.js";

/** A line-oriented reader of a `.msh` file that reports the line number of every problem. */
class Lines {
  private index = 0;
  constructor(
    private readonly lines: string[],
    private readonly source: string,
  ) {}
  get lineNumber(): number {
    return this.index;
  }
  done(): boolean {
    return this.index >= this.lines.length;
  }
  next(what: string): string {
    while (this.index < this.lines.length) {
      const line = this.lines[this.index++].trim();
      if (line.length > 0) return line;
    }
    throw this.error(`unexpected end of file while reading ${what}`);
  }
  numbers(what: string): number[] {
    const line = this.next(what);
    const values = line.split(/\s+/).map(Number);
    if (values.some((value) => !Number.isFinite(value))) {
      throw this.error(`expected numbers in ${what}, got '${line}'`);
    }
    return values;
  }
  error(message: string): InvalidArgumentError {
    return new InvalidArgumentError("readGmsh", `${this.source} line ${this.index}: ${message}`);
  }
}

/** Physical names by (dimension, tag). */
function readPhysicalNames(lines: Lines): Map<string, string> {
  const names = new Map<string, string>();
  const count = lines.numbers("$PhysicalNames")[0];
  for (let i = 0; i < count; i++) {
    const line = lines.next("$PhysicalNames");
    const match = /^(\d+)\s+(\d+)\s+"(.*)"$/.exec(line);
    if (match === null) throw lines.error(`expected 'dimension tag "name"', got '${line}'`);
    names.set(`${match[1]}:${match[2]}`, match[3]);
  }
  return names;
}

function skipSection(lines: Lines, name: string): void {
  const end = `$End${name.slice(1)}`;
  while (lines.next(`section ${name}`) !== end) {
    // skip
  }
}

function expectEnd(lines: Lines, name: string): void {
  const line = lines.next(`the end of ${name}`);
  if (line !== `$End${name.slice(1)}`) throw lines.error(`expected $End${name.slice(1)}, got '${line}'`);
}

/**
 * Reads a Gmsh ASCII mesh (format 2.2 or 4.1): node coordinates (z ignored), the 3-node triangles (type 2)
 * as the mesh, and the 2-node lines (type 1) of physical groups as boundary tags, named by
 * `$PhysicalNames`. Every boundary node is a Dirichlet node until the caller chooses (see
 * `withDirichletTags`). Errors name the line of the file.
 *
 * @example
 * const mesh = readGmsh(await (await fetch("annulus.msh")).text());
 * mesh.tagNames; // Map { 1 => "inner", 2 => "outer" }
 */
export function readGmsh(text: string, source = "mesh"): Mesh {
  const lines = new Lines(text.split(/\r?\n/), source);
  const mesh: GmshContent = {
    version: undefined,
    names: new Map(),
    nodeIndex: new Map(),
    coordinates: [],
    triangles: [],
    edges: [],
    edgeTags: [],
    curvePhysical: new Map(),
  };
  while (!lines.done()) {
    let header: string;
    try {
      header = lines.next("a section");
    } catch {
      break;
    }
    if (header === "$MeshFormat") {
      const [v, fileType] = lines.next("$MeshFormat").split(/\s+/).map(Number);
      if (v !== 2.2 && v !== 4.1) throw lines.error(`format ${v} is not supported (2.2 and 4.1 are)`);
      if (fileType !== 0) throw lines.error("binary .msh files are not supported; save as ASCII");
      mesh.version = v;
    } else if (header === "$PhysicalNames") {
      mesh.names = readPhysicalNames(lines);
    } else if (header === "$Entities" && mesh.version === 4.1) {
      readEntities(lines, mesh);
    } else if (header === "$Nodes") {
      readNodes(lines, mesh);
    } else if (header === "$Elements") {
      readElements(lines, mesh);
    } else if (header.startsWith("$")) {
      skipSection(lines, header);
      continue;
    } else {
      throw lines.error(`expected a section header such as $Nodes, got '${header}'`);
    }
    expectEnd(lines, header);
  }
  if (mesh.version === undefined)
    throw new InvalidArgumentError("readGmsh", `${source}: no $MeshFormat section (not a .msh file?)`);
  if (mesh.triangles.length === 0) {
    throw new InvalidArgumentError(
      "readGmsh",
      `${source}: no 3-node triangles (element type 2) in $Elements`,
    );
  }
  const tagNames = new Map<number, string>();
  for (const [key, name] of mesh.names) {
    const [dim, tag] = key.split(":").map(Number);
    if (dim === 1) tagNames.set(tag, name);
  }
  return triangleMesh(mesh.coordinates, mesh.triangles, {
    edgeTags: { edges: mesh.edges, tags: mesh.edgeTags },
    tagNames,
  });
}

/** What the sections of a .msh file have given so far. */
interface GmshContent {
  version: number | undefined;
  /** "dim:tag" -> physical name. */
  names: Map<string, string>;
  /** Gmsh node tag -> node index. */
  readonly nodeIndex: Map<number, number>;
  readonly coordinates: number[];
  readonly triangles: number[];
  readonly edges: number[];
  readonly edgeTags: number[];
  /** Format 4.1: the physical tag of each curve entity. */
  readonly curvePhysical: Map<number, number>;
}

/** $Entities (format 4.1): the physical tag of each curve. */
function readEntities(lines: Lines, mesh: GmshContent): void {
  const [points, curves, surfaces, volumes] = lines.numbers("$Entities");
  for (let i = 0; i < points; i++) lines.next("$Entities points");
  for (let i = 0; i < curves; i++) {
    const values = lines.numbers("$Entities curves");
    const physicalCount = values[7];
    if (physicalCount > 0) mesh.curvePhysical.set(values[0], values[8]);
  }
  for (let i = 0; i < surfaces + volumes; i++) lines.next("$Entities surfaces");
}

/** $Nodes, formats 2.2 and 4.1. */
function readNodes(lines: Lines, mesh: GmshContent): void {
  if (mesh.version === undefined) throw lines.error("$Nodes before $MeshFormat");
  const { nodeIndex, coordinates } = mesh;
  if (mesh.version === 2.2) {
    const count = lines.numbers("$Nodes")[0];
    for (let i = 0; i < count; i++) {
      const [tag, x, y] = lines.numbers("$Nodes");
      nodeIndex.set(tag, coordinates.length / 2);
      coordinates.push(x, y);
    }
    return;
  }
  const [blocks] = lines.numbers("$Nodes");
  for (let b = 0; b < blocks; b++) {
    const [, , parametric, count] = lines.numbers("$Nodes block");
    if (parametric !== 0) throw lines.error("parametric nodes are not supported");
    const tags: number[] = [];
    for (let i = 0; i < count; i++) tags.push(lines.numbers("$Nodes tags")[0]);
    for (let i = 0; i < count; i++) {
      const [x, y] = lines.numbers("$Nodes coordinates");
      nodeIndex.set(tags[i], coordinates.length / 2);
      coordinates.push(x, y);
    }
  }
}

/** $Elements, formats 2.2 and 4.1: 3-node triangles, and 2-node lines with a physical tag. */
function readElements(lines: Lines, mesh: GmshContent): void {
  const { triangles, edges, edgeTags } = mesh;
  const nodeOf = (tag: number): number => {
    const index = mesh.nodeIndex.get(tag);
    if (index === undefined) throw lines.error(`element refers to node ${tag}, which $Nodes does not define`);
    return index;
  };
  if (mesh.version === 2.2) {
    const count = lines.numbers("$Elements")[0];
    for (let i = 0; i < count; i++) {
      const values = lines.numbers("$Elements");
      const type = values[1];
      const tagCount = values[2];
      const nodes = values.slice(3 + tagCount);
      if (type === 2) triangles.push(nodeOf(nodes[0]), nodeOf(nodes[1]), nodeOf(nodes[2]));
      else if (type === 1 && tagCount > 0 && values[3] > 0) {
        edges.push(nodeOf(nodes[0]), nodeOf(nodes[1]));
        edgeTags.push(values[3]);
      }
    }
    return;
  }
  const [blocks] = lines.numbers("$Elements");
  for (let b = 0; b < blocks; b++) {
    const [dim, entity, type, count] = lines.numbers("$Elements block");
    for (let i = 0; i < count; i++) {
      const values = lines.numbers("$Elements");
      if (type === 2) triangles.push(nodeOf(values[1]), nodeOf(values[2]), nodeOf(values[3]));
      else if (type === 1 && dim === 1) {
        const tag = mesh.curvePhysical.get(entity);
        if (tag !== undefined) {
          edges.push(nodeOf(values[1]), nodeOf(values[2]));
          edgeTags.push(tag);
        }
      }
    }
  }
}

/** The distinct boundary tags of a mesh with their names (tag 0 = untagged). */
function boundaryGroups(mesh: Mesh): number[] {
  return [...new Set(mesh.boundaryTags)].filter((tag) => tag > 0).sort((a, b) => a - b);
}

/**
 * The mesh as a Gmsh ASCII file of format 2.2 (or 4.1): nodes, the triangles (physical surface 1000, named
 * "domain"), and the tagged boundary edges as lines of their physical groups with `$PhysicalNames`.
 *
 * @example
 * const text = writeGmsh(unitSquareMesh(4)); // readGmsh(text) gives the same mesh back
 */
export function writeGmsh(mesh: Mesh, version: 2.2 | 4.1 = 2.2): string {
  const out: string[] = ["$MeshFormat", `${version} 0 8`, "$EndMeshFormat"];
  const groups = boundaryGroups(mesh);
  const domainTag = 1000;
  out.push("$PhysicalNames", String(groups.length + 1));
  for (const tag of groups) out.push(`1 ${tag} "${mesh.tagNames.get(tag) ?? `boundary ${tag}`}"`);
  out.push(`2 ${domainTag} "domain"`, "$EndPhysicalNames");
  const xy = (node: number) => `${mesh.coordinates[2 * node]} ${mesh.coordinates[2 * node + 1]} 0`;
  const edgesOf = (tag: number) => {
    const list: [number, number][] = [];
    for (let i = 0; i < mesh.boundaryTags.length; i++) {
      if (mesh.boundaryTags[i] === tag) list.push([mesh.boundaryEdges[2 * i], mesh.boundaryEdges[2 * i + 1]]);
    }
    return list;
  };
  if (version === 2.2) {
    out.push("$Nodes", String(mesh.nodeCount));
    for (let node = 0; node < mesh.nodeCount; node++) out.push(`${node + 1} ${xy(node)}`);
    out.push("$EndNodes");
    const elements: string[] = [];
    for (const tag of groups) {
      for (const [a, b] of edgesOf(tag)) elements.push(`1 2 ${tag} ${tag} ${a + 1} ${b + 1}`);
    }
    for (let e = 0; e < mesh.elementCount; e++) {
      const [a, b, c] = mesh.triangles.subarray(3 * e, 3 * e + 3);
      elements.push(`2 2 ${domainTag} 1 ${a + 1} ${b + 1} ${c + 1}`);
    }
    out.push("$Elements", String(elements.length));
    elements.forEach((element, i) => {
      out.push(`${i + 1} ${element}`);
    });
    out.push("$EndElements");
    return `${out.join("\n")}\n`;
  }
  // 4.1: one curve entity per boundary group (entity tag = group tag), one surface entity
  out.push("$Entities", `0 ${groups.length} 1 0`);
  for (const tag of groups) out.push(`${tag} 0 0 0 0 0 0 1 ${tag} 0`);
  out.push(`1 0 0 0 0 0 0 1 ${domainTag} 0`, "$EndEntities");
  out.push("$Nodes", `1 ${mesh.nodeCount} 1 ${mesh.nodeCount}`, `2 1 0 ${mesh.nodeCount}`);
  for (let node = 0; node < mesh.nodeCount; node++) out.push(String(node + 1));
  for (let node = 0; node < mesh.nodeCount; node++) out.push(xy(node));
  out.push("$EndNodes");
  const lineCount = groups.reduce((total, tag) => total + edgesOf(tag).length, 0);
  const total = lineCount + mesh.elementCount;
  out.push("$Elements", `${groups.length + 1} ${total} 1 ${total}`);
  let id = 1;
  for (const tag of groups) {
    const list = edgesOf(tag);
    out.push(`1 ${tag} 1 ${list.length}`);
    for (const [a, b] of list) out.push(`${id++} ${a + 1} ${b + 1}`);
  }
  out.push(`2 1 2 ${mesh.elementCount}`);
  for (let e = 0; e < mesh.elementCount; e++) {
    const [a, b, c] = mesh.triangles.subarray(3 * e, 3 * e + 3);
    out.push(`${id++} ${a + 1} ${b + 1} ${c + 1}`);
  }
  out.push("$EndElements");
  return `${out.join("\n")}\n`;
}
