/** @file Graph export: a tape as Graphviz DOT text (blocks as boxes, values as ellipses). */

import { InvalidArgumentError } from "../errors.js";
import type { BlockVariable } from "../tape/block-variable.js";
import type { Tape } from "../tape/tape.js";
import { describeShape } from "../values/space.js";

/** Whether `value` is an object with a `blocks` array (a Tape). */
function hasBlockList(value: unknown): boolean {
  return typeof value === "object" && value !== null && "blocks" in value && Array.isArray(value.blocks);
}

/**
 * The tape as a Graphviz DOT digraph: a box per block, an ellipse per value, edges in data-flow order.
 *
 * @example
 * writeFileSync("tape.dot", tapeToDot(getWorkingTape()));
 */
export function tapeToDot(tape: Tape, name = "tape"): string {
  if (!hasBlockList(tape)) {
    throw new InvalidArgumentError(
      "tapeToDot",
      `expected a Tape, got ${tape === null ? "null" : typeof tape}`,
    );
  }
  if (typeof name !== "string") {
    throw new InvalidArgumentError("tapeToDot", `name must be a string, got ${typeof name}`);
  }
  const ids = new Map<BlockVariable, string>();
  const lines: string[] = [
    `digraph "${name}" {`,
    "  rankdir=LR;",
    '  node [fontname="Helvetica", fontsize=10];',
  ];
  const valueId = (variable: BlockVariable): string => {
    let id = ids.get(variable);
    if (id === undefined) {
      id = `v${ids.size}`;
      ids.set(variable, id);
      const saved = variable.saved;
      const label = typeof saved === "number" ? saved.toPrecision(4) : describeShape(saved);
      lines.push(`  ${id} [shape=ellipse, label="${label}"];`);
    }
    return id;
  };
  tape.blocks.forEach((block, index) => {
    const blockId = `b${index}`;
    const tag = block.tag === undefined ? "" : `\\n[${block.tag}]`;
    lines.push(`  ${blockId} [shape=box, style=filled, fillcolor="#e8eef7", label="${block.name}${tag}"];`);
    for (const dependency of block.dependencies) lines.push(`  ${valueId(dependency)} -> ${blockId};`);
    for (const output of block.outputs) lines.push(`  ${blockId} -> ${valueId(output)};`);
  });
  lines.push("}");
  return lines.join("\n");
}
