/**
 * @file The random-program driver shared by property tests (compile vs tape, pooled vs unpooled sweeps):
 * each test gives its own table of operations; the driver picks their operands from a growing pool of
 * values, skips operands that do not broadcast, and sums the result into a scalar J.
 */
import fc from "fast-check";
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

/**
 * The arbitraries of a random program: the shape S of x (1 to 3 axes of 1 to 3), three flags that make y's
 * shape broadcast to S (an axis of 1, the leading axis dropped), and 2 to `maxOps` operations of kinds
 * 0 to 11.
 *
 * @example
 * fc.assert(fc.property(...programArbitraries(9), (shape, ones, ops) => { ... }));
 */
export function programArbitraries(maxOps: number) {
  return [
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
    fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    fc.array(
      fc.record({
        kind: fc.integer({ min: 0, max: 11 }),
        a: fc.nat(),
        b: fc.nat(),
        axis: fc.nat(),
        keepdims: fc.boolean(),
      }),
      { minLength: 2, maxLength: maxOps },
    ),
  ] as const;
}

/**
 * x of `shape` and y of the shape `ones` derives from it (broadcasting to x), drawn from `rng`.
 *
 * @example
 * const { x, y } = programInputs(rng, [2, 3], [false, true, false]); // y has shape [1, 3]... or [3]
 */
export function programInputs(
  rng: ReturnType<typeof np.random.default_rng>,
  shape: readonly number[],
  ones: readonly boolean[],
): { x: NDArray; y: NDArray } {
  const partner = shape.map((n, i) => (ones[i] ? 1 : n)).slice(ones[2] ? 1 : 0);
  const x = rng.normal(0, 1, [...shape]);
  const y = rng.normal(0, 1, partner.length === 0 ? [1] : partner);
  return { x, y };
}
