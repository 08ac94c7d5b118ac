/**
 * @file Syntax facts about `src/` read with the TypeScript 5.9 compiler API (the copy TypeDoc uses, in
 * tools/docs/: the repository's own TypeScript 7 has no JS API): type assertions (`x as T`, `<T>x`, but not
 * `as const`) and functions longer than a limit, each with the comment written beside it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";

/** The part of the TypeScript 5.9 API used here (the root `typescript` package is 7, without these types). */
interface SyntaxNode {
  readonly end: number;
  readonly type?: SyntaxNode;
  readonly body?: SyntaxNode;
  readonly name?: SyntaxNode;
  getStart(source: SourceFile): number;
  getText(source: SourceFile): string;
}
interface SourceFile extends SyntaxNode {
  getLineAndCharacterOfPosition(position: number): { line: number };
}
interface TypeScriptApi {
  createSourceFile(path: string, text: string, target: number, setParents: boolean): SourceFile;
  readonly ScriptTarget: { readonly Latest: number };
  forEachChild(node: SyntaxNode, visit: (child: SyntaxNode) => void): void;
  isAsExpression(node: SyntaxNode): boolean;
  isTypeAssertionExpression(node: SyntaxNode): boolean;
  isFunctionDeclaration(node: SyntaxNode): boolean;
  isMethodDeclaration(node: SyntaxNode): boolean;
  isArrowFunction(node: SyntaxNode): boolean;
  isFunctionExpression(node: SyntaxNode): boolean;
  isConstructorDeclaration(node: SyntaxNode): boolean;
  isGetAccessorDeclaration(node: SyntaxNode): boolean;
}

// cast: require() returns unknown; the package is typescript@5.9 (tools/docs/package.json pins it)
const ts = createRequire(new URL("../../tools/docs/package.json", import.meta.url))(
  "typescript",
) as TypeScriptApi;

/** One place in a source file. */
export interface Site {
  /** File relative to `src/`. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** The asserted type, or the function's name. */
  readonly what: string;
  /** The comment on the same line or the line before (`""` when none). */
  readonly reason: string;
  /** For functions: the body's length in lines. */
  readonly lines?: number;
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

/** The comment on `line` itself, or the whole `//` comment block right above it (from its first line). */
function commentNear(lines: readonly string[], line: number): string {
  const here = lines[line - 1] ?? "";
  const at = here.indexOf("//");
  if (at >= 0) return here.slice(at + 2).trim();
  let first = line - 1;
  while (first >= 1 && (lines[first - 1] ?? "").trim().startsWith("//")) first--;
  if (first === line - 1) return "";
  return lines
    .slice(first, line - 1)
    .map((text) => text.trim().slice(2).trim())
    .join(" ");
}

/** Every type assertion and every function whose body is longer than `maxLines` lines, in `root`. */
export function scanSources(root: string, maxLines: number): { casts: Site[]; longFunctions: Site[] } {
  const casts: Site[] = [];
  const longFunctions: Site[] = [];
  for (const path of listModules(root)) {
    const text = readFileSync(path, "utf8");
    const lines = text.split("\n");
    const file = relative(root, path);
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line + 1;
    const visit = (node: SyntaxNode): void => {
      if ((ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) && node.type !== undefined) {
        const type = node.type.getText(source);
        if (type !== "const") {
          const line = lineOf(node.type.getStart(source));
          casts.push({ file, line, what: type, reason: commentNear(lines, line) });
        }
      }
      if (
        (ts.isFunctionDeclaration(node) ||
          ts.isMethodDeclaration(node) ||
          ts.isArrowFunction(node) ||
          ts.isFunctionExpression(node) ||
          ts.isConstructorDeclaration(node) ||
          ts.isGetAccessorDeclaration(node)) &&
        node.body !== undefined
      ) {
        const start = lineOf(node.body.getStart(source));
        const length = lineOf(node.body.end) - start + 1;
        if (length > maxLines) {
          const line = lineOf(node.getStart(source));
          const name = node.name?.getText(source) ?? "(anonymous)";
          // the reason sits above the function or opens its body
          const reason = commentNear(lines, line) || commentNear(lines, start + 1);
          longFunctions.push({ file, line, what: name, reason, lines: length });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { casts, longFunctions };
}
