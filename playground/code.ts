/**
 * @file The Code panel's runner: executes an example's JavaScript in the page with every export of
 * `tsadjoint`, `tsadjoint/solve` and `tsadjoint/optimize` in scope, on a fresh working tape, and returns the
 * printed lines and that tape.
 */
import * as core from "tsadjoint";
import * as optimize from "tsadjoint/optimize";
import * as solve from "tsadjoint/solve";

const scope: Record<string, unknown> = { ...optimize, ...solve, ...core };
const names = Object.keys(scope).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));

function format(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return `[${Array.from(value as ArrayLike<unknown>, format).join(", ")}]`;
  }
  return String(value);
}

/**
 * Runs `code` (JavaScript; `import` lines are dropped since their names are already in scope).
 *
 * @example
 * const { lines, tape } = runCode('print("J =", np.sin(new AdjFloat(1)).value)');
 */
export function runCode(code: string): { lines: string[]; tape: core.Tape } {
  const lines: string[] = [];
  const print = (...values: unknown[]) => {
    lines.push(values.map(format).join(" "));
  };
  const body = code.replace(/^\s*import\s[\s\S]*?from\s*["'][^"']+["'];?[ \t]*$/gm, "");
  const tape = new core.Tape();
  const previous = core.getWorkingTape();
  core.setWorkingTape(tape);
  try {
    const run = new Function(...names, "print", `"use strict";\n${body}`);
    run(...names.map((name) => scope[name]), print);
  } finally {
    core.setWorkingTape(previous);
  }
  return { lines, tape };
}
