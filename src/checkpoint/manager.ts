/**
 * @file The checkpoint manager behind `tape.enableCheckpointing(schedule)`: it follows the recorded time
 * loop step by step, keeps only what the schedule asks for (snapshots of the values a step reads from the
 * previous one, and the steps whose adjoint comes next), and runs every forward and reverse sweep over the
 * loop by the schedule's actions, recomputing dropped steps from snapshots with the blocks' `recompute`.
 *
 * Memory: every block of every step stays on the tape (blocks are small); what is dropped are the values
 * (`BlockVariable.saved` and `tlm`) of the block outputs inside the loop. Values never dropped: those
 * computed before the loop or after it, independent values, controls, the outputs a driver asked for, and
 * values a later step reads across more than one step boundary ("pinned").
 */
import type { Block } from "../tape/block.js";
import { type BlockVariable, droppedValues } from "../tape/block-variable.js";
import type {
  CheckpointedTape,
  Checkpointer,
  CheckpointStatistics,
  KeptValues,
  LoopOps,
  LoopPartition,
} from "../tape/checkpointing.js";
import type { CheckpointAction, Forward, StorageType } from "./actions.js";
import { DiskStore } from "./disk.js";
import { CheckpointError } from "./errors.js";

export type {
  CheckpointedTape,
  CheckpointStatistics,
  LoopOps,
  LoopPartition,
} from "../tape/checkpointing.js";

/** What a checkpointed tape does at the end of each recorded step (the recording is the first forward). */
export interface RecordingPolicy {
  /**
   * Called once for each boundary k = 0, 1, ... (the state before step k) when step k has been recorded:
   * whether to store a snapshot there, and which earlier snapshots to delete.
   */
  boundary(k: number): { write: StorageType | undefined; discard: readonly number[] };
  /** Where the values of step k are kept for the adjoint (`undefined`: dropped once the next step ran). */
  holdStep(k: number): StorageType | undefined;
}

/** @internal What the manager reads of its schedule (every CheckpointSchedule provides it). */
export interface ManagedSchedule {
  /** The number of steps (offline schedules) or `undefined` (any number). */
  readonly steps: number | undefined;
  /** Whether the schedule stores snapshots on disk (Node only). */
  readonly usesDisk: boolean;
  /** Whether the schedule supports an adjoint. */
  readonly supportsAdjoint: boolean;
  /** The actions of one forward and one reverse over `steps` steps. */
  actions(steps?: number): Iterable<CheckpointAction>;
  /** A short description for messages. */
  describe(): string;
  /** What to do at the end of each recorded step. */
  recording(): RecordingPolicy;
}

interface Snapshot {
  readonly storage: "memory" | "disk";
  readonly values: unknown[] | undefined;
  readonly tlm: unknown[] | undefined;
  readonly withTlm: boolean;
}

type State = "forward" | "forward-tlm" | "consumed";

const recordingManagers = new Set<CheckpointManager>();
droppedValues.restore = (variable, raw) => {
  for (const manager of recordingManagers) manager.restoreDropped(variable, raw);
};

/**
 * @internal Follows a checkpointed loop on one tape: the {@link Checkpointer} a schedule starts when
 * `tape.enableCheckpointing(schedule)` is called; the sweeps call `forward` and `reverse`.
 */
export class CheckpointManager implements Checkpointer {
  readonly schedule: ManagedSchedule;
  private readonly tape: CheckpointedTape;
  private readonly loopStart: number;
  private policy: RecordingPolicy;
  private recording = true;
  /** Whether the tape's values are still those of the recorded run (no replay yet). */
  private recordedValues = true;
  /** Blocks after the loop already scanned for the step values they read. */
  private suffixScanned = 0;
  private state: State = "forward";
  private readonly stepStarts: number[];
  private readonly stepBlocks: Block[][] = [];
  private readonly stepOutputs: BlockVariable[][] = [];
  private readonly liveIn: BlockVariable[][] = [];
  private readonly liveInSets: Set<BlockVariable>[] = [];
  private readonly producedStep = new Map<BlockVariable, number>();
  private readonly stepOf = new Map<Block, number>();
  private readonly pinned = new Set<BlockVariable>();
  private readonly keep = new Set<BlockVariable>();
  private readonly controls = new Set<BlockVariable>();
  private readonly prefixBlocks: Set<Block>;
  private memorySnapshots = 0;
  private readonly snapshots = new Map<number, Snapshot>();
  /** Steps whose values are kept for the adjoint, and where. */
  private readonly held = new Map<number, "memory" | "disk">();
  /** Steps whose values are all on their variables now. */
  private readonly resident = new Set<number>();
  private readonly partitions = new WeakMap<readonly Block[], LoopPartition>();
  private disk: DiskStore | undefined = undefined;
  /** @internal called after every step advanced or reversed by a sweep (benchmarks sample memory there) */
  observer: ((event: "forward" | "reverse", step: number) => void) | undefined = undefined;
  private stats: CheckpointStatistics = {
    steps: 0,
    forwardSteps: 0,
    recomputedSteps: 0,
    maxSnapshotsInMemory: 0,
    maxSnapshotsOnDisk: 0,
    maxStepsInMemory: 0,
  };

  constructor(tape: CheckpointedTape, schedule: ManagedSchedule) {
    this.tape = tape;
    this.schedule = schedule;
    this.loopStart = tape.blocks.length;
    this.stepStarts = [this.loopStart];
    this.prefixBlocks = new Set(tape.blocks);
    this.policy = schedule.recording();
    if (schedule.usesDisk) nodeCheck();
    recordingManagers.add(this);
  }

  /** The statistics so far. */
  statistics(): CheckpointStatistics {
    return { ...this.stats };
  }

  /** Number of closed steps. */
  get steps(): number {
    return this.stepBlocks.length;
  }

  /** Removes every snapshot and disk file; the manager stops following the tape. */
  dispose(): void {
    recordingManagers.delete(this);
    this.snapshots.clear();
    this.disk?.clear();
    this.disk = undefined;
  }

  /** @internal called by the getter of an overloaded value whose tape value was dropped */
  restoreDropped(variable: BlockVariable, raw: () => unknown): void {
    if (!this.recordedValues || !this.producedStep.has(variable)) return;
    // still recording: the program's value is the tape's value; keep it for the rest of the tape's life
    variable.saved = raw();
    this.pinned.add(variable);
  }

  /** Closes step k = `steps` (called by `tape.endTimestep()`). */
  endStep(): void {
    const operation = "tape.endTimestep";
    const limit = this.schedule.steps;
    if (limit !== undefined && this.stepBlocks.length >= limit) {
      throw new CheckpointError(
        operation,
        `${this.schedule.describe()} was made for ${limit} steps; endTimestep was called once more. Create the schedule with the loop's length`,
      );
    }
    if (!this.recording) {
      throw new CheckpointError(
        operation,
        `the checkpointed loop has ended (${this.steps} steps, ${this.schedule.describe()}); steps cannot be added after a derivative or replay; clear the tape to record a new loop`,
      );
    }
    const k = this.stepBlocks.length;
    const start = this.stepStarts[k];
    const end = this.tape.blocks.length;
    const blocks = this.tape.blocks.slice(start, end);
    this.stepStarts.push(end);
    this.stepBlocks.push(blocks);
    const outputs: BlockVariable[] = [];
    for (const block of blocks) {
      this.stepOf.set(block, k);
      for (const output of block.outputs) {
        outputs.push(output);
        this.producedStep.set(output, k);
      }
    }
    this.stepOutputs.push(outputs);
    const live = new Set<BlockVariable>();
    for (const block of blocks) {
      for (const dependency of block.dependencies) {
        const j = this.producedStep.get(dependency);
        if (j === undefined || j === k || this.pinned.has(dependency)) continue;
        if (j === k - 1) {
          live.add(dependency);
          continue;
        }
        if (dependency.saved === undefined) {
          throw new CheckpointError(
            operation,
            `step ${k} reads a value computed in step ${j}, which the checkpointed tape had already dropped; read values of earlier steps through the overloaded value itself, or keep them before the loop`,
          );
        }
        this.pinned.add(dependency);
      }
    }
    this.liveInSets.push(live);
    this.liveIn.push([...live]);
    this.resident.add(k);
    this.stats.steps = k + 1;
    this.stats.forwardSteps++;
    const { write, discard } = this.policy.boundary(k);
    for (const n of discard) this.deleteSnapshot(n);
    if (write !== undefined) this.storeSnapshot(k, write, false);
    const hold = this.policy.holdStep(k);
    if (hold === "memory" || hold === "disk") this.held.set(k, hold);
    this.settle(k, false);
    this.countSteps();
    if (limit !== undefined && k + 1 === limit) this.endRecording();
  }

  private endRecording(): void {
    this.recording = false;
    this.state = "forward";
  }

  /**
   * Pins the loop values that blocks after the loop read (they are never dropped); checks they are there.
   */
  private pinSuffixReads(operation: string): void {
    const blocks = this.tape.blocks;
    const start = Math.max(this.stepStarts[this.steps], this.suffixScanned);
    for (let b = start; b < blocks.length; b++) {
      for (const dependency of blocks[b].dependencies) {
        const j = this.producedStep.get(dependency);
        if (j === undefined || this.pinned.has(dependency)) continue;
        if (dependency.saved === undefined) {
          throw new CheckpointError(
            operation,
            `a block after the loop reads a value of step ${j} that the checkpointed tape had dropped; compute it from values of the last step, or before the loop`,
          );
        }
        this.pinned.add(dependency);
      }
    }
    this.suffixScanned = blocks.length;
  }

  /** Ends the recording for loops of unknown length; checks offline ones have all their steps. */
  private finalize(operation: string): void {
    if (!this.recording) {
      this.pinSuffixReads(operation);
      return;
    }
    const limit = this.schedule.steps;
    if (limit !== undefined && this.steps < limit) {
      throw new CheckpointError(
        operation,
        `${this.schedule.describe()} expects ${limit} steps but ${this.steps} were recorded; call tape.endTimestep() after each step (or use tape.timestepper(n))`,
      );
    }
    this.endRecording();
    this.pinSuffixReads(operation);
  }

  /** Whether sweeps must go through the manager (a loop with at least one step). */
  get active(): boolean {
    return this.stepBlocks.length > 0;
  }

  /**
   * @internal the path's blocks split into before the loop, per step, and after (cached per path).
   */
  partition(blocks: readonly Block[]): LoopPartition {
    const cached = this.partitions.get(blocks);
    if (cached !== undefined && !this.recording) return cached;
    const prefix: Block[] = [];
    const steps: Block[][] = this.stepBlocks.map(() => []);
    const suffix: Block[] = [];
    for (const block of blocks) {
      const k = this.stepOf.get(block);
      if (k !== undefined) steps[k].push(block);
      else if (this.prefixBlocks.has(block)) prefix.push(block);
      else suffix.push(block);
    }
    const result = { prefix, steps, suffix };
    this.partitions.set(blocks, result);
    return result;
  }

  /**
   * @internal one forward over the loop by the schedule's forward actions: values (and tangent-linear
   * values with `tlm`), snapshots as the schedule says. `keep`: values never to drop (controls, outputs).
   */
  forward(operation: string, ops: LoopOps, partition: LoopPartition, tlm: boolean, keep: KeptValues): void {
    this.finalize(operation);
    this.remember(keep);
    this.resetLoop();
    // until this forward completes, no later sweep may rely on it (a failed step leaves the tape usable)
    this.state = "consumed";
    this.recordedValues = false;
    recordingManagers.delete(this);
    const n = this.steps;
    for (const action of this.schedule.actions(n)) {
      if (action.type === "EndForward") break;
      if (action.type === "Forward") this.runForward(action, ops, partition, tlm);
    }
    this.state = tlm ? "forward-tlm" : "forward";
  }

  /**
   * @internal the reverse over the loop by the schedule's reverse actions, after a forward (run first when
   * the last one was consumed, or lacks tangent-linear values a Hessian needs).
   */
  reverse(
    operation: string,
    ops: LoopOps,
    partition: LoopPartition,
    secondOrder: boolean,
    keep: KeptValues,
  ): void {
    this.finalize(operation);
    if (!this.schedule.supportsAdjoint) {
      throw new CheckpointError(
        operation,
        `${this.schedule.describe()} records the forward only and cannot give an adjoint; enable a schedule with snapshots (Revolve, SingleMemoryStorageSchedule, ...) before the time loop`,
      );
    }
    this.prepareReverse(operation, ops, partition, secondOrder, keep);
    this.state = "consumed";
    let reversePart = false;
    for (const action of this.schedule.actions(this.steps)) {
      if (!reversePart) {
        if (action.type === "EndForward") reversePart = true;
        continue;
      }
      if (action.type === "EndReverse") break;
      this.execute(action, ops, partition, secondOrder);
    }
    this.state = "consumed";
    this.resetLoop();
  }

  /**
   * @internal makes the loop's last step and snapshots ready for a reverse (runs the forward again when
   * the last one was consumed by a reverse, or lacks the tangent-linear values a Hessian needs). Sweeps
   * call it before the blocks after the loop, whose adjoint reads the last step's values.
   */
  prepareReverse(
    operation: string,
    ops: LoopOps,
    partition: LoopPartition,
    secondOrder: boolean,
    keep: KeptValues,
  ): void {
    this.finalize(operation);
    if (!this.schedule.supportsAdjoint) {
      throw new CheckpointError(
        operation,
        `${this.schedule.describe()} records the forward only and cannot give an adjoint; enable a schedule with snapshots (Revolve, SingleMemoryStorageSchedule, ...) before the time loop`,
      );
    }
    this.remember(keep);
    if (this.state === "consumed" || (secondOrder && this.state !== "forward-tlm")) {
      this.forward(operation, ops, partition, secondOrder, keep);
    }
  }

  /** @internal values never to drop: the controls and outputs of the drivers' paths */
  remember(keep: KeptValues): void {
    for (const variable of keep.controls) this.controls.add(variable);
    for (const variable of keep.outputs) this.keep.add(variable);
  }

  private execute(action: CheckpointAction, ops: LoopOps, partition: LoopPartition, tlm: boolean): void {
    switch (action.type) {
      case "Forward":
        this.runForward(action, ops, partition, tlm);
        return;
      case "Reverse":
        for (let k = action.n1 - 1; k >= action.n0; k--) this.reverseStep(k, ops, partition);
        return;
      case "Copy":
      case "Move": {
        if (action.to === "work") this.restoreSnapshot(action.n, tlm);
        else this.copySnapshot(action.n, action.to);
        if (action.type === "Move") this.deleteSnapshot(action.n);
        return;
      }
      default:
        return;
    }
  }

  private runForward(action: Forward, ops: LoopOps, partition: LoopPartition, tlm: boolean): void {
    if (action.writeIcs) this.storeSnapshot(action.n0, action.storage, tlm);
    for (let k = action.n0; k < action.n1; k++) {
      this.dropStep(k, true);
      ops.recompute(this.stepBlocks[k]);
      if (tlm) ops.tlm(partition.steps[k]);
      this.resident.add(k);
      this.stats.forwardSteps++;
      this.stats.recomputedSteps++;
      if (action.writeAdjDeps) this.held.set(k, action.storage === "disk" ? "disk" : "memory");
      else this.held.delete(k);
      this.settle(k, tlm);
      this.countSteps();
      this.observer?.("forward", k);
    }
  }

  /**
   * After step k ran: step k - 1's values go to disk (held on disk), stay (held in memory) or are dropped,
   * except those step k reads (its adjoint may come next); what remains of step k - 2 is dropped.
   */
  private settle(k: number, tlm: boolean): void {
    if (k >= 1) {
      const previous = k - 1;
      const hold = this.held.get(previous);
      if (hold !== "memory") {
        if (hold === "disk" && this.resident.has(previous)) {
          const outputs = this.stepOutputs[previous];
          const values = outputs.map((v) => v.saved);
          this.diskStore().write(`d${previous}`, tlm ? [...values, ...outputs.map((v) => v.tlm)] : values);
          this.countSnapshots();
        }
        this.dropExceptLiveOut(previous);
      }
    }
    if (k >= 2 && this.held.get(k - 2) !== "memory") this.dropStep(k - 2, false);
  }

  private reverseStep(k: number, ops: LoopOps, partition: LoopPartition): void {
    this.ensureResident(k);
    if (k > 0 && this.held.get(k - 1) === "disk") this.ensureResident(k - 1);
    ops.reverse(partition.steps[k]);
    for (const variable of this.stepOutputs[k]) {
      variable.adj = undefined;
      variable.hessian = undefined;
    }
    this.dropStep(k, false);
    this.held.delete(k);
    this.disk?.delete(`d${k}`);
    if (k > 0 && !this.held.has(k - 1)) this.dropStep(k - 1, false);
    this.observer?.("reverse", k);
  }

  private ensureResident(k: number): void {
    if (this.resident.has(k)) return;
    if (this.held.get(k) !== "disk") {
      throw new CheckpointError("checkpointing", `internal: step ${k} is neither in memory nor on disk`);
    }
    const outputs = this.stepOutputs[k];
    const values = this.diskStore().read(`d${k}`);
    outputs.forEach((variable, i) => {
      variable.saved = values[i];
      if (values.length > outputs.length) variable.tlm = values[outputs.length + i];
    });
    this.resident.add(k);
    this.countSteps();
  }

  /**
   * Drops the values (and tangents) of step k's outputs, except controls and, unless the step is about to
   * be recomputed (from no previous value: iterative blocks then start where the recorded run started, so a
   * recomputation gives the recorded bits), pinned and kept values.
   */
  private dropStep(k: number, beforeRecompute: boolean): void {
    for (const variable of this.stepOutputs[k]) {
      if (this.controls.has(variable)) continue;
      if (!beforeRecompute && (this.keep.has(variable) || this.pinned.has(variable))) continue;
      variable.saved = undefined;
      variable.tlm = undefined;
    }
    this.resident.delete(k);
  }

  /** Drops step k's values except those step k + 1 reads. */
  private dropExceptLiveOut(k: number): void {
    const live = this.liveInSets[k + 1];
    for (const variable of this.stepOutputs[k]) {
      if (live?.has(variable) || this.keep.has(variable) || this.pinned.has(variable)) continue;
      if (this.controls.has(variable)) continue;
      variable.saved = undefined;
      variable.tlm = undefined;
    }
    this.resident.delete(k);
  }

  /** Drops every step's values and snapshots (before a new forward, after a reverse). */
  private resetLoop(): void {
    for (const n of [...this.snapshots.keys()]) this.deleteSnapshot(n);
    for (let k = 0; k < this.steps; k++) {
      this.dropStep(k, false);
      this.disk?.delete(`d${k}`);
    }
    this.held.clear();
  }

  private diskStore(): DiskStore {
    this.disk ??= new DiskStore();
    return this.disk;
  }

  private storeSnapshot(k: number, storage: StorageType, tlm: boolean): void {
    const variables = this.liveIn[k] ?? [];
    const values = variables.map((v) => v.saved);
    if (values.some((value) => value === undefined)) {
      throw new CheckpointError(
        "checkpointing",
        `internal: the state at step ${k} is not available to store`,
      );
    }
    const tangents = tlm ? variables.map((v) => v.tlm) : undefined;
    this.deleteSnapshot(k);
    if (storage === "disk") {
      this.diskStore().write(`s${k}`, tangents === undefined ? values : [...values, ...tangents]);
      this.snapshots.set(k, { storage: "disk", values: undefined, tlm: undefined, withTlm: tlm });
    } else {
      this.snapshots.set(k, { storage: "memory", values, tlm: tangents, withTlm: tlm });
      this.memorySnapshots++;
    }
    this.countSnapshots();
  }

  private snapshotValues(k: number): { values: unknown[]; tlm: unknown[] | undefined } {
    const snapshot = this.snapshots.get(k);
    if (snapshot === undefined) {
      throw new CheckpointError("checkpointing", `internal: no snapshot of step ${k}`);
    }
    if (snapshot.storage === "memory") return { values: snapshot.values ?? [], tlm: snapshot.tlm };
    const stored = this.diskStore().read(`s${k}`);
    const count = (this.liveIn[k] ?? []).length;
    return { values: stored.slice(0, count), tlm: snapshot.withTlm ? stored.slice(count) : undefined };
  }

  private restoreSnapshot(k: number, tlm: boolean): void {
    const { values, tlm: tangents } = this.snapshotValues(k);
    if (tlm && tangents === undefined) {
      throw new CheckpointError(
        "checkpointing",
        `internal: the snapshot of step ${k} has no tangent-linear values`,
      );
    }
    (this.liveIn[k] ?? []).forEach((variable, i) => {
      variable.saved = values[i];
      if (tangents !== undefined) variable.tlm = tangents[i];
    });
  }

  private copySnapshot(k: number, to: StorageType): void {
    const snapshot = this.snapshots.get(k);
    if (snapshot === undefined || snapshot.storage === to) return;
    const { values, tlm } = this.snapshotValues(k);
    this.deleteSnapshot(k);
    if (to === "disk") {
      this.diskStore().write(`s${k}`, tlm === undefined ? values : [...values, ...tlm]);
      this.snapshots.set(k, {
        storage: "disk",
        values: undefined,
        tlm: undefined,
        withTlm: tlm !== undefined,
      });
    } else {
      this.snapshots.set(k, { storage: "memory", values, tlm, withTlm: tlm !== undefined });
      this.memorySnapshots++;
    }
    this.countSnapshots();
  }

  private deleteSnapshot(k: number): void {
    const snapshot = this.snapshots.get(k);
    if (snapshot === undefined) return;
    this.snapshots.delete(k);
    if (snapshot.storage === "disk") this.disk?.delete(`s${k}`);
    else this.memorySnapshots--;
  }

  private countSnapshots(): void {
    this.stats.maxSnapshotsInMemory = Math.max(this.stats.maxSnapshotsInMemory, this.memorySnapshots);
    this.stats.maxSnapshotsOnDisk = Math.max(this.stats.maxSnapshotsOnDisk, this.disk?.size ?? 0);
  }

  private countSteps(): void {
    this.stats.maxStepsInMemory = Math.max(this.stats.maxStepsInMemory, this.resident.size);
  }

  /** @internal the values held by snapshots in memory (benchmarks count their bytes) */
  heldSnapshotValues(): unknown[] {
    const values: unknown[] = [];
    for (const snapshot of this.snapshots.values()) {
      if (snapshot.values !== undefined) values.push(...snapshot.values);
      if (snapshot.tlm !== undefined) values.push(...snapshot.tlm);
    }
    return values;
  }

  /** The disk folder while snapshots are on disk (for tests and reports). */
  get diskPath(): string | undefined {
    return this.disk?.path;
  }
}

function nodeCheck(): void {
  // undefined in a browser, and getBuiltinModule before Node 20.16 (which the declared types do not say)
  const process: NodeJS.Process | undefined = globalThis.process;
  const get: NodeJS.Process["getBuiltinModule"] | undefined = process?.getBuiltinModule;
  if (get === undefined) {
    throw new CheckpointError(
      "tape.enableCheckpointing",
      "this schedule stores snapshots on disk, which needs Node.js 20.16 or later (node:fs); in a browser use a memory schedule",
    );
  }
}
