/**
 * @file A clock of the tangent-linear and second-order sweeps, so that a block's second-order loop may
 * reuse what its tangent loop computed at the same values (power's ln a) only in the second-order sweep
 * that directly follows that tangent sweep, as a Hessian action runs them (tlmSweep with
 * `forSecondOrder`, then hessianSweep). Every such sweep ticks the clock; a sweep nested in a block's mode
 * (a pointMap's tape) restores the outer sweep's tick when it ends.
 */

let clock = 0;
let tangentTick = -1;
let secondOrderTick = -1;

/**
 * @internal runs a tangent-linear sweep; with `forSecondOrder` (a second-order sweep follows),
 * `tangentSweepTick()` is its tick while it runs, else -1 (nothing is kept for a later sweep)
 *
 * @example
 * inTangentSweep(true, () => tlmBlocks(path.blocks, path, pool));
 */
export function inTangentSweep(forSecondOrder: boolean, run: () => void): void {
  const outer = tangentTick;
  const tick = ++clock;
  tangentTick = forSecondOrder ? tick : -1;
  try {
    run();
  } finally {
    tangentTick = outer;
  }
}

/**
 * @internal runs a second-order sweep: `followsTangentSweep(tick)` tells whether a tangent sweep's tick is
 * that of the sweep just before it
 *
 * @example
 * inSecondOrderSweep(() => hessianBlocks(path.blocks, path, pool, false));
 */
export function inSecondOrderSweep(run: () => void): void {
  const outer = secondOrderTick;
  secondOrderTick = ++clock;
  try {
    run();
  } finally {
    secondOrderTick = outer;
  }
}

/**
 * @internal the tick of the running tangent-linear sweep that a second-order sweep follows, -1 otherwise
 * (another sweep, or a block's mode called directly)
 *
 * @example
 * const tick = tangentSweepTick(); // kept with what the tangent loop computed, when >= 0
 */
export function tangentSweepTick(): number {
  return tangentTick;
}

/**
 * @internal whether a second-order sweep is running and the tangent sweep of `tick` is the sweep just
 * before it (no other tangent-linear or second-order sweep began in between)
 *
 * @example
 * if (followsTangentSweep(entry.tick)) use(entry.logs);
 */
export function followsTangentSweep(tick: number): boolean {
  return tick >= 0 && secondOrderTick >= 0 && tick === secondOrderTick - 1;
}
