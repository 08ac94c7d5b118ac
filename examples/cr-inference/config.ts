/**
 * @file The main job on a user's own data (`npm start -- --config run.json`): the run configuration (a
 * JSON file, schema in `config.schema.json`), validated with errors that name the key; the mesh (a Gmsh
 * file or a built-in), boundary conditions per physical group, the source term, observations from CSV,
 * the CR family with its start and bounds; the inference with the Laplace uncertainty, and the outputs
 * (report text and JSON, the flux figure, the solution on the mesh as `.vtu`). A `synthesize` section makes
 * the observation CSV (and writes the mesh) from a true CR instead.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { AdjFloat, Control, NDArray, np, Tape, withTape } from "tsadjoint";
import {
  annulusMesh,
  dirichletGradient,
  elementGradients,
  formatObservations,
  fullLoadVector,
  gaussianMisfit,
  laplaceApproximation,
  lShapeMesh,
  type Mesh,
  meshBounds,
  NORMAL_95,
  neumannLoad,
  nodalLoadVector,
  observationOffsets,
  observationOperator,
  observe,
  p1Space,
  parseObservations,
  readGmsh,
  restrictToUnknowns,
  sensorPoints,
  solveFlux,
  unitSquareMesh,
  withDirichletTags,
  writeGmsh,
  writeVtu,
} from "tsadjoint/fem";
import { minimize } from "tsadjoint/optimize";
import {
  type ConstitutiveModel,
  type CrParameter,
  carreauModel,
  networkModel,
  powerLawModel,
} from "./constitutive.js";
import { fluxFigure, renderFigure, spectrumFigure } from "./plots.js";
import { GuardedReducedFunctional, type SolveCounters } from "./problem.js";
import { fluxBand, NETWORK_PRIOR_PRECISION } from "./uncertainty.js";

/** A configuration error: names the key (`mesh.builtin`) and what is accepted. */
export class ConfigError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The CR families and their parameters (in control order). */
export const FAMILIES = {
  "power-law": ["p", "k"],
  carreau: ["k", "lambda", "n"],
  network: [],
} as const;
export type FamilyName = keyof typeof FAMILIES;

/** Named source expressions f(x, y) with their parameters and defaults (no eval of user strings). */
export const EXPRESSIONS = {
  "cubic-ramp": {
    parameters: { a: 0.5, b: 20 },
    text: "a + b x^3",
    f: (c: Params, x: number) => c.a + c.b * x ** 3,
  },
  gaussian: {
    parameters: { amplitude: 10, x0: 0, y0: 0, width: 0.3 },
    text: "amplitude exp(-((x - x0)^2 + (y - y0)^2) / (2 width^2))",
    f: (c: Params, x: number, y: number) =>
      c.amplitude * Math.exp(-((x - c.x0) ** 2 + (y - c.y0) ** 2) / (2 * c.width ** 2)),
  },
  "sine-product": {
    parameters: { amplitude: 10, kx: 1, ky: 1 },
    text: "amplitude sin(kx pi x) sin(ky pi y)",
    f: (c: Params, x: number, y: number) =>
      c.amplitude * Math.sin(c.kx * Math.PI * x) * Math.sin(c.ky * Math.PI * y),
  },
} as const;
type Params = Record<string, number>;

/** The validated configuration. */
export interface RunConfig {
  readonly mesh:
    | { readonly file: string }
    | {
        readonly builtin: "unit-square" | "l-shape" | "disk" | "annulus";
        readonly cells: number;
        readonly inner: number;
        readonly outer: number;
      };
  /** Boundary conditions by physical group name (or tag number as a string). */
  readonly boundary: ReadonlyMap<string, { kind: "dirichlet" | "neumann"; value: number }>;
  readonly source:
    | { readonly kind: "constant"; readonly value: number }
    | { readonly kind: "nodal"; readonly values: number[] | string }
    | { readonly kind: "expression"; readonly name: keyof typeof EXPRESSIONS; readonly parameters: Params };
  readonly observations: { readonly file: string; readonly sigma: number | null };
  readonly cr: {
    readonly family: FamilyName;
    readonly start: Params;
    readonly bounds: Record<string, [number | null, number | null]>;
    readonly seed: number;
    readonly eps: number;
  };
  readonly truth: Params | null;
  readonly optimizer: "l-bfgs-b" | "newton-cg" | "bfgs";
  readonly maxIterations: number;
  readonly output: string;
  readonly synthesize: {
    readonly parameters: Params;
    readonly family: FamilyName;
    readonly sensors: number;
    readonly noise: number;
    readonly seed: number;
    readonly meshOutput: string | null;
  } | null;
  /** Folder of the config file: relative paths are resolved against it. */
  readonly folder: string;
}

const DEFAULT_BOUNDS: Record<string, [number, number]> = {
  p: [1.2, 6],
  k: [0.001, 1000],
  lambda: [0, 1000],
  n: [0.1, 5],
};
const DEFAULT_START: Record<string, number> = { p: 2, k: 0.5, lambda: 1, n: 1, outputBias: 0.5 };

function typeOf(value: Json | undefined): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}

function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let distance = Number.POSITIVE_INFINITY;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < distance) [best, distance] = [candidate, d];
  }
  return distance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** A JSON object at `path` whose keys are all in `allowed` (unknown keys: an error with a did-you-mean). */
function object(value: Json | undefined, path: string, allowed: readonly string[]): JsonObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(`${path}: expected an object, got ${typeOf(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const guess = closest(key, allowed);
      throw new ConfigError(
        `${path === "config" ? "" : `${path}.`}${key}: unknown key${guess ? ` (did you mean '${guess}'?)` : ""}; accepted: ${allowed.join(", ")}`,
      );
    }
  }
  return value;
}

function number(
  value: Json | undefined,
  path: string,
  check: { min?: number; max?: number; integer?: boolean; positive?: boolean } = {},
): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ConfigError(
      `${path}: expected a finite number, got ${typeOf(value)}${typeof value === "string" ? ` '${value}'` : ""}`,
    );
  }
  if (check.integer && !Number.isInteger(value))
    throw new ConfigError(`${path}: expected an integer, got ${value}`);
  if (check.positive && !(value > 0)) throw new ConfigError(`${path}: must be positive, got ${value}`);
  if (check.min !== undefined && value < check.min)
    throw new ConfigError(`${path}: must be >= ${check.min}, got ${value}`);
  if (check.max !== undefined && value > check.max)
    throw new ConfigError(`${path}: must be <= ${check.max}, got ${value}`);
  return value;
}

function string(value: Json | undefined, path: string): string {
  if (typeof value !== "string" || value.length === 0)
    throw new ConfigError(`${path}: expected a non-empty string, got ${typeOf(value)}`);
  return value;
}

function oneOf<T extends string>(value: Json | undefined, path: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(
      `${path}: expected one of ${allowed.map((a) => `'${a}'`).join(", ")}, got ${typeof value === "string" ? `'${value}'` : typeOf(value)}`,
    );
  }
  return value as T;
}

function parameters(value: Json | undefined, path: string, names: readonly string[]): Params {
  const entries = object(value, path, names);
  const out: Params = {};
  for (const name of names) {
    if (entries[name] === undefined)
      throw new ConfigError(`${path}.${name}: missing (needs ${names.join(", ")})`);
    out[name] = number(entries[name], `${path}.${name}`);
  }
  return out;
}

/**
 * Validates a parsed JSON configuration (see `config.schema.json` and the README); `folder` resolves
 * relative paths. Every error is a ConfigError naming the key.
 *
 * @example
 * const config = validateConfig(JSON.parse(text), "examples/data");
 */
export function validateConfig(raw: Json, folder = "."): RunConfig {
  const top = object(raw, "config", [
    "$schema",
    "mesh",
    "boundary",
    "source",
    "observations",
    "cr",
    "truth",
    "optimizer",
    "maxIterations",
    "output",
    "synthesize",
  ]);
  // mesh
  if (top.mesh === undefined)
    throw new ConfigError('mesh: missing (a Gmsh file { "file": ... } or { "builtin": ... })');
  const meshEntry = object(top.mesh, "mesh", ["file", "builtin", "cells", "inner", "outer"]);
  let mesh: RunConfig["mesh"];
  if (meshEntry.file !== undefined) {
    if (meshEntry.builtin !== undefined)
      throw new ConfigError("mesh: give either 'file' or 'builtin', not both");
    mesh = { file: string(meshEntry.file, "mesh.file") };
  } else {
    const builtin = oneOf(meshEntry.builtin, "mesh.builtin", [
      "unit-square",
      "l-shape",
      "disk",
      "annulus",
    ] as const);
    mesh = {
      builtin,
      cells:
        meshEntry.cells === undefined
          ? 16
          : number(meshEntry.cells, "mesh.cells", { integer: true, min: 2, max: 512 }),
      inner:
        meshEntry.inner === undefined
          ? builtin === "annulus"
            ? 0.5
            : 0
          : number(meshEntry.inner, "mesh.inner", { min: 0 }),
      outer: meshEntry.outer === undefined ? 1 : number(meshEntry.outer, "mesh.outer", { positive: true }),
    };
    if ((builtin === "annulus" || builtin === "disk") && !(mesh.outer > mesh.inner)) {
      throw new ConfigError(`mesh.inner: must be below mesh.outer (${mesh.outer}), got ${mesh.inner}`);
    }
    if (builtin === "annulus" && !(mesh.inner > 0))
      throw new ConfigError(`mesh.inner: an annulus needs inner > 0, got ${mesh.inner}`);
  }
  // boundary
  if (top.boundary === undefined)
    throw new ConfigError(
      'boundary: missing (conditions per physical group, e.g. { "outer": { "dirichlet": 0 } })',
    );
  const boundaryEntry = object(top.boundary, "boundary", Object.keys(top.boundary as JsonObject));
  const boundary = new Map<string, { kind: "dirichlet" | "neumann"; value: number }>();
  for (const [group, condition] of Object.entries(boundaryEntry)) {
    const path = `boundary.${group}`;
    const entry = object(condition, path, ["dirichlet", "neumann"]);
    const kinds = Object.keys(entry);
    if (kinds.length !== 1) throw new ConfigError(`${path}: give exactly one of 'dirichlet' or 'neumann'`);
    const kind = kinds[0] as "dirichlet" | "neumann";
    boundary.set(group, { kind, value: number(entry[kind], `${path}.${kind}`) });
  }
  if (![...boundary.values()].some((c) => c.kind === "dirichlet")) {
    throw new ConfigError(
      "boundary: at least one group needs a Dirichlet condition (otherwise u is determined up to a constant)",
    );
  }
  // source
  let source: RunConfig["source"];
  const rawSource = top.source ?? 1;
  if (typeof rawSource === "number") source = { kind: "constant", value: number(rawSource, "source") };
  else {
    const entry = object(rawSource, "source", [
      "constant",
      "nodal",
      "expression",
      ...new Set(Object.values(EXPRESSIONS).flatMap((e) => Object.keys(e.parameters))),
    ]);
    if (entry.constant !== undefined)
      source = { kind: "constant", value: number(entry.constant, "source.constant") };
    else if (entry.nodal !== undefined) {
      const nodal = entry.nodal;
      if (typeof nodal === "string") source = { kind: "nodal", values: nodal };
      else if (Array.isArray(nodal))
        source = { kind: "nodal", values: nodal.map((v, i) => number(v, `source.nodal[${i}]`)) };
      else
        throw new ConfigError(
          `source.nodal: expected an array of nodal values or a file name, got ${typeOf(nodal)}`,
        );
    } else {
      const name = oneOf(
        entry.expression,
        "source.expression",
        Object.keys(EXPRESSIONS) as (keyof typeof EXPRESSIONS)[],
      );
      const spec = EXPRESSIONS[name];
      const values: Params = { ...spec.parameters };
      for (const [key, value] of Object.entries(entry)) {
        if (key === "expression") continue;
        if (!(key in spec.parameters)) {
          throw new ConfigError(
            `source.${key}: not a parameter of '${name}' (${Object.keys(spec.parameters).join(", ")})`,
          );
        }
        values[key] = number(value, `source.${key}`);
      }
      source = { kind: "expression", name, parameters: values };
    }
  }
  // cr
  const crEntry = object(top.cr ?? { family: "power-law" }, "cr", [
    "family",
    "start",
    "bounds",
    "seed",
    "eps",
  ]);
  const family = oneOf(crEntry.family ?? "power-law", "cr.family", Object.keys(FAMILIES) as FamilyName[]);
  const names: readonly string[] = family === "network" ? ["outputBias"] : FAMILIES[family];
  const start: Params = {};
  const startEntry = crEntry.start === undefined ? {} : object(crEntry.start, "cr.start", names);
  for (const name of names)
    start[name] =
      startEntry[name] === undefined ? DEFAULT_START[name] : number(startEntry[name], `cr.start.${name}`);
  const bounds: Record<string, [number | null, number | null]> = {};
  if (family !== "network") {
    const boundsEntry = crEntry.bounds === undefined ? {} : object(crEntry.bounds, "cr.bounds", names);
    for (const name of names) {
      const given = boundsEntry[name];
      if (given === undefined) bounds[name] = DEFAULT_BOUNDS[name];
      else {
        if (!Array.isArray(given) || given.length !== 2)
          throw new ConfigError(`cr.bounds.${name}: expected [lower, upper] (null for none)`);
        const pair = given.map((v, i) => (v === null ? null : number(v, `cr.bounds.${name}[${i}]`))) as [
          number | null,
          number | null,
        ];
        if (pair[0] !== null && pair[1] !== null && !(pair[0] < pair[1]))
          throw new ConfigError(`cr.bounds.${name}: lower ${pair[0]} must be below upper ${pair[1]}`);
        bounds[name] = pair;
      }
      const [low, high] = bounds[name];
      if ((low !== null && start[name] < low) || (high !== null && start[name] > high)) {
        throw new ConfigError(`cr.start.${name}: ${start[name]} is outside the bounds [${low}, ${high}]`);
      }
    }
  } else if (crEntry.bounds !== undefined)
    throw new ConfigError("cr.bounds: the network's weights have no bounds");
  const seed = crEntry.seed === undefined ? 1 : number(crEntry.seed, "cr.seed", { integer: true });
  const eps = crEntry.eps === undefined ? 1e-8 : number(crEntry.eps, "cr.eps", { min: 0 });
  // observations
  if (top.observations === undefined)
    throw new ConfigError('observations: missing ({ "file": "observations.csv" })');
  const obsEntry = object(top.observations, "observations", ["file", "sigma"]);
  const observations = {
    file: string(obsEntry.file, "observations.file"),
    sigma:
      obsEntry.sigma === undefined ? null : number(obsEntry.sigma, "observations.sigma", { positive: true }),
  };
  const truth =
    top.truth === undefined
      ? null
      : parameters(top.truth, "truth", family === "network" ? [] : FAMILIES[family]);
  let synthesize: RunConfig["synthesize"] = null;
  if (top.synthesize !== undefined) {
    const entry = object(top.synthesize, "synthesize", [
      "family",
      "parameters",
      "sensors",
      "noise",
      "seed",
      "meshOutput",
    ]);
    const synthFamily = oneOf(entry.family ?? family, "synthesize.family", ["power-law", "carreau"] as const);
    synthesize = {
      family: synthFamily,
      parameters: parameters(entry.parameters, "synthesize.parameters", FAMILIES[synthFamily]),
      sensors:
        entry.sensors === undefined
          ? 100
          : number(entry.sensors, "synthesize.sensors", { integer: true, min: 1 }),
      noise: entry.noise === undefined ? 0.01 : number(entry.noise, "synthesize.noise", { min: 0 }),
      seed: entry.seed === undefined ? 1 : number(entry.seed, "synthesize.seed", { integer: true }),
      meshOutput: entry.meshOutput === undefined ? null : string(entry.meshOutput, "synthesize.meshOutput"),
    };
  }
  return {
    mesh,
    boundary,
    source,
    observations,
    cr: { family, start, bounds, seed, eps },
    truth,
    optimizer: oneOf(top.optimizer ?? "l-bfgs-b", "optimizer", ["l-bfgs-b", "newton-cg", "bfgs"] as const),
    maxIterations:
      top.maxIterations === undefined
        ? family === "network"
          ? 100
          : 50
        : number(top.maxIterations, "maxIterations", { integer: true, min: 1 }),
    output: top.output === undefined ? "out" : string(top.output, "output"),
    synthesize,
    folder,
  };
}

/** Reads and validates a configuration file (JSON syntax errors name the file). */
export async function loadConfig(path: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let raw: Json;
  try {
    raw = JSON.parse(text) as Json;
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  return validateConfig(raw, dirname(path));
}

const at = (config: RunConfig, file: string) => resolve(config.folder, file);

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`${what}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The mesh of a configuration (before the Dirichlet groups are applied). */
export async function configMesh(config: RunConfig): Promise<Mesh> {
  const m = config.mesh;
  if ("file" in m) return readGmsh(await readText(at(config, m.file), "mesh.file"), m.file);
  switch (m.builtin) {
    case "unit-square":
      return unitSquareMesh(m.cells);
    case "l-shape":
      return lShapeMesh(m.cells);
    case "disk":
      return annulusMesh({ inner: 0, outer: m.outer, rings: m.cells });
    default:
      return annulusMesh({ inner: m.inner, outer: m.outer, rings: m.cells });
  }
}

/** Everything the discrete problem of a configuration needs. */
export interface ConfigProblem {
  readonly mesh: Mesh;
  readonly load: Float64Array;
  /** Values at every node of the Dirichlet data (zero elsewhere). */
  readonly dirichletValues: Float64Array;
  readonly dirichletGradient: Float64Array;
  readonly sourceText: string;
}

/** The tag of a boundary group given by name or number; an error lists the mesh's groups. */
function tagOf(mesh: Mesh, group: string): number {
  for (const [tag, name] of mesh.tagNames) if (name === group) return tag;
  const numeric = Number(group);
  if (Number.isInteger(numeric) && mesh.boundaryTags.includes(numeric)) return numeric;
  const groups = [...new Set(mesh.boundaryTags)]
    .filter((t) => t > 0)
    .sort((a, b) => a - b)
    .map((t) => mesh.tagNames.get(t) ?? String(t));
  throw new ConfigError(
    `boundary.${group}: the mesh has no boundary group '${group}'; its groups are ${groups.join(", ") || "(none: untagged boundary)"}`,
  );
}

/** Mesh with Dirichlet groups, loads and Dirichlet data of a configuration. */
export async function configProblem(config: RunConfig): Promise<ConfigProblem> {
  const base = await configMesh(config);
  const dirichletTags: number[] = [];
  const neumann = new Map<number, number>();
  const values = new Float64Array(base.nodeCount);
  for (const [group, condition] of config.boundary) {
    const tag = tagOf(base, group);
    if (condition.kind === "neumann") {
      neumann.set(tag, condition.value);
      continue;
    }
    dirichletTags.push(tag);
    for (let i = 0; i < base.boundaryTags.length; i++) {
      if (base.boundaryTags[i] !== tag) continue;
      values[base.boundaryEdges[2 * i]] = condition.value;
      values[base.boundaryEdges[2 * i + 1]] = condition.value;
    }
  }
  const mesh = withDirichletTags(base, dirichletTags);
  let full: Float64Array;
  let sourceText: string;
  const source = config.source;
  if (source.kind === "constant") {
    full = fullLoadVector(mesh, () => source.value);
    sourceText = String(source.value);
  } else if (source.kind === "nodal") {
    let nodal: number[];
    if (typeof source.values === "string") {
      const text = await readText(at(config, source.values), "source.nodal");
      nodal = text
        .split(/\s+/)
        .filter((t) => t.length > 0)
        .map((t, i) => {
          const value = Number(t);
          if (!Number.isFinite(value))
            throw new ConfigError(`source.nodal: value ${i + 1} '${t}' of ${source.values} is not a number`);
          return value;
        });
    } else nodal = source.values;
    if (nodal.length !== mesh.nodeCount) {
      throw new ConfigError(
        `source.nodal: expected one value per mesh node (${mesh.nodeCount}), got ${nodal.length}`,
      );
    }
    full = nodalLoadVector(mesh, nodal);
    sourceText = "nodal field";
  } else {
    const spec = EXPRESSIONS[source.name];
    full = fullLoadVector(mesh, (x, y) => spec.f(source.parameters, x, y));
    sourceText = `${source.name}: ${spec.text} (${Object.entries(source.parameters)
      .map(([k, v]) => `${k} = ${v}`)
      .join(", ")})`;
  }
  const withNeumann = neumannLoad(mesh, neumann);
  for (let i = 0; i < full.length; i++) full[i] += withNeumann[i];
  for (let node = 0; node < mesh.nodeCount; node++) if (mesh.unknownOfNode[node] >= 0) values[node] = 0;
  return {
    mesh,
    load: restrictToUnknowns(mesh, full),
    dirichletValues: values,
    dirichletGradient: dirichletGradient(mesh, values),
    sourceText,
  };
}

/** The CR of a family at a start (with the configured bounds). */
export async function configModel(
  family: FamilyName,
  start: Params,
  config: RunConfig,
): Promise<ConstitutiveModel> {
  const model =
    family === "power-law"
      ? await powerLawModel("native", start.p, start.k)
      : family === "carreau"
        ? carreauModel({ k: start.k, lambda: start.lambda, n: start.n }, config.cr.eps)
        : await networkModel("native", config.cr.seed, start.outputBias ?? 0.5);
  if (family === "network") return model;
  return { ...model, bounds: FAMILIES[family].map((name) => config.cr.bounds[name] ?? DEFAULT_BOUNDS[name]) };
}

/** Solves the forward problem for given CR parameters (no tape kept): nodal values on the unknowns. */
function solveWith(
  problem: ConfigProblem,
  cr: ConstitutiveModel,
  parameters: CrParameter[],
  start?: Float64Array,
): NDArray {
  const space = p1Space(problem.mesh);
  return withTape(new Tape(), () =>
    solveFlux(space, (g, ...theta: CrParameter[]) => cr.flux(g, theta), parameters, {
      load: problem.load,
      dirichletGradient: problem.dirichletGradient,
      initialGuess: start,
      relativeTolerance: 1e-11,
      absoluteTolerance: 1e-13,
      stepTolerance: 1e-13,
      maxIterations: 60,
    }),
  );
}

/** A linear solve (q = k g) as Newton's start. */
function linearStart(problem: ConfigProblem, k: number): Float64Array {
  const linear: ConstitutiveModel = {
    kind: "power-law",
    engine: "native",
    names: [],
    initial: [],
    bounds: [],
    float32: false,
    flux: (g) => np.multiply(g, k) as NDArray,
    fluxMagnitude: (m) => m.map((g) => k * g),
    describe: () => "",
    dispose: () => {},
  };
  return solveWith(problem, linear, []).data;
}

/**
 * `synthesize`: solves with the true CR, samples `sensors` jittered points inside the mesh, adds Gaussian
 * noise (noise x RMS of the clean values, seeded) and writes the observation CSV (with its sigma column)
 * and, when asked, the mesh as Gmsh 4.1. Returns the paths written.
 */
export async function synthesize(
  config: RunConfig,
  log: (line: string) => void = () => {},
): Promise<string[]> {
  const synth = config.synthesize;
  if (synth === null) throw new ConfigError("synthesize: missing");
  const problem = await configProblem(config);
  const cr = await configModel(synth.family, synth.parameters, config);
  const truth = solveWith(problem, cr, cr.initial.slice(), linearStart(problem, synth.parameters.k));
  const rng = np.random.default_rng(synth.seed);
  const perSide = Math.ceil(Math.sqrt(synth.sensors * 1.6));
  const bounds = meshBounds(problem.mesh);
  const candidates = sensorPoints(perSide, () => rng.nextDouble(), 0.02 * (bounds[2] - bounds[0]), {
    box: bounds,
    mesh: problem.mesh,
  });
  const count = Math.min(synth.sensors, candidates.length / 2);
  const points = candidates.slice(0, 2 * count);
  const clean = observationOperator(problem.mesh, points).matvec(truth.data);
  const offsets = observationOffsets(problem.mesh, points, problem.dirichletValues);
  let squares = 0;
  for (let i = 0; i < count; i++) {
    clean[i] += offsets[i];
    squares += clean[i] ** 2;
  }
  const sigma = synth.noise * Math.sqrt(squares / count);
  const observed = clean.map((v) => v + sigma * rng.nextNormal());
  const written: string[] = [];
  const csvPath = at(config, config.observations.file);
  await mkdir(dirname(csvPath), { recursive: true });
  await writeFile(csvPath, formatObservations(points, observed, new Float64Array(count).fill(sigma)));
  written.push(csvPath);
  if (synth.meshOutput !== null) {
    const meshPath = at(config, synth.meshOutput);
    await writeFile(meshPath, writeGmsh(await configMesh(config), 4.1));
    written.push(meshPath);
  }
  log(
    `  synthesized ${count} observations from the ${synth.family} CR (${Object.entries(synth.parameters)
      .map(([k, v]) => `${k} = ${v}`)
      .join(", ")}), noise sigma ${sigma.toExponential(3)}`,
  );
  cr.dispose();
  return written;
}

/** The result of a configuration run. */
export interface ConfigReport {
  readonly mesh: { nodes: number; elements: number; unknowns: number; groups: string[] };
  readonly source: string;
  readonly observations: number;
  readonly family: FamilyName;
  readonly optimizer: { method: string; iterations: number; stopReason: string };
  readonly parameters: {
    name: string;
    start: number;
    inferred: number;
    standardDeviation: number;
    interval: [number, number];
    truth: number | null;
    relativeError: number | null;
    coversTruth: boolean | null;
  }[];
  readonly correlation: number[][];
  readonly eigenvalues: number[];
  readonly misfit: { start: number; final: number; expected: number };
  readonly fluxBand: { gradientMagnitude: number; flux: number; lower: number; upper: number }[];
  readonly files: string[];
  readonly wallTime: number;
}

/**
 * Runs the inference of a configuration: reads the mesh and the observations, records the forward model
 * and the Gaussian negative log-likelihood, minimises it over the CR's parameters, computes the Laplace
 * posterior and the flux band, and writes report.json, flux.{svg,png}, solution.vtu (u, |grad u|, flux)
 * to the output folder.
 */
export async function runConfig(
  config: RunConfig,
  log: (line: string) => void = () => {},
): Promise<ConfigReport> {
  const begin = performance.now();
  const problem = await configProblem(config);
  const { mesh } = problem;
  const csvPath = at(config, config.observations.file);
  const obs = parseObservations(await readText(csvPath, "observations.file"), mesh, config.observations.file);
  const sigma =
    obs.sigma ??
    (config.observations.sigma === null
      ? null
      : new Float64Array(obs.values.length).fill(config.observations.sigma));
  if (sigma === null) {
    throw new ConfigError(
      `observations.sigma: ${config.observations.file} has no sigma column, so give the noise standard deviation here`,
    );
  }
  const groups = [...new Set(mesh.boundaryTags)]
    .filter((t) => t > 0)
    .sort((a, b) => a - b)
    .map((t) => mesh.tagNames.get(t) ?? String(t));
  log(
    `  mesh: ${mesh.nodeCount} nodes, ${mesh.elementCount} triangles, ${mesh.unknownCount} unknowns; boundary groups ${groups.join(", ")}; ${obs.values.length} observations`,
  );
  const family = config.cr.family;
  const cr = await configModel(family, config.cr.start, config);
  const space = p1Space(mesh);
  const operator = observationOperator(mesh, obs.points);
  const offsets = observationOffsets(mesh, obs.points, problem.dirichletValues);
  const start = linearStart(
    problem,
    family === "network" ? (config.cr.start.outputBias ?? 0.5) : config.cr.start.k,
  );
  const tape = new Tape();
  const parameters = cr.initial.slice() as CrParameter[];
  const controls = parameters.map((value) => new Control(value));
  const { functional, solution } = withTape(tape, () => {
    const solution = solveFlux(space, (g, ...theta: CrParameter[]) => cr.flux(g, theta), parameters, {
      load: problem.load,
      dirichletGradient: problem.dirichletGradient,
      initialGuess: start,
      relativeTolerance: 1e-11,
      absoluteTolerance: 1e-13,
      stepTolerance: 1e-13,
      maxIterations: 60,
    });
    return { solution, functional: gaussianMisfit(observe(operator, solution, offsets), obs.values, sigma) };
  });
  const counters: SolveCounters = { forward: 1, adjoint: 0, hessianActions: 0, failed: 0 };
  const rf = new GuardedReducedFunctional(functional, controls, tape, counters);
  const startMisfit = rf.value();
  const bounded = config.optimizer !== "bfgs" && cr.bounds.some(([l, h]) => l !== null || h !== null);
  const method = ({ "l-bfgs-b": "L-BFGS-B", "newton-cg": "Newton-CG", bfgs: "BFGS" } as const)[
    config.optimizer
  ];
  const result = minimize(rf, {
    method,
    maxIter: config.maxIterations,
    ...(bounded ? { bounds: cr.bounds.map(([l, h]) => [l, h] as const) } : {}),
    gtol: 1e-8,
  });
  log(`  ${method}: ${result.iterations} iterations (${result.stopReason})`);
  const finalValues = controls.map((c) => c.blockVariable.saved as number | NDArray);
  const finalMisfit = rf.value();
  const posterior = laplaceApproximation(rf, {
    priorPrecision: family === "network" ? NETWORK_PRIOR_PRECISION : 0,
  });
  // the flux band over the |grad u| range of the inferred solution
  const u = solution.blockVariable.saved as NDArray;
  const g = withTape(new Tape(), () => elementGradients(space, u, problem.dirichletGradient));
  let maxGradient = 0;
  const gradientMagnitude = new Float64Array(mesh.elementCount);
  for (let e = 0; e < mesh.elementCount; e++) {
    gradientMagnitude[e] = Math.hypot(g.data[2 * e], g.data[2 * e + 1]);
    maxGradient = Math.max(maxGradient, gradientMagnitude[e]);
  }
  const magnitudes = new Float64Array(101).map((_, i) => (maxGradient * i) / 100);
  const band = fluxBand(cr, finalValues, posterior, magnitudes);
  const names = family === "network" ? [] : [...FAMILIES[family]];
  const reportParameters = names.map((name, i) => {
    const truth = config.truth?.[name] ?? null;
    const interval = posterior.intervals[i];
    return {
      name,
      start: config.cr.start[name],
      inferred: posterior.mean[i],
      standardDeviation: posterior.standardDeviations[i],
      interval,
      truth,
      relativeError: truth === null ? null : Math.abs(posterior.mean[i] - truth) / Math.abs(truth),
      coversTruth: truth === null ? null : interval[0] <= truth && truth <= interval[1],
    };
  });
  const n = posterior.size;
  const correlation = names.map((_, i) =>
    Array.from(posterior.correlation.subarray(i * n, i * n + names.length)),
  );
  // outputs
  const folder = at(config, config.output);
  await mkdir(folder, { recursive: true });
  const files: string[] = [];
  const flux = withTape(new Tape(), () =>
    cr.flux(
      g,
      finalValues.map((v) => (v instanceof NDArray ? v : new AdjFloat(v))),
    ),
  );
  const full = new Float64Array(mesh.nodeCount);
  full.set(problem.dirichletValues);
  for (let k = 0; k < mesh.unknownCount; k++) full[mesh.nodeOfUnknown[k]] = u.data[k];
  const vtuPath = join(folder, "solution.vtu");
  await writeFile(
    vtuPath,
    writeVtu(
      mesh,
      [{ name: "u", values: full }],
      [
        { name: "|grad u|", values: gradientMagnitude },
        { name: "flux", values: flux.data, components: 2 },
      ],
    ),
  );
  files.push(vtuPath);
  const fluxBandPoints = Array.from(magnitudes, (m, i) => ({
    gradientMagnitude: m,
    flux: band.flux[i],
    lower: band.flux[i] - NORMAL_95 * band.standardDeviation[i],
    upper: band.flux[i] + NORMAL_95 * band.standardDeviation[i],
  }));
  const curve = Array.from(magnitudes, (m, i) => ({
    gradientMagnitude: m,
    fluxMagnitude: band.flux[i],
    series: "inferred",
  }));
  if (config.truth !== null && family !== "network") {
    const truthModel = await configModel(family, config.truth, config);
    const values = truthModel.fluxMagnitude(
      magnitudes,
      names.map((name) => config.truth?.[name] as number),
    );
    magnitudes.forEach((m, i) => {
      curve.push({
        gradientMagnitude: m,
        fluxMagnitude: values[i],
        series: `truth (${names.map((k) => `${k} = ${config.truth?.[k]}`).join(", ")})`,
      });
    });
  }
  const figures = {
    flux: fluxFigure(curve, fluxBandPoints),
    ...(family === "network"
      ? {
          spectrum: spectrumFigure(
            Array.from(posterior.eigenvalues, (eigenvalue, i) => ({ index: i + 1, eigenvalue })),
            NETWORK_PRIOR_PRECISION,
          ),
        }
      : {}),
  };
  for (const [name, spec] of Object.entries(figures)) {
    const { svg, png } = await renderFigure(spec);
    await writeFile(join(folder, `${name}.svg`), svg);
    await writeFile(join(folder, `${name}.png`), png);
    files.push(join(folder, `${name}.svg`), join(folder, `${name}.png`));
  }
  const report: ConfigReport = {
    mesh: { nodes: mesh.nodeCount, elements: mesh.elementCount, unknowns: mesh.unknownCount, groups },
    source: problem.sourceText,
    observations: obs.values.length,
    family,
    optimizer: { method, iterations: result.iterations, stopReason: result.stopReason },
    parameters: reportParameters,
    correlation,
    eigenvalues: Array.from(posterior.eigenvalues),
    misfit: { start: startMisfit, final: finalMisfit, expected: obs.values.length / 2 },
    fluxBand: fluxBandPoints,
    files: [...files, join(folder, "report.json")].map((file) => relative(process.cwd(), file)),
    wallTime: (performance.now() - begin) / 1000,
  };
  await writeFile(join(folder, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  cr.dispose();
  return report;
}

/**
 * The text report of a configuration run.
 *
 * @example
 * console.log(formatConfigReport(report));
 */
export function formatConfigReport(report: ConfigReport): string {
  const lines = [
    `Constitutive-relation inference (${report.family}) on a mesh of ${report.mesh.nodes} nodes, ${report.mesh.elements} triangles (groups ${report.mesh.groups.join(", ")}); source ${report.source}; ${report.observations} observations`,
    `  ${report.optimizer.method}: ${report.optimizer.iterations} iterations, stopped: ${report.optimizer.stopReason}`,
  ];
  for (const p of report.parameters) {
    lines.push(
      `  ${p.name.padEnd(6)} = ${p.inferred.toFixed(5)} +- ${p.standardDeviation.toExponential(2)} (sd); 95% interval [${p.interval[0].toFixed(5)}, ${p.interval[1].toFixed(5)}]` +
        (p.truth === null
          ? ""
          : `; truth ${p.truth} (error ${(100 * (p.relativeError ?? 0)).toFixed(2)}%, ${p.coversTruth ? "inside" : "OUTSIDE"} the interval)`),
    );
  }
  if (report.parameters.length >= 2) {
    const pairs: string[] = [];
    for (let i = 0; i < report.parameters.length; i++) {
      for (let j = i + 1; j < report.parameters.length; j++)
        pairs.push(
          `${report.parameters[i].name}-${report.parameters[j].name} ${report.correlation[i][j].toFixed(3)}`,
        );
    }
    lines.push(`  correlations: ${pairs.join(", ")}`);
  }
  lines.push(
    `  misfit (negative log-likelihood): start ${report.misfit.start.toExponential(3)}, final ${report.misfit.final.toFixed(2)} (about ${report.misfit.expected} expected at the noise level)`,
    `  wall time ${report.wallTime.toFixed(2)} s; wrote ${report.files.join(", ")}`,
  );
  return lines.join("\n");
}
