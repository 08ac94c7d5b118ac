/**
 * @file Triangle meshes for P1 finite elements: the `Mesh` record (coordinates, counter-clockwise triangles,
 * areas, boundary edges with their tags, and the numbering of the unknowns), `triangleMesh` to build one from
 * arrays, the structured `unitSquareMesh`, and the geometry of one triangle. Plain numerics on typed arrays:
 * nothing here is recorded on a tape.
 */
import { InvalidArgumentError } from "../errors.js";

/**
 * A 2D triangle mesh with the numbering of its unknowns. Nodes not in `unknownOfNode` (value -1) carry a
 * Dirichlet condition; by default those are the nodes on the boundary.
 */
export interface Mesh {
  /** Number of nodes. */
  readonly nodeCount: number;
  /** Number of triangles. */
  readonly elementCount: number;
  /** Number of unknowns (the nodes without a Dirichlet condition). */
  readonly unknownCount: number;
  /** Node coordinates, interleaved (x0, y0, x1, y1, ...). */
  readonly coordinates: Float64Array;
  /** Triangle vertices (three node indices per triangle, counter-clockwise). */
  readonly triangles: Int32Array;
  /** Triangle areas (positive). */
  readonly areas: Float64Array;
  /** Boundary edges (pairs of node indices, the domain on their left), edges that belong to one triangle. */
  readonly boundaryEdges: Int32Array;
  /** A tag per boundary edge (a physical group of the mesh file, or 0 when untagged). */
  readonly boundaryTags: Int32Array;
  /** Names of the boundary tags (for example `{ 1: "left" }`), when the mesh has them. */
  readonly tagNames: ReadonlyMap<number, string>;
  /** For every node, its unknown index, or -1 for a Dirichlet node. */
  readonly unknownOfNode: Int32Array;
  /** For every unknown, its node index (increasing). */
  readonly nodeOfUnknown: Int32Array;
}

/** Options of `triangleMesh`. */
export interface TriangleMeshOptions {
  /**
   * The nodes that carry a Dirichlet condition (they are not unknowns). Default: every node on the boundary.
   */
  readonly dirichletNodes?: ArrayLike<number>;
  /**
   * Tags of boundary edges, given as edges (pairs of node indices, any orientation) and one tag per edge.
   * Boundary edges not listed get tag 0.
   */
  readonly edgeTags?: { readonly edges: ArrayLike<number>; readonly tags: ArrayLike<number> };
  /** Names of the tags. */
  readonly tagNames?: ReadonlyMap<number, string> | Readonly<Record<number, string>>;
}

/** The key of an undirected edge. */
function edgeKey(a: number, b: number, nodeCount: number): number {
  return a < b ? a * nodeCount + b : b * nodeCount + a;
}

/**
 * A mesh from node coordinates (interleaved x, y) and triangles (three node indices each). Clockwise
 * triangles are reoriented; degenerate triangles (zero area) and indices out of range are errors. Boundary
 * edges are the edges of exactly one triangle; unknowns are numbered in increasing node order. Nodes that
 * belong to no triangle are kept (their indices stay valid) but are never unknowns.
 *
 * @example
 * // two triangles forming the unit square: every node is on the boundary, so there is no unknown
 * const mesh = triangleMesh(new Float64Array([0, 0, 1, 0, 1, 1, 0, 1]), new Int32Array([0, 1, 2, 0, 2, 3]));
 * mesh.boundaryEdges.length; // 8 (four edges)
 */
export function triangleMesh(
  coordinates: ArrayLike<number>,
  triangles: ArrayLike<number>,
  options: TriangleMeshOptions = {},
): Mesh {
  const operation = "triangleMesh";
  if (coordinates.length % 2 !== 0 || coordinates.length === 0) {
    throw new InvalidArgumentError(
      operation,
      `coordinates must be interleaved (x, y) pairs, got ${coordinates.length} numbers`,
    );
  }
  if (triangles.length % 3 !== 0 || triangles.length === 0) {
    throw new InvalidArgumentError(
      operation,
      `triangles must be triples of node indices, got ${triangles.length} indices`,
    );
  }
  const nodeCount = coordinates.length / 2;
  const elementCount = triangles.length / 3;
  const xy = Float64Array.from(coordinates);
  for (let i = 0; i < xy.length; i++) {
    if (!Number.isFinite(xy[i])) {
      throw new InvalidArgumentError(operation, `node ${i >> 1} has a non-finite coordinate ${xy[i]}`);
    }
  }
  const tri = Int32Array.from(triangles);
  const areas = orientedAreas(xy, tri, triangles, nodeCount, operation);
  const boundaryEdges = boundaryEdgesOf(tri, nodeCount);
  const boundaryTags = edgeTagsOf(boundaryEdges, options.edgeTags, nodeCount);
  const fixed = fixedNodes(tri, boundaryEdges, options.dirichletNodes, nodeCount, operation);
  const unknownOfNode = new Int32Array(nodeCount).fill(-1);
  const unknowns: number[] = [];
  for (let node = 0; node < nodeCount; node++) {
    if (fixed[node]) continue;
    unknownOfNode[node] = unknowns.length;
    unknowns.push(node);
  }
  const names =
    options.tagNames === undefined
      ? new Map<number, string>()
      : options.tagNames instanceof Map
        ? new Map(options.tagNames)
        : new Map(
            Object.entries(options.tagNames).map(([key, name]): [number, string] => [Number(key), name]),
          );
  return {
    nodeCount,
    elementCount,
    unknownCount: unknowns.length,
    coordinates: xy,
    triangles: tri,
    areas,
    boundaryEdges,
    boundaryTags,
    tagNames: names,
    unknownOfNode,
    nodeOfUnknown: Int32Array.from(unknowns),
  };
}

/**
 * Checks the node indices of every triangle, orients each counter-clockwise (swapping two nodes of `tri` in
 * place) and returns the areas; a degenerate triangle is an error.
 */
function orientedAreas(
  xy: Float64Array,
  tri: Int32Array,
  triangles: ArrayLike<number>,
  nodeCount: number,
  operation: string,
): Float64Array {
  const elementCount = tri.length / 3;
  const areas = new Float64Array(elementCount);
  for (let e = 0; e < elementCount; e++) {
    for (let k = 0; k < 3; k++) {
      const node = tri[3 * e + k];
      if (!(node >= 0 && node < nodeCount) || node !== triangles[3 * e + k]) {
        throw new InvalidArgumentError(
          operation,
          `triangle ${e} refers to node ${triangles[3 * e + k]}, outside 0..${nodeCount - 1}`,
        );
      }
    }
    let area = signedArea(xy, tri, e);
    if (area < 0) {
      const swap = tri[3 * e + 1];
      tri[3 * e + 1] = tri[3 * e + 2];
      tri[3 * e + 2] = swap;
      area = -area;
    }
    if (!(area > 0)) {
      throw new InvalidArgumentError(operation, `triangle ${e} is degenerate (zero area)`);
    }
    areas[e] = area;
  }
  return areas;
}

/** Boundary edges (node pairs, in triangle order): directed edges whose reverse does not occur. */
function boundaryEdgesOf(tri: Int32Array, nodeCount: number): Int32Array {
  const elementCount = tri.length / 3;
  const directed = new Map<number, number>();
  for (let e = 0; e < elementCount; e++) {
    for (let k = 0; k < 3; k++) {
      const a = tri[3 * e + k];
      const b = tri[3 * e + ((k + 1) % 3)];
      const key = edgeKey(a, b, nodeCount);
      directed.set(key, (directed.get(key) ?? 0) + 1);
    }
  }
  const boundary: number[] = [];
  for (let e = 0; e < elementCount; e++) {
    for (let k = 0; k < 3; k++) {
      const a = tri[3 * e + k];
      const b = tri[3 * e + ((k + 1) % 3)];
      if (directed.get(edgeKey(a, b, nodeCount)) === 1) boundary.push(a, b);
    }
  }
  return Int32Array.from(boundary);
}

/** The tag of each boundary edge from the given tagged edges (0 for an untagged edge). */
function edgeTagsOf(
  boundaryEdges: Int32Array,
  edgeTags: TriangleMeshOptions["edgeTags"],
  nodeCount: number,
): Int32Array {
  const boundaryTags = new Int32Array(boundaryEdges.length / 2);
  if (edgeTags !== undefined) {
    const { edges, tags } = edgeTags;
    const tagOf = new Map<number, number>();
    for (let i = 0; i < tags.length; i++)
      tagOf.set(edgeKey(edges[2 * i], edges[2 * i + 1], nodeCount), tags[i]);
    for (let i = 0; i < boundaryTags.length; i++) {
      boundaryTags[i] = tagOf.get(edgeKey(boundaryEdges[2 * i], boundaryEdges[2 * i + 1], nodeCount)) ?? 0;
    }
  }
  return boundaryTags;
}

/**
 * Which nodes are fixed (not unknowns): nodes of no triangle (unused points of a mesh file), and the
 * boundary nodes or, when given, the Dirichlet nodes.
 */
function fixedNodes(
  tri: Int32Array,
  boundaryEdges: Int32Array,
  dirichletNodes: TriangleMeshOptions["dirichletNodes"],
  nodeCount: number,
  operation: string,
): Uint8Array {
  const fixed = new Uint8Array(nodeCount).fill(1);
  for (const node of tri) fixed[node] = 0;
  if (dirichletNodes === undefined) {
    for (const node of boundaryEdges) fixed[node] = 1;
  } else {
    for (let i = 0; i < dirichletNodes.length; i++) {
      const node = dirichletNodes[i];
      if (!(Number.isInteger(node) && node >= 0 && node < nodeCount)) {
        throw new InvalidArgumentError(operation, `Dirichlet node ${node} is outside 0..${nodeCount - 1}`);
      }
      fixed[node] = 1;
    }
  }
  return fixed;
}

/** The signed area of triangle e (positive when counter-clockwise). */
function signedArea(coordinates: Float64Array, triangles: Int32Array, e: number): number {
  const a = triangles[3 * e];
  const b = triangles[3 * e + 1];
  const c = triangles[3 * e + 2];
  const xa = coordinates[2 * a];
  const ya = coordinates[2 * a + 1];
  return (
    0.5 *
    ((coordinates[2 * b] - xa) * (coordinates[2 * c + 1] - ya) -
      (coordinates[2 * c] - xa) * (coordinates[2 * b + 1] - ya))
  );
}

/** Boundary tags of `rectangleMesh` and `unitSquareMesh`. */
export const SQUARE_TAGS = { bottom: 1, right: 2, top: 3, left: 4 } as const;

/**
 * The structured mesh of the unit square with `cellsPerSide` cells per side, each cut into two
 * counter-clockwise triangles along the diagonal from (x, y) to (x + h, y + h). Nodes are numbered row by
 * row from (0, 0); the boundary carries the tags bottom = 1, right = 2, top = 3, left = 4, and every boundary
 * node is a Dirichlet node.
 *
 * @example
 * const mesh = unitSquareMesh(4);
 * mesh.nodeCount; // 25
 * mesh.elementCount; // 32
 * mesh.unknownCount; // 9
 */
export function unitSquareMesh(cellsPerSide: number): Mesh {
  return rectangleMesh(cellsPerSide, cellsPerSide, { width: 1, height: 1, operation: "unitSquareMesh" });
}

/**
 * A structured mesh of the rectangle [x0, x0 + width] x [y0, y0 + height] with `nx` x `ny` cells, two
 * triangles each (see `unitSquareMesh`, which is the case of the unit square).
 *
 * @example
 * rectangleMesh(4, 2, { width: 2, height: 1 }).elementCount; // 16
 */
export function rectangleMesh(
  nx: number,
  ny: number,
  options: { width?: number; height?: number; x0?: number; y0?: number; operation?: string } = {},
): Mesh {
  const operation = options.operation ?? "rectangleMesh";
  for (const [name, value] of [
    ["cells along x", nx],
    ["cells along y", ny],
  ] as const) {
    if (!Number.isInteger(value) || value < 2) {
      throw new InvalidArgumentError(operation, `${name} must be an integer >= 2, got ${value}`);
    }
  }
  const width = options.width ?? 1;
  const height = options.height ?? 1;
  const x0 = options.x0 ?? 0;
  const y0 = options.y0 ?? 0;
  const side = nx + 1;
  const coordinates = new Float64Array(2 * side * (ny + 1));
  for (let j = 0; j <= ny; j++) {
    for (let i = 0; i <= nx; i++) {
      const node = j * side + i;
      coordinates[2 * node] = x0 + (width * i) / nx;
      coordinates[2 * node + 1] = y0 + (height * j) / ny;
    }
  }
  const triangles = new Int32Array(6 * nx * ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const n00 = j * side + i;
      const n10 = n00 + 1;
      const n01 = n00 + side;
      const n11 = n01 + 1;
      const e = 2 * (j * nx + i);
      triangles.set([n00, n10, n11], 3 * e);
      triangles.set([n00, n11, n01], 3 * (e + 1));
    }
  }
  const edges: number[] = [];
  const tags: number[] = [];
  for (let i = 0; i < nx; i++) {
    edges.push(i, i + 1, ny * side + i, ny * side + i + 1);
    tags.push(SQUARE_TAGS.bottom, SQUARE_TAGS.top);
  }
  for (let j = 0; j < ny; j++) {
    edges.push(j * side + nx, (j + 1) * side + nx, j * side, (j + 1) * side);
    tags.push(SQUARE_TAGS.right, SQUARE_TAGS.left);
  }
  return triangleMesh(coordinates, triangles, {
    edgeTags: { edges, tags },
    tagNames: new Map(Object.entries(SQUARE_TAGS).map(([name, tag]): [number, string] => [tag, name])),
  });
}

/** Area and basis-function gradients of one triangle. */
export interface ElementGeometry {
  /** The triangle's area (positive for counter-clockwise vertices). */
  readonly area: number;
  /** Gradients of the three barycentric basis functions: (dx0, dy0, dx1, dy1, dx2, dy2). */
  readonly gradients: Float64Array;
}

/**
 * Area and constant basis-function gradients of triangle `element`:
 * grad phi_a = (y_b - y_c, x_c - x_b) / (2 area) for (a, b, c) a cyclic permutation of the vertices.
 *
 * @example
 * const mesh = unitSquareMesh(2);
 * elementGeometry(mesh.coordinates, mesh.triangles, 0).area; // 0.125
 */
export function elementGeometry(
  coordinates: Float64Array,
  triangles: Int32Array,
  element: number,
): ElementGeometry {
  const a = triangles[3 * element];
  const b = triangles[3 * element + 1];
  const c = triangles[3 * element + 2];
  const xa = coordinates[2 * a];
  const ya = coordinates[2 * a + 1];
  const xb = coordinates[2 * b];
  const yb = coordinates[2 * b + 1];
  const xc = coordinates[2 * c];
  const yc = coordinates[2 * c + 1];
  const twiceArea = (xb - xa) * (yc - ya) - (xc - xa) * (yb - ya);
  const gradients = new Float64Array([
    (yb - yc) / twiceArea,
    (xc - xb) / twiceArea,
    (yc - ya) / twiceArea,
    (xa - xc) / twiceArea,
    (ya - yb) / twiceArea,
    (xb - xa) / twiceArea,
  ]);
  return { area: 0.5 * twiceArea, gradients };
}

/**
 * The same mesh with the Dirichlet nodes chosen by boundary tag: the nodes of the boundary edges whose tag
 * is in `tags` (the rest of the boundary then carries a natural, Neumann, condition).
 *
 * @example
 * const mesh = withDirichletTags(unitSquareMesh(8), [SQUARE_TAGS.left, SQUARE_TAGS.right]);
 */
export function withDirichletTags(mesh: Mesh, tags: readonly number[]): Mesh {
  const known = new Set(mesh.boundaryTags);
  for (const tag of tags) {
    if (!known.has(tag)) {
      throw new InvalidArgumentError(
        "withDirichletTags",
        `no boundary edge has tag ${tag}; the mesh's tags are ${[...known].sort((a, b) => a - b).join(", ")}`,
      );
    }
  }
  const wanted = new Set(tags);
  const nodes: number[] = [];
  for (let i = 0; i < mesh.boundaryTags.length; i++) {
    if (wanted.has(mesh.boundaryTags[i]))
      nodes.push(mesh.boundaryEdges[2 * i], mesh.boundaryEdges[2 * i + 1]);
  }
  return triangleMesh(mesh.coordinates, mesh.triangles, {
    dirichletNodes: nodes,
    edgeTags: { edges: mesh.boundaryEdges, tags: mesh.boundaryTags },
    tagNames: mesh.tagNames,
  });
}

/**
 * The L-shaped domain [0, 2]^2 minus (1, 2]^2 with `cellsPerUnit` cells per unit length (two triangles per
 * cell). One boundary tag: 1 = "boundary" (nodes of the removed corner belong to no triangle).
 *
 * @example
 * lShapeMesh(4).elementCount; // 3 * 2 * 16 = 96
 */
export function lShapeMesh(cellsPerUnit: number): Mesh {
  const square = rectangleMesh(2 * cellsPerUnit, 2 * cellsPerUnit, {
    width: 2,
    height: 2,
    operation: "lShapeMesh",
  });
  const kept: number[] = [];
  for (let e = 0; e < square.elementCount; e++) {
    const [p, q, r] = square.triangles.subarray(3 * e, 3 * e + 3);
    const cx = (square.coordinates[2 * p] + square.coordinates[2 * q] + square.coordinates[2 * r]) / 3;
    const cy =
      (square.coordinates[2 * p + 1] + square.coordinates[2 * q + 1] + square.coordinates[2 * r + 1]) / 3;
    if (cx < 1 || cy < 1) kept.push(p, q, r);
  }
  return tagAllBoundary(triangleMesh(square.coordinates, kept), 1, "boundary");
}

/** The mesh with every boundary edge tagged `tag`. */
function tagAllBoundary(mesh: Mesh, tag: number, name: string): Mesh {
  return triangleMesh(mesh.coordinates, mesh.triangles, {
    edgeTags: { edges: mesh.boundaryEdges, tags: new Int32Array(mesh.boundaryTags.length).fill(tag) },
    tagNames: new Map([[tag, name]]),
  });
}

/**
 * The annulus r0 <= |x - c| <= r1 (r0 > 0), or the disk (r0 = 0), with `rings` rings of triangles: a
 * structured polar mesh whose ring k has about 2 pi r_k / h nodes (h = (r1 - r0) / rings), so that the
 * triangles stay close to equilateral. Boundary tags: 1 = "outer", 2 = "inner" (annulus only).
 *
 * @example
 * annulusMesh({ inner: 0.5, outer: 1, rings: 4 }).tagNames; // Map { 1 => "outer", 2 => "inner" }
 * annulusMesh({ inner: 0, outer: 1, rings: 6 }); // the unit disk
 */
export function annulusMesh(options: {
  inner: number;
  outer: number;
  rings: number;
  center?: readonly [number, number];
}): Mesh {
  const operation = "annulusMesh";
  const { inner, outer, rings } = options;
  const [cx, cy] = options.center ?? [0, 0];
  if (!(inner >= 0 && outer > inner && Number.isFinite(outer))) {
    throw new InvalidArgumentError(operation, `need 0 <= inner < outer, got inner ${inner}, outer ${outer}`);
  }
  if (!Number.isInteger(rings) || rings < 1) {
    throw new InvalidArgumentError(operation, `rings must be an integer >= 1, got ${rings}`);
  }
  const h = (outer - inner) / rings;
  const coordinates: number[] = [];
  const ringStart: number[] = [];
  const ringCount: number[] = [];
  for (let k = 0; k <= rings; k++) {
    const r = inner + k * h;
    ringStart.push(coordinates.length / 2);
    if (r === 0) {
      coordinates.push(cx, cy);
      ringCount.push(1);
      continue;
    }
    const count = Math.max(6, Math.round((2 * Math.PI * r) / h));
    ringCount.push(count);
    for (let i = 0; i < count; i++) {
      const angle = (2 * Math.PI * i) / count;
      coordinates.push(cx + r * Math.cos(angle), cy + r * Math.sin(angle));
    }
  }
  const triangles: number[] = [];
  for (let k = 0; k < rings; k++) {
    const a0 = ringStart[k];
    const na = ringCount[k];
    const b0 = ringStart[k + 1];
    const nb = ringCount[k + 1];
    if (na === 1) {
      for (let j = 0; j < nb; j++) triangles.push(a0, b0 + j, b0 + ((j + 1) % nb));
      continue;
    }
    // merge the two rings by angle: advance on whichever ring's next node comes first
    let i = 0;
    let j = 0;
    while (i < na || j < nb) {
      const nextA = (i + 1) / na;
      const nextB = (j + 1) / nb;
      if (j >= nb || (i < na && nextA <= nextB)) {
        triangles.push(a0 + (i % na), a0 + ((i + 1) % na), b0 + (j % nb));
        i++;
      } else {
        triangles.push(a0 + (i % na), b0 + ((j + 1) % nb), b0 + (j % nb));
        j++;
      }
    }
  }
  const edges: number[] = [];
  const tags: number[] = [];
  const outerStart = ringStart[rings];
  for (let j = 0; j < ringCount[rings]; j++) {
    edges.push(outerStart + j, outerStart + ((j + 1) % ringCount[rings]));
    tags.push(1);
  }
  const names = new Map([[1, "outer"]]);
  if (inner > 0) {
    names.set(2, "inner");
    for (let j = 0; j < ringCount[0]; j++) {
      edges.push(j, (j + 1) % ringCount[0]);
      tags.push(2);
    }
  }
  return triangleMesh(coordinates, triangles, { edgeTags: { edges, tags }, tagNames: names });
}
