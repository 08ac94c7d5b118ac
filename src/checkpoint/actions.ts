/**
 * @file The actions a checkpoint schedule yields (the vocabulary of the checkpoint_schedules package):
 * advance the forward, run the adjoint over steps, copy or move a snapshot between storages, end of the
 * forward and of the reverse.
 */

/**
 * Where a snapshot lives: `memory` (RAM), `disk` (files in a temporary folder), `work` (the values the
 * tape computes with: copying a snapshot to `work` restores the state it holds) or `none`.
 */
export type StorageType = "memory" | "disk" | "work" | "none";

/**
 * Advance the forward from step `n0` to step `n1` (steps n0..n1-1). With `writeIcs`, first store the
 * state at `n0` (the values step n0 reads from earlier steps) in `storage`; with `writeAdjDeps`, keep
 * every value of the steps advanced (what their adjoint needs), in `storage` when it is `disk`.
 *
 * @example
 * new Forward(0, 10, true, false, "memory");
 */
export class Forward {
  readonly type = "Forward";
  constructor(
    readonly n0: number,
    readonly n1: number,
    readonly writeIcs: boolean,
    readonly writeAdjDeps: boolean,
    readonly storage: StorageType,
  ) {}
}

/**
 * Run the adjoint from step `n1` back to step `n0` (steps n1-1 down to n0), whose values were kept by a
 * `Forward` with `writeAdjDeps`; `clearAdjDeps` drops them afterwards.
 *
 * @example
 * new Reverse(10, 9, true);
 */
export class Reverse {
  readonly type = "Reverse";
  constructor(
    readonly n1: number,
    readonly n0: number,
    readonly clearAdjDeps: boolean,
  ) {}
}

/**
 * Copy the snapshot of step `n` from storage `from` to `to` (`to = "work"` restores the state at `n`; the
 * snapshot stays).
 *
 * @example
 * new Copy(0, "memory", "work");
 */
export class Copy {
  readonly type = "Copy";
  constructor(
    readonly n: number,
    readonly from: StorageType,
    readonly to: StorageType,
  ) {}
}

/**
 * Move the snapshot of step `n` from `from` to `to`: like `Copy`, then the snapshot is deleted from `from`.
 *
 * @example
 * new Move(0, "memory", "work");
 */
export class Move {
  readonly type = "Move";
  constructor(
    readonly n: number,
    readonly from: StorageType,
    readonly to: StorageType,
  ) {}
}

/**
 * The forward is complete (every step advanced once).
 *
 * @example
 * new EndForward();
 */
export class EndForward {
  readonly type = "EndForward";
}

/**
 * The adjoint is complete (every step reversed).
 *
 * @example
 * new EndReverse();
 */
export class EndReverse {
  readonly type = "EndReverse";
}

/** Any action a schedule yields. */
export type CheckpointAction = Forward | Reverse | Copy | Move | EndForward | EndReverse;
