/**
 * @file What a tape and its sweeps need of checkpointing, declared here so that tape/ names no checkpoint
 * module: the schedule `tape.enableCheckpointing` receives starts a {@link Checkpointer} (the checkpoint
 * manager of `tsadjoint/checkpoint` is one), which the tape calls at each step's end, on clear and for its
 * statistics, and which the sweeps hand their per-step work to.
 */
import type { Block } from "./block.js";
import type { BlockVariable } from "./block-variable.js";

/** The figures of `tape.checkpointStatistics()`. */
export interface CheckpointStatistics {
  /** Steps of the loop (closed by `endTimestep`). */
  steps: number;
  /** Every step advanced: the recorded run plus every recomputation. */
  forwardSteps: number;
  /** Steps advanced again after the recorded run (replays, tangent-linear sweeps, adjoint recomputations). */
  recomputedSteps: number;
  /** Most snapshots held in memory at once. */
  maxSnapshotsInMemory: number;
  /** Most snapshots (and stored steps) on disk at once. */
  maxSnapshotsOnDisk: number;
  /** Most steps whose values were all held in memory at once (the steps an adjoint works on). */
  maxStepsInMemory: number;
}

/** @internal The tape as a checkpointer sees it (the Tape class provides it). */
export interface CheckpointedTape {
  readonly blocks: readonly Block[];
}

/** @internal What a sweep does on one step; the checkpointer decides when and in which order. */
export interface LoopOps {
  /** Recomputes the values of the blocks (all the blocks of one step), never overwriting a control. */
  recompute(blocks: readonly Block[]): void;
  /** Tangent-linear values over the path's blocks of one step. */
  tlm(blocks: readonly Block[]): void;
  /** Adjoint (or second-order adjoint) over the path's blocks of one step, in reverse order. */
  reverse(blocks: readonly Block[]): void;
}

/** @internal The blocks of a sweep path split into before the loop, each step, after the loop. */
export interface LoopPartition {
  readonly prefix: Block[];
  readonly steps: Block[][];
  readonly suffix: Block[];
}

/** @internal Values a checkpointer never drops: the controls and outputs of the drivers' paths. */
export interface KeptValues {
  readonly controls: readonly BlockVariable[];
  readonly outputs: readonly BlockVariable[];
}

/**
 * @internal The hooks of a checkpointed time loop on one tape: the tape calls `endStep` (from
 * `endTimestep`), `statistics` and `dispose`; the sweeps call the rest, handing over their per-step work.
 */
export interface Checkpointer {
  /** Whether sweeps must go through the checkpointer (a loop with at least one step). */
  readonly active: boolean;
  /** Closes the step recorded since the last call (called by `tape.endTimestep()`). */
  endStep(): void;
  /** The statistics so far. */
  statistics(): CheckpointStatistics;
  /** Removes every snapshot and disk file; the checkpointer stops following the tape. */
  dispose(): void;
  /** A sweep path's blocks split into before the loop, per step, and after. */
  partition(blocks: readonly Block[]): LoopPartition;
  /** One forward over the loop (values, and tangent-linear values with `tlm`). */
  forward(operation: string, ops: LoopOps, partition: LoopPartition, tlm: boolean, keep: KeptValues): void;
  /** The reverse over the loop, after a forward (run first when needed). */
  reverse(
    operation: string,
    ops: LoopOps,
    partition: LoopPartition,
    secondOrder: boolean,
    keep: KeptValues,
  ): void;
  /** Makes the loop's last step ready for a reverse (sweeps call it before the blocks after the loop). */
  prepareReverse(
    operation: string,
    ops: LoopOps,
    partition: LoopPartition,
    secondOrder: boolean,
    keep: KeptValues,
  ): void;
  /** Values never to drop from now on. */
  remember(keep: KeptValues): void;
  /** Called after every step advanced or reversed by a sweep (benchmarks sample memory there). */
  observer: ((event: "forward" | "reverse", step: number) => void) | undefined;
  /** The values held by snapshots in memory (benchmarks count their bytes). */
  heldSnapshotValues(): unknown[];
  /** The disk folder while snapshots are on disk (for tests and reports). */
  readonly diskPath: string | undefined;
}

/**
 * What `tape.enableCheckpointing(schedule)` receives: a schedule that starts checkpointing the time loop
 * recorded next on a tape. Every schedule of `tsadjoint/checkpoint` (Revolve, MultistageCheckpointSchedule,
 * SingleMemoryStorageSchedule, ...) is one.
 *
 * @example
 * const schedule: CheckpointingSchedule = new Revolve(1000, 10);
 * tape.enableCheckpointing(schedule);
 */
export interface CheckpointingSchedule {
  /** @internal starts following the loop recorded next on `tape` (from enableCheckpointing and clear) */
  startCheckpointing(tape: CheckpointedTape): Checkpointer;
}

/** @internal whether `value` can be passed to `tape.enableCheckpointing` */
export function isCheckpointingSchedule(value: unknown): value is CheckpointingSchedule {
  return (
    typeof value === "object" &&
    value !== null &&
    "startCheckpointing" in value &&
    typeof value.startCheckpointing === "function"
  );
}
