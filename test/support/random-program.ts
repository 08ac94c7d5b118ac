/**
 * @file The random-program driver shared by property tests (compile vs tape, pooled vs unpooled sweeps):
 * each test gives its own table of operations; the driver picks their operands from a growing pool of
 * values, skips operands that do not broadcast, and sums the result into a scalar J.
 */
import { type AdjFloat, type NDArray, np, ShapeMismatchError } from "tsadjoint";

/** A value of a random program: a number, an AdjFloat or an NDArray. */
export type ProgramValue = number | AdjFloat | NDArray;

/** One drawn operation: its kind (an entry of the caller's table), its operands' picks, axis and keepdims. */
export interface RandomOp {
  kind: number;
  a: number;
  b: number;
  axis: number;
  keepdims: boolean;
}

/**
 * J(x, y, p) = sum(last^2) + sum over the pool of sum(0.5 sin v), recorded as it runs: every op combines
 * two values picked from the pool [x, y, p, results so far] through `applyOp`.
 *
 * @example
 * const J = withTape(tape, () => randomProgram(x, y, p, ops, (op, a, b) => np.multiply(a, b)));
 */
export function randomProgram(
  x: NDArray,
  y: NDArray,
  p: AdjFloat,
  ops: readonly RandomOp[],
  applyOp: (op: RandomOp, a: ProgramValue, b: ProgramValue, p: AdjFloat) => ProgramValue,
): NDArray {
  const pool: ProgramValue[] = [x, y, p];
  const pick = (k: number) => pool[k % pool.length];
  for (const op of ops) {
    try {
      pool.push(applyOp(op, pick(op.a), pick(op.b), p));
    } catch (error) {
      if (error instanceof ShapeMismatchError) continue; // operands that do not broadcast
      throw error;
    }
  }
  let total: ProgramValue = np.sum(np.square(pool[pool.length - 1]));
  for (const value of pool) total = np.add(total, np.sum(np.multiply(np.sin(value), 0.5)));
  // cast: np.multiply of a recorded sum is an NDArray (0-d); the union type cannot say so
  return np.multiply(np.add(total, 0), 1) as NDArray;
}
