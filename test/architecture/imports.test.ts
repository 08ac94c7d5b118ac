/**
 * @file The import graph of `src/` against DESIGN.md's layering: no import cycles (except the allow-listed ones
 * still to remove, a list that can only shrink) and no folder importing one above it (the core imports no
 * engine; the tape never imports viz or checkpoint).
 *
 * Type-only imports (`import type`) count. They are erased at run time, so they cannot leave a binding
 * undefined during module initialisation (Biome's `noImportCycles`, configured in biome.json, checks only
 * those run-time cycles), but they still couple two modules: a type-only cycle means neither file can be
 * read, moved or split without the other, and a core module that names an engine's type depends on the
 * engine. So this test is the stricter of the two checks.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cycleThrough, type ImportEdge, parseImports, readImportGraph, stronglyConnected } from "./graph.js";

const srcRoot = fileURLToPath(new URL("../../src/", import.meta.url));
const { modules, edges } = readImportGraph(srcRoot);

/**
 * Known cycles to remove, each the exact set of modules of one strongly connected component. They sit in
 * files other work owns (tape/, values/, ops/elementwise); remove an entry when its cycle is gone (the test
 * fails on an entry that no longer matches, so the list only shrinks).
 */
const KNOWN_CYCLES: readonly (readonly string[])[] = [];

/**
 * Layers, bottom up: a module may import its own folder or a folder of a strictly lower layer. tape/ and
 * values/ form one layer (the tape saves values; a value carries its block variable). Folders DESIGN.md
 * plans but that do not exist yet are placed too, so adding them needs no edit here (move them if the
 * code knows better).
 */
const LAYERS: readonly (readonly string[])[] = [
  ["errors"],
  ["options"],
  ["tape", "values"],
  ["ops", "checkpoint"],
  ["reduced"],
  ["numpy", "verify", "custom", "transforms", "optimize", "solve", "viz", "compile"],
  ["fem"],
  ["engines/jax", "engines/tfjs"],
  ["index"],
];

/** Cross-layer imports that break the rule, each with its fix (none left); the list can only shrink. */
const KNOWN_LAYER_VIOLATIONS: readonly string[] = [];

const ENGINES = ["engines/jax", "engines/tfjs"];
const CORE = ["tape", "values", "ops", "reduced", "verify", "custom", "numpy", "transforms"];

function folderOf(module: string): string {
  const parts = module.split("/");
  if (parts[0] === "engines") return parts.slice(0, 2).join("/");
  return parts.length === 1 ? (parts[0] === "index" ? "index" : parts[0]!.replace(/\.ts$/, "")) : parts[0]!;
}

function layerOf(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

const describeEdge = (e: ImportEdge): string => `${e.from} -> ${e.to}${e.typeOnly ? " (type only)" : ""}`;

describe("readImportGraph", () => {
  it("reads the relative imports of every module", () => {
    expect(modules.length).toBeGreaterThan(50);
    expect(modules).toContain("tape/tape");
    // Every edge points at a module that exists (the parser resolved the specifier).
    const missing = edges.filter((e) => !modules.includes(e.to)).map(describeEdge);
    expect(missing).toEqual([]);
  });

  it("parses static, type-only, multi-line, re-export, side-effect and dynamic imports and skips comments", () => {
    const text = [
      'import { a } from "./a.js";',
      'import type { B } from "../b.js";',
      "import {",
      "  c,",
      "  type D,",
      '} from "./c.js";',
      'export { e } from "./e.js";',
      'export type { F } from "./f.js";',
      'import "./g.js";',
      'const h = await import("./h.js");',
      '// import { x } from "./x.js";',
      '/* import { y } from "./y.js"; */',
      'import { z } from "node:fs";',
    ].join("\n");
    expect(parseImports("dir/mod", text)).toEqual([
      { from: "dir/mod", to: "dir/a", typeOnly: false, dynamic: false },
      { from: "dir/mod", to: "b", typeOnly: true, dynamic: false },
      { from: "dir/mod", to: "dir/c", typeOnly: false, dynamic: false },
      { from: "dir/mod", to: "dir/e", typeOnly: false, dynamic: false },
      { from: "dir/mod", to: "dir/f", typeOnly: true, dynamic: false },
      { from: "dir/mod", to: "dir/g", typeOnly: false, dynamic: false },
      { from: "dir/mod", to: "dir/h", typeOnly: false, dynamic: true },
    ]);
  });

  it("finds a cycle and reports a path through it", () => {
    const es = parseImports("a", 'import "./b.js";')
      .concat(parseImports("b", 'import type { C } from "./c.js";'))
      .concat(parseImports("c", 'import "./a.js";'))
      .concat(parseImports("d", 'import "./a.js";'));
    expect(stronglyConnected(["a", "b", "c", "d"], es)).toEqual([["a", "b", "c"]]);
    expect(cycleThrough("a", es)).toBe("a -> b -> c -> a");
  });
});

describe("import cycles", () => {
  const components = stronglyConnected(modules, edges);
  const key = (c: readonly string[]): string => [...c].sort().join(", ");
  const known = new Set(KNOWN_CYCLES.map(key));

  it("has no import cycle outside the allow-list of known cycles to remove", () => {
    const fresh = components
      .filter((c) => !known.has(key(c)))
      .map((c) => {
        const inside = edges.filter((e) => c.includes(e.from) && c.includes(e.to));
        return `{${key(c)}}: e.g. ${cycleThrough(c[0]!, inside)}`;
      });
    expect(fresh, "new import cycles (move code so imports go one way; see DESIGN.md's layout)").toEqual([]);
  });

  it("still has every allow-listed cycle (remove the entry of a cycle that is gone)", () => {
    const present = new Set(components.map(key));
    const gone = [...known].filter((k) => !present.has(k));
    expect(gone, "cycles no longer present: delete them from KNOWN_CYCLES").toEqual([]);
  });
});

describe("layering", () => {
  const crossFolder = edges.filter((e) => folderOf(e.from) !== folderOf(e.to));

  it("places every folder of src/ in a layer", () => {
    const unplaced = [...new Set(modules.map(folderOf))].filter((f) => layerOf(f) < 0);
    expect(unplaced, "add the new folder to LAYERS").toEqual([]);
  });

  it("has no folder importing one of its own layer or above (outside the known violations)", () => {
    const violations = crossFolder
      .filter((e) => layerOf(folderOf(e.to)) >= layerOf(folderOf(e.from)))
      .filter(
        (e) =>
          !(["tape", "values"].includes(folderOf(e.from)) && ["tape", "values"].includes(folderOf(e.to))),
      )
      .map((e) => `${e.from} -> ${e.to}`);
    const fresh = [...new Set(violations)].filter((v) => !KNOWN_LAYER_VIOLATIONS.includes(v));
    expect(fresh).toEqual([]);
    const gone = KNOWN_LAYER_VIOLATIONS.filter((v) => !violations.includes(v));
    expect(gone, "violations no longer present: delete them from KNOWN_LAYER_VIOLATIONS").toEqual([]);
  });

  it("keeps engines out of the core and of every other folder", () => {
    const intoEngine = crossFolder.filter(
      (e) =>
        ENGINES.includes(folderOf(e.to)) &&
        folderOf(e.from) !== "index" &&
        !ENGINES.includes(folderOf(e.from)),
    );
    expect(intoEngine.map(describeEdge)).toEqual([]);
    // Not even the root index: an engine is an optional peer dependency behind its own entry.
    const fromRoot = edges.filter((e) => e.from === "index" && ENGINES.includes(folderOf(e.to)));
    expect(fromRoot.map(describeEdge)).toEqual([]);
    expect(
      crossFolder.filter((e) => CORE.includes(folderOf(e.from)) && ENGINES.includes(folderOf(e.to))),
    ).toEqual([]);
  });

  it("never imports viz or checkpoint from the tape (not even a type)", () => {
    const upward = edges
      .filter((e) => folderOf(e.from) === "tape" && ["viz", "checkpoint"].includes(folderOf(e.to)))
      .map(describeEdge);
    expect(upward).toEqual([]);
  });
});
