/**
 * @file The `{ tape }` option of the array operations: every `np` function that records accepts it and
 * records on that tape instead of the working tape (it runs under `withTape`, so every block the
 * operation adds, including those of composite operations, lands there).
 */
import { InvalidArgumentError } from "../errors.js";
import { checkOptions } from "../options.js";
import { Tape, type TapeOption, withTape } from "../tape/tape.js";

/**
 * @internal Checks a `{ tape }` value: undefined or a Tape.
 * @example
 * checkedTape("np.sin", options.tape);
 */
export function checkedTape(operation: string, tape: unknown): Tape | undefined {
  if (tape === undefined || tape instanceof Tape) return tape;
  throw new InvalidArgumentError(operation, "the tape option must be a Tape (new Tape())");
}

/**
 * @internal Reads a trailing options object that only has `tape` (elementwise functions, comparisons).
 * @example
 * const tape = tapeOnly("np.sin", options);
 */
export function tapeOnly(operation: string, options: TapeOption | undefined): Tape | undefined {
  const checked = checkOptions(operation, options, ["tape"]);
  return checkedTape(operation, checked.tape);
}

/**
 * @internal Runs `fn` recording on `tape` (the working tape when undefined).
 * @example
 * onTape(tape, () => applyUnary(rule, x));
 */
export function onTape<T>(tape: Tape | undefined, fn: () => T): T {
  return tape === undefined ? fn() : withTape(tape, fn);
}
