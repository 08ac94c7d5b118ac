/**
 * @file Checkpoint schedules: generators of the actions (Forward, Reverse, Copy, Move, EndForward,
 * EndReverse) that drive a checkpointed adjoint. Revolve (binomial, offline), multistage (memory and disk,
 * offline), single memory and single disk storage, none (forward only) and a periodic online schedule
 * for loops whose length is not known when they start.
 */
import { checkNumber } from "../options.js";
import type { CheckpointedTape, Checkpointer, CheckpointingSchedule } from "../tape/checkpointing.js";
import {
  type CheckpointAction,
  Copy,
  EndForward,
  EndReverse,
  Forward,
  Move,
  Reverse,
  type StorageType,
} from "./actions.js";
import { CheckpointError } from "./errors.js";
import { CheckpointManager, type RecordingPolicy } from "./manager.js";

/**
 * Base class of the schedules. `actions(steps)` yields the whole plan of one forward and one reverse;
 * iterating the schedule gives `actions()` for its own number of steps.
 *
 * @example
 * for (const action of new Revolve(4, 2)) console.log(action.type);
 */
export abstract class CheckpointSchedule implements CheckpointingSchedule {
  /** The number of steps (offline schedules) or `undefined` (any number, fixed when the loop ends). */
  abstract readonly steps: number | undefined;
  /** Whether the schedule stores snapshots on disk (Node only). */
  readonly usesDisk: boolean = false;
  /** Whether the schedule supports an adjoint (false for `NoneCheckpointSchedule`). */
  readonly supportsAdjoint: boolean = true;

  /** The actions of one forward (up to `EndForward`) and one reverse (up to `EndReverse`) over `steps` steps. */
  abstract actions(steps?: number): Generator<CheckpointAction>;

  [Symbol.iterator](): Generator<CheckpointAction> {
    return this.actions();
  }

  /** A short description for messages and reports. */
  abstract describe(): string;

  /** @internal a checkpoint manager following the loop recorded next on `tape` (see enableCheckpointing) */
  startCheckpointing(tape: CheckpointedTape): Checkpointer {
    return new CheckpointManager(tape, this);
  }

  /** @internal the number of steps to plan for, checked against the schedule's own */
  protected stepCount(steps: number | undefined, operation: string): number {
    const n = steps ?? this.steps;
    if (n === undefined) {
      throw new CheckpointError(
        operation,
        `${this.describe()} needs the number of steps: call actions(steps)`,
      );
    }
    if (this.steps !== undefined && n !== this.steps) {
      throw new CheckpointError(
        operation,
        `${this.describe()} was made for ${this.steps} steps but the loop has ${n}; create the schedule with the loop's length`,
      );
    }
    return n;
  }

  /**
   * @internal the recording policy; the default follows the forward part of `actions(steps)` (offline
   * schedules know their whole plan in advance)
   */
  recording(): RecordingPolicy {
    const n = this.stepCount(undefined, `${this.constructor.name}.recording`);
    const writes = new Map<number, StorageType>();
    const held = new Map<number, StorageType>();
    for (const action of this.actions(n)) {
      if (action.type === "EndForward") break;
      if (action.type !== "Forward") continue;
      if (action.writeIcs) writes.set(action.n0, action.storage);
      if (action.writeAdjDeps) for (let k = action.n0; k < action.n1; k++) held.set(k, action.storage);
    }
    return {
      boundary: (k) => ({ write: writes.get(k), discard: [] }),
      holdStep: (k) => held.get(k),
    };
  }
}

/** C(n, k) for the small arguments of the binomial schedules (exact below 2^53). */
function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let result = 1;
  const kk = Math.min(k, n - k);
  for (let i = 1; i <= kk; i++) result = (result * (n - kk + i)) / i;
  return Math.round(result);
}

/**
 * The least number of steps advanced (the first forward included) to reverse `steps` steps with `snapshots`
 * snapshots, the one at the start included: steps + t steps - C(s + t, s + 1) with t the least integer
 * such that C(s + t, s) >= steps (Griewank and Walther's binomial bound).
 *
 * @example
 * binomialForwardSteps(100, 5); // 416
 */
export function binomialForwardSteps(steps: number, snapshots: number): number {
  if (steps <= 0) return 0;
  if (snapshots < 1) return Number.POSITIVE_INFINITY;
  let t = 0;
  let beta = 1; // C(s + t, s)
  while (beta < steps) {
    t++;
    beta = (beta * (snapshots + t)) / t;
  }
  return steps + t * steps - binomial(snapshots + t, snapshots + 1);
}

/** The split m in [1, l - 1] minimising m + T(l - m, s - 1) + T(m, s) (advance m, store, reverse the rest). */
function bestSplit(l: number, s: number): number {
  let best = 1;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let m = 1; m < l; m++) {
    const cost = m + binomialForwardSteps(l - m, s - 1) + binomialForwardSteps(m, s);
    if (cost < bestCost) {
      bestCost = cost;
      best = m;
    }
  }
  return best;
}

/** Snapshot bookkeeping while a plan is generated: where each stored snapshot lives. */
class PlanState {
  readonly stored = new Map<number, StorageType>();
  constructor(readonly storageAt: (depth: number) => StorageType) {}

  write(n: number): StorageType {
    const storage = this.storageAt(this.stored.size);
    this.stored.set(n, storage);
    return storage;
  }

  restore(n: number, last: boolean): CheckpointAction {
    const storage = this.stored.get(n) ?? "memory";
    if (!last) return new Copy(n, storage, "work");
    this.stored.delete(n);
    return new Move(n, storage, "work");
  }
}

/**
 * Reverses steps a..b-1 with `s` snapshot slots (the one holding a included), the state at a being current.
 * With `storeA` the first Forward writes the snapshot at a; otherwise it is already stored. Every
 * restore of a uses Copy, its last one Move.
 */
function* reverseRange(
  a: number,
  b: number,
  s: number,
  storeA: boolean,
  plan: PlanState,
): Generator<CheckpointAction> {
  const l = b - a;
  if (l === 1) {
    yield new Forward(a, b, false, true, "memory");
    yield new Reverse(b, a, true);
    return;
  }
  const storage = storeA ? plan.write(a) : "memory";
  if (s <= 1) {
    // one slot: advance from a every time
    yield new Forward(a, b - 1, storeA, false, storage);
    yield new Forward(b - 1, b, false, true, "memory");
    yield new Reverse(b, b - 1, true);
    for (let c = b - 1; c > a; c--) {
      yield plan.restore(a, c - a === 1);
      if (c - a > 1) yield new Forward(a, c - 1, false, false, "none");
      yield new Forward(c - 1, c, false, true, "memory");
      yield new Reverse(c, c - 1, true);
    }
    return;
  }
  const m = bestSplit(l, s);
  yield new Forward(a, a + m, storeA, false, storage);
  yield* reverseRange(a + m, b, s - 1, b - (a + m) > 1, plan);
  yield plan.restore(a, m === 1);
  yield* reverseRange(a, a + m, s, false, plan);
}

/** Wraps a plan with EndForward (before the first Reverse) and EndReverse. */
function* withEnds(plan: Generator<CheckpointAction>): Generator<CheckpointAction> {
  let forwardDone = false;
  for (const action of plan) {
    if (!forwardDone && action.type === "Reverse") {
      forwardDone = true;
      yield new EndForward();
    }
    yield action;
  }
  if (!forwardDone) yield new EndForward();
  yield new EndReverse();
}

function checkSteps(operation: string, steps: number): void {
  checkNumber(operation, "steps", steps, { integer: true, positive: true });
}

/**
 * Binomial checkpointing (Griewank and Walther's revolve), offline: for a loop of `steps` steps and
 * `snapshotsInMemory` snapshots (the one at the start included), the fewest steps advanced: for 100
 * steps and 5 snapshots, 416 in all (the recorded run included).
 *
 * @example
 * tape.enableCheckpointing(new Revolve(1000, 10));
 */
export class Revolve extends CheckpointSchedule {
  readonly steps: number;
  constructor(
    steps: number,
    readonly snapshotsInMemory: number,
  ) {
    super();
    checkSteps("new Revolve", steps);
    checkNumber("new Revolve", "snapshotsInMemory", snapshotsInMemory, { integer: true, positive: true });
    this.steps = steps;
  }

  /**
   * The plan (forward, then reverse) for the schedule's steps.
   *
   * @example
   * [...new Revolve(3, 2).actions()].map((a) => a.type);
   */
  *actions(steps?: number): Generator<CheckpointAction> {
    const n = this.stepCount(steps, "Revolve.actions");
    yield* withEnds(reverseRange(0, n, this.snapshotsInMemory, true, new PlanState(() => "memory")));
  }

  describe(): string {
    return `Revolve(${this.steps} steps, ${this.snapshotsInMemory} snapshots)`;
  }
}

/**
 * Multistage checkpointing, offline: the binomial schedule over `snapshotsInMemory + snapshotsOnDisk`
 * snapshots, the outer ones (stored first, kept longest) on disk and the inner ones in memory. For 100
 * steps, 3 in memory and 5 on disk: 345 steps advanced in all.
 *
 * @example
 * tape.enableCheckpointing(new MultistageCheckpointSchedule(1000, 5, 10));
 */
export class MultistageCheckpointSchedule extends CheckpointSchedule {
  readonly steps: number;
  override readonly usesDisk: boolean;
  constructor(
    steps: number,
    readonly snapshotsInMemory: number,
    readonly snapshotsOnDisk: number,
  ) {
    super();
    const operation = "new MultistageCheckpointSchedule";
    checkSteps(operation, steps);
    checkNumber(operation, "snapshotsInMemory", snapshotsInMemory, { integer: true, nonNegative: true });
    checkNumber(operation, "snapshotsOnDisk", snapshotsOnDisk, { integer: true, nonNegative: true });
    if (snapshotsInMemory + snapshotsOnDisk < 1) {
      throw new CheckpointError(operation, "give at least one snapshot (in memory or on disk)");
    }
    this.steps = steps;
    this.usesDisk = snapshotsOnDisk > 0;
  }

  /**
   * The plan (forward, then reverse); snapshot storage by depth: the first `snapshotsOnDisk` on disk.
   *
   * @example
   * [...new MultistageCheckpointSchedule(10, 1, 2).actions()];
   */
  *actions(steps?: number): Generator<CheckpointAction> {
    const n = this.stepCount(steps, "MultistageCheckpointSchedule.actions");
    const disk = this.snapshotsOnDisk;
    const plan = new PlanState((depth) => (depth < disk ? "disk" : "memory"));
    yield* withEnds(reverseRange(0, n, this.snapshotsInMemory + disk, true, plan));
  }

  describe(): string {
    return `MultistageCheckpointSchedule(${this.steps} steps, ${this.snapshotsInMemory} in memory, ${this.snapshotsOnDisk} on disk)`;
  }
}

/** Keeps every step's values in one storage: no recomputation (n steps advanced), memory or disk O(n). */
abstract class SingleStorageSchedule extends CheckpointSchedule {
  readonly steps = undefined;
  protected abstract readonly storage: StorageType;

  *actions(steps?: number): Generator<CheckpointAction> {
    const n = this.stepCount(steps, `${this.constructor.name}.actions`);
    yield new Forward(0, n, false, true, this.storage);
    yield new EndForward();
    yield new Reverse(n, 0, true);
    yield new EndReverse();
  }

  override recording(): RecordingPolicy {
    return { boundary: () => ({ write: undefined, discard: [] }), holdStep: () => this.storage };
  }
}

/**
 * Every step's values kept in memory (as without checkpointing, but with the same bookkeeping): the
 * fastest adjoint, memory proportional to the number of steps. Works for loops of any length.
 *
 * @example
 * tape.enableCheckpointing(new SingleMemoryStorageSchedule());
 */
export class SingleMemoryStorageSchedule extends SingleStorageSchedule {
  protected readonly storage = "memory";
  describe(): string {
    return "SingleMemoryStorageSchedule";
  }
}

/**
 * Every step's values written to disk (a temporary folder) as the forward runs and read back one step at
 * a time by the adjoint: no recomputation, memory of about two steps. Node only. Any loop length.
 *
 * @example
 * tape.enableCheckpointing(new SingleDiskStorageSchedule());
 */
export class SingleDiskStorageSchedule extends SingleStorageSchedule {
  protected readonly storage = "disk";
  override readonly usesDisk = true;
  describe(): string {
    return "SingleDiskStorageSchedule";
  }
}

/**
 * Forward only: no step is kept, nothing is stored. Replays (evaluate) and tangent-linear actions work;
 * an adjoint or a Hessian throws CheckpointError.
 *
 * @example
 * tape.enableCheckpointing(new NoneCheckpointSchedule());
 */
export class NoneCheckpointSchedule extends CheckpointSchedule {
  readonly steps = undefined;
  override readonly supportsAdjoint = false;

  *actions(steps?: number): Generator<CheckpointAction> {
    const n = this.stepCount(steps, "NoneCheckpointSchedule.actions");
    yield new Forward(0, n, false, false, "none");
    yield new EndForward();
  }

  override recording(): RecordingPolicy {
    return { boundary: () => ({ write: undefined, discard: [] }), holdStep: () => undefined };
  }

  describe(): string {
    return "NoneCheckpointSchedule";
  }
}

/**
 * Online checkpointing for loops whose length is unknown when they start: a snapshot every `period`
 * steps, the period starting at 1 and doubling (every other snapshot deleted) whenever the
 * `snapshotsInMemory` slots are full, so at most that many snapshots exist at any time, spaced at most
 * 2n/s apart for n steps. Once the loop ends, each interval between snapshots is reversed by the binomial
 * schedule with the slots left free. Chosen over online revolve (Stumm and Walther) for its simplicity:
 * the memory bound is exact for every length and the recomputation cost stays within a small factor of
 * the offline optimum (each step is advanced at most about log2(2n/s) + 2 times for s >= 2).
 *
 * @example
 * tape.enableCheckpointing(new PeriodicCheckpointSchedule(10));
 * while (!converged) { step(); tape.endTimestep(); }
 */
export class PeriodicCheckpointSchedule extends CheckpointSchedule {
  readonly steps = undefined;
  constructor(readonly snapshotsInMemory: number) {
    super();
    checkNumber("new PeriodicCheckpointSchedule", "snapshotsInMemory", snapshotsInMemory, {
      integer: true,
      positive: true,
    });
  }

  override recording(): RecordingPolicy {
    const s = this.snapshotsInMemory;
    let period = 1;
    let stored: number[] = [];
    return {
      boundary: (k) => {
        if (k % period !== 0) return { write: undefined, discard: [] };
        let discard: number[] = [];
        if (stored.length >= s) {
          period *= 2;
          discard = stored.filter((c) => c % period !== 0);
          stored = stored.filter((c) => c % period === 0);
        }
        if (k % period === 0 && stored.length < s) {
          stored.push(k);
          return { write: "memory", discard };
        }
        return { write: undefined, discard };
      },
      holdStep: () => undefined,
    };
  }

  /** The snapshots the recording of `steps` steps leaves (what the policy keeps). */
  private finalSnapshots(steps: number): number[] {
    const policy = this.recording();
    const stored = new Set<number>();
    for (let k = 0; k < steps; k++) {
      const { write, discard } = policy.boundary(k);
      for (const c of discard) stored.delete(c);
      if (write !== undefined) stored.add(k);
    }
    return [...stored].sort((x, y) => x - y);
  }

  /**
   * The plan for a loop that turned out to have `steps` steps.
   *
   * @example
   * [...new PeriodicCheckpointSchedule(3).actions(20)];
   */
  *actions(steps?: number): Generator<CheckpointAction> {
    const n = this.stepCount(steps, "PeriodicCheckpointSchedule.actions");
    const snapshots = this.finalSnapshots(n);
    const plan = new PlanState(() => "memory");
    const r = snapshots.length;
    for (let i = 0; i < r; i++) {
      const c = snapshots[i];
      const end = i + 1 < r ? snapshots[i + 1] : n - 1;
      plan.write(c);
      if (end > c) yield new Forward(c, end, true, false, "memory");
      else yield new Forward(c, c + 1, true, true, "memory"); // the snapshot is the last step
    }
    if (snapshots[r - 1] !== n - 1) yield new Forward(n - 1, n, false, true, "memory");
    yield new EndForward();
    yield new Reverse(n, n - 1, true);
    for (let i = r - 1; i >= 0; i--) {
      const c = snapshots[i];
      const end = i + 1 < r ? snapshots[i + 1] : n - 1;
      if (end <= c) {
        yield plan.restore(c, true); // nothing left to reverse before the last step: just delete it
        continue;
      }
      yield plan.restore(c, end - c === 1);
      yield* reverseRange(c, end, this.snapshotsInMemory - i, false, plan);
    }
    yield new EndReverse();
  }

  describe(): string {
    return `PeriodicCheckpointSchedule(${this.snapshotsInMemory} snapshots)`;
  }
}
