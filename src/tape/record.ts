/**
 * @file The one recording path of every recorded operation: it decides whether to record (annotation on),
 * on which tape (`{ tape }` or the working tape), builds the block over the inputs' variables and fresh
 * variables for the results, appends it, and links each result to its variable.
 */
import { TsadjointError } from "../errors.js";
import { annotating } from "./annotation.js";
import type { Block, Recordable } from "./block.js";
import { BlockVariable } from "./block-variable.js";
import { getWorkingTape, type Tape } from "./tape.js";

/** What the tape needs of a value it records (declared in block.ts, beside Block, which reads it too). */
export type { Recordable };

/**
 * Records one operation: when annotation is on, `build` receives the block variables of `inputs` (a
 * BlockVariable input is used as it is) and one fresh variable per result, and returns the block; the block
 * is appended to `tape` (the working tape when undefined) and each result is linked to its variable. With
 * annotation off nothing is built. Returns `results`. A result must be a fresh value (not yet on a tape).
 *
 * @example
 * const y = new NDArray(data, x.shape);
 * record([x], [y], (dependencies, outputs) => new MyBlock(dependencies, outputs), tape);
 */
export function record<const R extends readonly Recordable[]>(
  inputs: readonly (Recordable | BlockVariable)[],
  results: R,
  build: (dependencies: BlockVariable[], outputs: BlockVariable[]) => Block,
  tape?: Tape,
): R {
  if (!annotating()) return results;
  const dependencies = new Array<BlockVariable>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    dependencies[i] = input instanceof BlockVariable ? input : input.blockVariable;
  }
  const outputs = new Array<BlockVariable>(results.length);
  for (let i = 0; i < results.length; i++) {
    const result = results[i];
    if (result._blockVariable !== undefined) {
      throw new TsadjointError(
        "record",
        "a result is already on a tape; create a new value for each block output",
      );
    }
    outputs[i] = new BlockVariable(result.raw());
  }
  (tape ?? getWorkingTape()).addBlock(build(dependencies, outputs));
  for (let i = 0; i < results.length; i++) results[i]._blockVariable = outputs[i];
  return results;
}
