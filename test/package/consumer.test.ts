/**
 * @file The package as a user gets it. `npm pack` (whose `prepack` script builds `dist/` from a clean
 * state) makes the tarball; a fresh temporary project installs it without the optional engine peers
 * (`@jax-js/jax`, `@tensorflow/tfjs`); the README's quick start runs there with plain `node` (ESM, the
 * built `dist/`, no tsx, no `--conditions`); and a consumer file is type-checked by the repository's `tsc`
 * under `moduleResolution: nodenext` and `bundler` with `strict`, `noUncheckedIndexedAccess`,
 * `exactOptionalPropertyTypes` and `skipLibCheck: false`, so the shipped `.d.ts` files are checked too.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeBlocks, relativeLinks } from "../docs/markdown.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const tsc = join(root, "node_modules", ".bin", "tsc");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  name: string;
  main: string;
  types: string;
  exports: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

/** The environment of child processes: no inherited `--conditions=tsadjoint-source` or loaders. */
const env = { ...process.env };
delete env.NODE_OPTIONS;

/** Runs a command, failing with its output when it exits non-zero. */
function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} (in ${cwd}) exited with ${result.status}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

let work = "";
let project = "";
let installed = "";
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "tsadjoint-consumer-"));
  // prepack removes dist/ and builds it, so a clean clone (no dist/) packs a complete package.
  const out = run("npm", ["pack", "--json", "--pack-destination", work], root);
  packed = (JSON.parse(out.slice(out.indexOf("["))) as (typeof packed)[])[0];
  project = join(work, "project");
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "tsadjoint-consumer", private: true, type: "module" }, null, 2),
  );
  run(
    "npm",
    [
      "install",
      join(work, packed.filename),
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--loglevel=error",
    ],
    project,
  );
  installed = join(project, "node_modules", manifest.name);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("ships dist/ (.js and .d.ts) for every entry of the exports map, the LICENSE and the README", () => {
    const files = new Set(packed.files.map((f) => f.path));
    expect(files).toContain("LICENSE");
    expect(files).toContain("README.md");
    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (typeof target === "string") {
        expect(files, entry).toContain(posix.normalize(target));
        continue;
      }
      expect(target.types, entry).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(target.default, entry).toMatch(/^\.\/dist\/.*\.js$/);
      for (const path of Object.values(target))
        expect(files, `${entry}: ${path}`).toContain(posix.normalize(path));
    }
    // tools that predate the exports map find the main entry too
    for (const legacy of [manifest.main, manifest.types]) expect(files).toContain(posix.normalize(legacy));
    expect(readFileSync(join(installed, "LICENSE"), "utf8")).toMatch(/^MIT License/);
    console.log(
      `tarball ${packed.filename}: ${(packed.size / 1024).toFixed(0)} kB packed, ` +
        `${(packed.unpackedSize / 1024).toFixed(0)} kB unpacked, ${packed.files.length} files`,
    );
  });

  it("has no runtime dependencies; the engines are optional peers and are not installed", () => {
    expect(manifest.dependencies ?? {}).toEqual({});
    for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
      expect(existsSync(join(project, "node_modules", peer)), peer).toBe(false);
    }
  });

  it("every relative link of the shipped README and guides resolves inside the package", () => {
    const markdown = packed.files.map((f) => f.path).filter((path) => path.endsWith(".md"));
    expect(markdown).toContain("README.md");
    for (const file of markdown) {
      for (const target of relativeLinks(readFileSync(join(installed, file), "utf8"))) {
        const path = join(installed, dirname(file), target);
        expect(existsSync(path), `${file} links to ${target}, which the package does not contain`).toBe(true);
      }
    }
  });
});

describe("the installed package", () => {
  it("imports every core entry with plain node while jax-js and TensorFlow.js are absent", () => {
    const script = [
      'const core = await import("tsadjoint");',
      'const numpy = await import("tsadjoint/numpy");',
      'const optimize = await import("tsadjoint/optimize");',
      'const solve = await import("tsadjoint/solve");',
      "const engine = async (name) => import(name).then(() => 'loaded', (e) => e.code);",
      "console.log(JSON.stringify({",
      "  core: typeof core.ReducedFunctional, numpy: typeof numpy.sum,",
      "  optimize: typeof optimize.minimize, solve: typeof solve.nonlinearSolve,",
      '  jax: await engine("tsadjoint/jax"), tfjs: await engine("tsadjoint/tfjs"),',
      "}));",
    ].join("\n");
    writeFileSync(join(project, "imports.mjs"), script);
    const result = JSON.parse(run("node", ["imports.mjs"], project));
    expect(result).toEqual({
      core: "function",
      numpy: "function",
      optimize: "function",
      solve: "function",
      // the engine entries need their peer, and say so with Node's own error
      jax: "ERR_MODULE_NOT_FOUND",
      tfjs: "ERR_MODULE_NOT_FOUND",
    });
  });

  it("runs the README quick start with plain node and prints the right numbers", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const quickStart = codeBlocks(readme).find((b) => b.heading === "Quick start" && b.lang === "ts");
    if (!quickStart) throw new Error('README.md has no ```ts block under "## Quick start"');
    // The quick start is plain JavaScript (no type annotations), so JavaScript users can paste it as it is.
    const check = [
      "const value = rf.evaluate([0.8, 2.5]);",
      "const gradient = rf.derivative().map((g) => g.value);",
      "const hessian = rf.hessian([1, 0]).map((h) => h.value);",
      "const rates = [taylorTest(rf, [0.8, 2.5], [0.1, -0.3]), taylorTest(rf, [0.8, 2.5], [0.1, -0.3], { hessian: true })];",
      "const replay = rf.evaluate([0.5, 2.0]);",
      "console.log(JSON.stringify({ value, gradient, hessian, rates, replay }));",
    ].join("\n");
    writeFileSync(join(project, "quickstart.mjs"), `${quickStart.code}\n${check}\n`);
    const out = JSON.parse(run("node", ["quickstart.mjs"], project)) as {
      value: number;
      gradient: number[];
      hessian: number[];
      rates: number[];
      replay: number;
    };
    const [x, k] = [0.8, 2.5];
    const g = Math.exp((-x * x) / 2);
    const [s, c] = [Math.sin(k * x), Math.cos(k * x)];
    expect(out.value).toBeCloseTo(s * g, 14);
    expect(out.gradient[0]).toBeCloseTo(k * c * g - x * s * g, 13);
    expect(out.gradient[1]).toBeCloseTo(x * c * g, 13);
    expect(out.hessian[0]).toBeCloseTo(g * (s * (x * x - k * k - 1) - 2 * k * x * c), 12);
    expect(out.hessian[1]).toBeCloseTo(g * ((1 - x * x) * c - k * x * s), 12);
    expect(out.rates[0]).toBeGreaterThan(1.9);
    expect(out.rates[1]).toBeGreaterThan(2.9);
    expect(out.replay).toBeCloseTo(Math.sin(1) * Math.exp(-0.125), 14);
  });

  const consumer = `
import { AdjFloat, Control, computeGradient, np, type OverloadedValue, ReducedFunctional, taylorTest } from "tsadjoint";
import * as numpy from "tsadjoint/numpy";
import { minimize } from "tsadjoint/optimize";
import { solve } from "tsadjoint/solve";

const x = new AdjFloat(0.8);
const k = new AdjFloat(2.5);
const J = np.multiply(np.sin(k.mul(x)), np.exp(np.divide(np.square(x), -2)));
const rf = new ReducedFunctional(J, [new Control(x), new Control(k)]);
export const gradient: number[] = rf.derivative().map((g) => (g instanceof AdjFloat ? g.value : Number.NaN));
export const rate: number = taylorTest(rf, [0.8, 2.5], [0.1, -0.3], { hessian: true });
export const epsilons: number = taylorTest(rf, [0.8, 2.5], [0.1, -0.3], { epsilons: [0.1, 0.05] });

const w = numpy.array([1, 2, 3]);
const y = numpy.sum(numpy.tanh(numpy.multiply(w, 2)), { axis: 0 });
export const dydw: OverloadedValue = computeGradient(y, new Control(w));
export const solution: readonly number[] = solve(numpy.array([[4, 1], [1, 3]]), numpy.array([1, 2])).shape;
const result = minimize(rf, { method: "L-BFGS-B", bounds: [[0, 2], [1, 3]] });
export const summary: [boolean, number, string] = [result.success, result.fun, result.message];
`;

  for (const [resolution, module] of [
    ["nodenext", "nodenext"],
    ["bundler", "preserve"],
  ] as const) {
    it(`type-checks a consumer file: tsc strict, moduleResolution ${resolution}, noUncheckedIndexedAccess, exactOptionalPropertyTypes, skipLibCheck false`, () => {
      writeFileSync(join(project, "consumer.ts"), consumer);
      const config = {
        compilerOptions: {
          target: "ES2022",
          module,
          moduleResolution: resolution,
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          noEmit: true,
          lib: ["ES2022"],
          types: [],
        },
        files: ["consumer.ts"],
      };
      const name = `tsconfig.${resolution}.json`;
      writeFileSync(join(project, name), JSON.stringify(config, null, 2));
      run(tsc, ["-p", name], project);
      // the checker really reads the package's declarations: a misuse of them is an error
      writeFileSync(
        join(project, "misuse.ts"),
        'import { AdjFloat } from "tsadjoint";\nnew AdjFloat("a");\n',
      );
      const bad = { ...config, files: ["misuse.ts"] };
      writeFileSync(join(project, `misuse.${name}`), JSON.stringify(bad, null, 2));
      const misuse = spawnSync(tsc, ["-p", `misuse.${name}`], { cwd: project, env, encoding: "utf8" });
      expect(misuse.status).not.toBe(0);
      expect(misuse.stdout).toMatch(/misuse\.ts\(2,/);
    });
  }
});
