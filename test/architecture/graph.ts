/**
 * @file The import graph of `src/`, read with a small regex parser (no TypeScript API needed): every
 * relative `import` / `export ... from` / dynamic `import()` of every module, marked type-only when the
 * compiler erases it (`import type` / `export type`; with `verbatimModuleSyntax`, `import { type A }`
 * is kept as a side-effect import, so it counts as a runtime edge), plus cycle search over the graph.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";

/** One relative import of a module. */
export interface ImportEdge {
  /** Importing module, relative to `src/` without extension (`ops/linalg`). */
  readonly from: string;
  /** Imported module, same form. */
  readonly to: string;
  /** True for `import type` / `export type`, which the compiler erases. */
  readonly typeOnly: boolean;
  /** True for a dynamic `import("...")`, which runs lazily and cannot take part in an initialisation cycle. */
  readonly dynamic: boolean;
}

function listModules(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (statSync(path).isDirectory()) out.push(...listModules(path));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Removes comments (keeping string literals) so commented-out imports are not read. */
function stripComments(text: string): string {
  return text.replace(
    /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g,
    (m, str) => (str === undefined ? "" : m),
  );
}

const staticImport = /(?:^|[;\n])\s*(import|export)\s+(type\s+)?([^;'"`]*?)\s*from\s*["']([^"']+)["']/g;
const sideEffectImport = /(?:^|[;\n])\s*import\s*["']([^"']+)["']/g;
const dynamicImport = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** Parses the relative imports of one module's source text. */
export function parseImports(from: string, text: string): ImportEdge[] {
  const code = stripComments(text);
  const edges: ImportEdge[] = [];
  const add = (spec: string, typeOnly: boolean, dynamic: boolean): void => {
    if (!spec.startsWith(".")) return;
    const to = posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.(js|ts)$/, "");
    edges.push({ from, to, typeOnly, dynamic });
  };
  for (const m of code.matchAll(staticImport)) add(m[4]!, m[2] !== undefined, false);
  for (const m of code.matchAll(sideEffectImport)) add(m[1]!, false, false);
  for (const m of code.matchAll(dynamicImport)) add(m[1]!, false, true);
  return edges;
}

/** All relative import edges of the modules under `srcRoot`, in file order. */
export function readImportGraph(srcRoot: string): { modules: string[]; edges: ImportEdge[] } {
  const files = listModules(srcRoot).sort();
  const modules = files.map((f) => relative(srcRoot, f).split("\\").join("/").replace(/\.ts$/, ""));
  const edges: ImportEdge[] = [];
  files.forEach((file, i) => {
    edges.push(...parseImports(modules[i]!, readFileSync(file, "utf8")));
  });
  void dirname;
  return { modules, edges };
}

/**
 * The strongly connected components with more than one module (Tarjan), each sorted, the list sorted:
 * every import cycle lies inside one of them, and a component is empty of cycles only if it is a
 * single module.
 */
export function stronglyConnected(modules: readonly string[], edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>(modules.map((m) => [m, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const m of modules) if (!index.has(m)) visit(m);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** One shortest cycle through `start` inside the graph, as `a -> b -> ... -> a`, for error messages. */
export function cycleThrough(start: string, edges: readonly ImportEdge[]): string | undefined {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const prev = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of next.get(v) ?? []) {
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.splice(1, 0, u);
        return [...path, start].join(" -> ");
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return undefined;
}
