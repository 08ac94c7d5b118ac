/**
 * @file The one recording path of every recorded operation: it decides whether to record (annotation on),
 * on which tape (`{ tape }` or the working tape), builds the block over the inputs' variables and fresh
 * variables for the results, appends it, and links each result to its variable.
 */
import { TsadjointError } from "../errors.js";
import { annotating } from "./annotation.js";
import type { Block, Recordable } from "./block.js";
import { BlockVariable } from "./block-variable.js";
import {
  BINARY,
  CONSTANT_FIRST,
  CONSTANT_SECOND,
  type ScalarBinaryRule,
  type ScalarUnaryRule,
  type SegmentLinked,
  scalarBlockBuilders,
} from "./scalar-segment.js";
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
    if (result._blockVariable !== undefined || result._segment !== undefined) {
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

/**
 * The lean form of {@link record} for a block with one input and one output (the elementwise blocks, on
 * the scalar hot path): the same checks and effects without the lists and the loop, for an input that is
 * an overloaded value (not a BlockVariable). `build` receives `first` and `second` (passed through, so
 * that `build` can be a function defined once rather than a closure allocated for every block), the
 * input's variable and the result's fresh one.
 *
 * @example
 * const y = new AdjFloat(Math.sin(x.value));
 * const build = (rule: UnaryRule, _: undefined, input: BlockVariable, output: BlockVariable) =>
 *   new UnaryElementwiseBlock(rule, input, output);
 * recordOne(x, y, build, sinRule, undefined);
 */
export function recordOne<R extends Recordable, P, Q>(
  input: Recordable,
  result: R,
  build: (first: P, second: Q, dependency: BlockVariable, output: BlockVariable) => Block,
  first: P,
  second: Q,
  tape?: Tape,
): R {
  if (!annotating()) return result;
  const dependency = input.blockVariable;
  const output = freshOutput(result);
  (tape ?? getWorkingTape()).addBlock(build(first, second, dependency, output));
  result._blockVariable = output;
  return result;
}

/**
 * The lean form of {@link record} for a block with two inputs and one output (the binary elementwise
 * blocks); `parameter` is passed through to `build` as in {@link recordOne}.
 *
 * @example
 * const z = new AdjFloat(x.value * y.value);
 * const build = (rule: BinaryRule, a: BlockVariable, b: BlockVariable, output: BlockVariable) =>
 *   new BinaryElementwiseBlock(rule, a, b, output);
 * recordTwo(x, y, z, build, multiplyRule);
 */
export function recordTwo<R extends Recordable, P>(
  first: Recordable,
  second: Recordable,
  result: R,
  build: (parameter: P, first: BlockVariable, second: BlockVariable, output: BlockVariable) => Block,
  parameter: P,
  tape?: Tape,
): R {
  if (!annotating()) return result;
  const a = first.blockVariable;
  const b = second.blockVariable;
  const output = freshOutput(result);
  (tape ?? getWorkingTape()).addBlock(build(parameter, a, b, output));
  result._blockVariable = output;
  return result;
}

/** A fresh variable for `result`, which must not be on a tape yet. */
function freshOutput(result: Recordable): BlockVariable {
  if (result._blockVariable !== undefined || result._segment !== undefined) {
    throw new TsadjointError(
      "record",
      "a result is already on a tape; create a new value for each block output",
    );
  }
  return new BlockVariable(result.raw());
}

/** Throws when `result` is already on a tape (recorded by a segment or linked to a variable). */
function checkFresh(result: SegmentLinked): void {
  if (result._blockVariable !== undefined || result._segment !== undefined) {
    throw new TsadjointError(
      "record",
      "a result is already on a tape; create a new value for each block output",
    );
  }
}

/**
 * The scalar form of {@link recordOne} for a unary elementwise rule on an AdjFloat (`result` holds the
 * rule's value): the operation goes into the working tape's scalar segment (typed arrays, no block or
 * variable built), or, when the tape takes no segment (a tag is active, checkpointing is on), it records
 * the rule's block as before.
 *
 * @example
 * recordScalarUnary(sinRule, x, new AdjFloat(Math.sin(x.value)));
 */
export function recordScalarUnary<R extends SegmentLinked>(
  rule: ScalarUnaryRule,
  input: SegmentLinked,
  result: R,
): R {
  if (!annotating()) return result;
  checkFresh(result);
  const tape = getWorkingTape();
  const segment = tape.scalarSegment();
  if (segment !== undefined) {
    const slot = segment.pushUnary(rule, segment.inputSlot(input), result.value);
    if (slot >= 0) {
      tape.version++;
      result._segment = segment;
      result._slot = slot;
      return result;
    }
  }
  const output = new BlockVariable(result.value);
  tape.addBlock(scalarBlockBuilders().unary(rule, input.blockVariable, output));
  result._blockVariable = output;
  return result;
}

/**
 * The scalar form of {@link recordTwo} / {@link recordOne} for a binary elementwise rule: both operands
 * recorded (`second` given; kind BINARY) or one a constant (`second` undefined, `constant` the other
 * operand, first or second as `constantIsFirst` says).
 *
 * @example
 * recordScalarBinary(multiplyRule, x, undefined, 3, false, new AdjFloat(x.value * 3));
 */
export function recordScalarBinary<R extends SegmentLinked>(
  rule: ScalarBinaryRule,
  first: SegmentLinked,
  second: SegmentLinked | undefined,
  constant: number,
  constantIsFirst: boolean,
  result: R,
): R {
  if (!annotating()) return result;
  checkFresh(result);
  const tape = getWorkingTape();
  const segment = tape.scalarSegment();
  if (segment !== undefined) {
    const a = segment.inputSlot(first);
    const b = second === undefined ? 0 : segment.inputSlot(second);
    const kind = second !== undefined ? BINARY : constantIsFirst ? CONSTANT_FIRST : CONSTANT_SECOND;
    const slot = segment.pushBinary(kind, rule, a, b, constant, result.value);
    if (slot >= 0) {
      tape.version++;
      result._segment = segment;
      result._slot = slot;
      return result;
    }
  }
  const output = new BlockVariable(result.value);
  const build = scalarBlockBuilders();
  const block =
    second !== undefined
      ? build.binary(rule, first.blockVariable, second.blockVariable, output)
      : build.constant(rule, constant, constantIsFirst, first.blockVariable, output);
  tape.addBlock(block);
  result._blockVariable = output;
  return result;
}
