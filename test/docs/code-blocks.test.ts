/**
 * @file Every ```ts code block of README.md and docs/guides/*.md is compiled, and run where it can be.
 *
 * Conventions (also in CONTRIBUTING.md):
 * - Each ```ts (or ```typescript) block becomes its own module in test/.generated/ (git-ignored), named after
 *   its file and line, importing `tsadjoint` from the sources (the `source` condition). All of them are
 *   type-checked by one `tsc --noEmit` with the repository's compiler options.
 * - A block that uses names defined elsewhere gets them from an HTML comment directly above it (invisible on
 *   the rendered page): `<!-- prelude: import { np } from "tsadjoint"; const x = np.array([1, 2]); -->`
 *   (it may span lines). `declare const x: NDArray;` in a prelude makes the block type-check only.
 * - ```ts continues appends the block to the previous ```ts block of the same file (a story told in steps).
 * - Every block without a `declare` in its prelude is also run (imported) by this test and must not throw.
 * - A block that is not meant to compile is not TypeScript: fence it as ```text.
 * New files in docs/guides/ and new blocks are picked up automatically.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { codeBlocks } from "./markdown.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const generated = join(root, "test", ".generated");
const guides = join(root, "docs", "guides");

/** One block as a module: where it came from and the file it was written to. */
interface GeneratedBlock {
  source: string;
  line: number;
  heading: string;
  file: string;
  runnable: boolean;
}

const markdownFiles = [
  "README.md",
  ...(existsSync(guides)
    ? readdirSync(guides)
        .filter((name) => name.endsWith(".md"))
        .sort()
        .map((name) => `docs/guides/${name}`)
    : []),
];

function generate(): GeneratedBlock[] {
  rmSync(generated, { recursive: true, force: true });
  mkdirSync(generated, { recursive: true });
  const out: GeneratedBlock[] = [];
  for (const source of markdownFiles) {
    const slug = source.replace(/\.md$/, "").replace(/[^A-Za-z0-9]+/g, "-");
    let previous: string | undefined;
    for (const block of codeBlocks(readFileSync(join(root, source), "utf8"))) {
      if (block.lang !== "ts" && block.lang !== "typescript") continue;
      const continues = block.flags.includes("continues");
      if (continues && previous === undefined) {
        throw new Error(`${source}:${block.line}: a "ts continues" block needs a ts block before it`);
      }
      const parts = [continues ? previous : undefined, block.prelude, block.code].filter(
        (part): part is string => part !== undefined,
      );
      const body = parts.join("\n");
      previous = body;
      const file = join(generated, `${slug}-L${block.line}.ts`);
      writeFileSync(file, `// ${source}:${block.line} (${block.heading})\n${body}\nexport {};\n`);
      out.push({
        source,
        line: block.line,
        heading: block.heading,
        file,
        runnable: !/^\s*declare\s/m.test(body),
      });
    }
  }
  writeFileSync(
    join(generated, "tsconfig.json"),
    JSON.stringify({
      extends: "../../tsconfig.json",
      compilerOptions: { noEmit: true },
      include: ["./*.ts"],
    }),
  );
  return out;
}

const blocks = generate();

describe("documentation code blocks", () => {
  it("covers the README's quick start and NumPy blocks and every guide", () => {
    const readme = blocks.filter((b) => b.source === "README.md");
    expect(readme.some((b) => b.heading === "Quick start" && b.runnable)).toBe(true);
    expect(readme.some((b) => b.heading.startsWith("Arrays") && b.runnable)).toBe(true);
    for (const source of markdownFiles.filter(
      (f) => f.startsWith("docs/guides/") && !f.endsWith("README.md"),
    )) {
      expect(
        blocks.filter((b) => b.source === source && b.runnable).length,
        `${source} has runnable blocks`,
      ).toBeGreaterThan(0);
    }
  });

  it("type-checks every ```ts block (tsc --noEmit, the repository's compiler options)", () => {
    const tsc = join(root, "node_modules", ".bin", "tsc");
    const result = spawnSync(tsc, ["-p", relative(root, join(generated, "tsconfig.json"))], {
      cwd: root,
      encoding: "utf8",
    });
    // each error names the generated file, whose name is the Markdown file and the block's line
    expect(`${result.stdout}${result.stderr}`.trim()).toBe("");
    expect(result.status).toBe(0);
  });

  for (const block of blocks.filter((b) => b.runnable)) {
    it(`runs ${block.source}:${block.line} (${block.heading})`, async () => {
      await import(pathToFileURL(block.file).href);
    });
  }
});
