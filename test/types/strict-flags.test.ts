/**
 * @file The typed-results type test compiled as a strict consumer would: against the emitted declarations
 * (not the sources) with `noUncheckedIndexedAccess` and `exactOptionalPropertyTypes` on, which the
 * repository's own tsconfig leaves off. Tuple results and `overloadFunction` rule arguments must need no
 * casts there; a wrong assertion must fail the compile.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const tsc = join(root, "node_modules", ".bin", "tsc");
const work = mkdtempSync(join(tmpdir(), "tsadjoint-typed-"));
const declarations = join(work, "dts");

function compile(source: string): { status: number | null; output: string } {
  writeFileSync(join(work, "consumer.ts"), source);
  const result = spawnSync(tsc, ["-p", join(work, "tsconfig.json")], { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

beforeAll(() => {
  const emit = spawnSync(
    tsc,
    [
      "-p",
      join(root, "tsconfig.build.json"),
      "--emitDeclarationOnly",
      "--declarationMap",
      "false",
      "--sourceMap",
      "false",
      "--outDir",
      declarations,
    ],
    { encoding: "utf8" },
  );
  expect(emit.status, `${emit.stdout}${emit.stderr}`).toBe(0);
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "nodenext",
      moduleResolution: "nodenext",
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      skipLibCheck: true,
      types: ["node"],
      typeRoots: [join(root, "node_modules", "@types")],
      paths: {
        tsadjoint: [join(declarations, "index.d.ts")],
        "tsadjoint/optimize": [join(declarations, "optimize", "index.d.ts")],
        vitest: [join(root, "node_modules", "vitest", "dist", "index.d.ts")],
      },
    },
    files: ["consumer.ts"],
  };
  writeFileSync(join(work, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("typed results under noUncheckedIndexedAccess and exactOptionalPropertyTypes", () => {
  const source = readFileSync(join(root, "test", "types", "typed-results.test.ts"), "utf8");

  it("the type test compiles against the declarations with the strict flags", () => {
    const { status, output } = compile(source);
    expect(output).toBe("");
    expect(status).toBe(0);
  });

  it("a wrong assertion fails the compile (the check can fail)", () => {
    const wrong = source.replace(
      "expectTypeOf(gs).toEqualTypeOf<AdjFloat>();",
      "expectTypeOf(gs).toEqualTypeOf<NDArray>();",
    );
    expect(wrong).not.toBe(source);
    const { status, output } = compile(wrong);
    expect(status).not.toBe(0);
    expect(output).toMatch(/consumer\.ts\(\d+,\d+\): error/);
  });
});
