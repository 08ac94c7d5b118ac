/** @file Tape: the ordered record of blocks, the working tape, tags, timesteps and pruning. */

import { InvalidArgumentError } from "../errors.js";
import { checkOptions } from "../options.js";
import { annotating } from "./annotation.js";
import { Block } from "./block.js";
import type { BlockVariable } from "./block-variable.js";
import { isDisposable } from "./capabilities.js";
import {
  type Checkpointer,
  type CheckpointingSchedule,
  type CheckpointStatistics,
  isCheckpointingSchedule,
} from "./checkpointing.js";
import { ScalarSegment } from "./scalar-segment.js";

/** Options every entry point accepts: the tape to use instead of the working tape. */
export interface TapeOption {
  /** The tape to read or record on; defaults to the working tape. */
  tape?: Tape;
}

/**
 * An ordered record of blocks. A working tape exists from import and annotation is on, so a program
 * records without any setup; `withTape` and the `{ tape }` option choose another one.
 *
 * @example
 * const tape = new Tape();
 * withTape(tape, () => np.sin(x));
 * tape.blocks.length; // 1
 */
export class Tape {
  private readonly blockList: Block[];
  private readonly timestepStarts: number[] = [0];
  private currentTag: string | undefined = undefined;
  /** The enabled schedule and the checkpointer following the current loop. */
  private checkpointing: { schedule: CheckpointingSchedule; checkpointer: Checkpointer } | undefined =
    undefined;
  /** @internal increases whenever the block list changes; caches compare it. */
  version = 0;
  /** The scalar segment that takes the next scalar operations (the last entry of the list), if any. */
  private openSegment: ScalarSegment | undefined = undefined;
  /** Number of scalar segments in the list (replaced by their blocks when the list is read). */
  private segmentCount = 0;

  constructor(blocks: readonly Block[] = []) {
    if (!Array.isArray(blocks) || blocks.some((block) => !(block instanceof Block))) {
      throw new InvalidArgumentError(
        "new Tape",
        `blocks must be an array of Blocks, got ${describeArgument(blocks)}`,
      );
    }
    this.blockList = blocks.slice();
  }

  /** The recorded blocks, in order. */
  get blocks(): readonly Block[] {
    if (this.segmentCount > 0) this.explodeSegments();
    return this.blockList;
  }

  /**
   * @internal The block list as the sweeps walk it: scalar operations recorded since the last other
   * block may be held by ScalarSegments (one entry for a run of operations) instead of their blocks.
   */
  get records(): readonly Block[] {
    return this.blockList;
  }

  /**
   * @internal The segment that records the next scalar operation (opened as the list's last entry when
   * needed), or undefined when scalar operations record blocks (a tag is active, or checkpointing is on).
   */
  scalarSegment(): ScalarSegment | undefined {
    const open = this.openSegment;
    if (open !== undefined) return open;
    if (this.currentTag !== undefined || this.checkpointing !== undefined) return undefined;
    const segment = new ScalarSegment();
    this.blockList.push(segment);
    this.segmentCount++;
    this.openSegment = segment;
    this.version++;
    return segment;
  }

  /**
   * @internal Replaces every scalar segment of the list by the blocks it stands for (the list is then
   * what recording one block an operation gives), keeping the timestep boundaries.
   */
  explodeSegments(): void {
    if (this.segmentCount === 0) return;
    const old = this.blockList.slice();
    const starts = this.timestepStarts;
    const list = this.blockList;
    list.length = 0;
    let t = 0;
    for (let i = 0; i < old.length; i++) {
      while (t < starts.length && starts[t] === i) starts[t++] = list.length;
      const block = old[i];
      if (block instanceof ScalarSegment) {
        for (const part of block.explode()) list.push(part);
      } else list.push(block);
    }
    while (t < starts.length) starts[t++] = list.length;
    this.openSegment = undefined;
    this.segmentCount = 0;
    this.version++;
  }

  /** Number of timesteps (one more than the number of `endTimestep` calls since the last clear). */
  get timesteps(): number {
    return this.timestepStarts.length;
  }

  /**
   * Appends a block (custom blocks call this; built-in operations do it for you). The block belongs to
   * the current timestep and gets the current tag.
   *
   * @example
   * getWorkingTape().addBlock(new MyBlock(x));
   */
  addBlock(block: Block): void {
    if (!(block instanceof Block)) {
      throw new InvalidArgumentError("Tape.addBlock", `expected a Block, got ${describeArgument(block)}`);
    }
    if (this.currentTag !== undefined && block.tag === undefined) block.tag = this.currentTag;
    this.openSegment = undefined;
    this.blockList.push(block);
    this.version++;
  }

  /**
   * Removes every block and timestep. Blocks that hold engine memory (those that declare the
   * DisposableBlock capability, as jax-js blocks do) release it.
   *
   * @example
   * getWorkingTape().clear();
   */
  clear(): void {
    for (const block of this.blockList) if (isDisposable(block)) block.dispose();
    this.blockList.length = 0;
    this.openSegment = undefined;
    this.segmentCount = 0;
    this.timestepStarts.length = 1;
    this.version++;
    const checkpointing = this.checkpointing;
    if (checkpointing !== undefined) {
      // snapshots and disk files go; the schedule stays enabled for the next loop
      checkpointing.checkpointer.dispose();
      checkpointing.checkpointer = checkpointing.schedule.startCheckpointing(this);
    }
  }

  /**
   * Checkpoints the time loop that follows: call it before the loop, then `endTimestep()` after each step
   * (or iterate `timestepper(n)`). The tape keeps every block but only the values the schedule asks for
   * (snapshots of the state, the steps whose adjoint comes next); every derivative, replay and Hessian
   * recomputes the dropped steps from snapshots and equals the uncheckpointed result. Schedules come from
   * `tsadjoint/checkpoint` (Revolve, MultistageCheckpointSchedule, SingleMemoryStorageSchedule,
   * SingleDiskStorageSchedule, NoneCheckpointSchedule, PeriodicCheckpointSchedule).
   *
   * @example
   * tape.enableCheckpointing(new Revolve(1000, 10));
   * for (const _ of tape.timestepper(1000)) u = step(u);
   * rf.derivative(); // 4636 steps advanced in all
   */
  enableCheckpointing(schedule: CheckpointingSchedule): void {
    if (!isCheckpointingSchedule(schedule)) {
      throw new InvalidArgumentError(
        "Tape.enableCheckpointing",
        `expected a checkpoint schedule from tsadjoint/checkpoint (e.g. new Revolve(steps, snapshots)), got ${describeArgument(schedule)}`,
      );
    }
    this.explodeSegments();
    this.checkpointing?.checkpointer.dispose();
    this.checkpointing = { schedule, checkpointer: schedule.startCheckpointing(this) };
  }

  /** @internal the checkpoint manager, when checkpointing is enabled */
  get checkpointManager(): Checkpointer | undefined {
    return this.checkpointing?.checkpointer;
  }

  /**
   * Steps advanced, snapshots held and steps recomputed since `enableCheckpointing` (zeros without it).
   *
   * @example
   * const { forwardSteps, maxSnapshotsInMemory } = tape.checkpointStatistics();
   */
  checkpointStatistics(): CheckpointStatistics {
    return (
      this.checkpointing?.checkpointer.statistics() ?? {
        steps: this.timestepStarts.length - 1,
        forwardSteps: 0,
        recomputedSteps: 0,
        maxSnapshotsInMemory: 0,
        maxSnapshotsOnDisk: 0,
        maxStepsInMemory: 0,
      }
    );
  }

  /**
   * The step indices 0..steps-1, ending each step (`endTimestep`) when the loop body is done with it.
   *
   * @example
   * for (const t of tape.timestepper(100)) u = step(u, t);
   */
  *timestepper(steps: number): Generator<number, void, undefined> {
    for (let index = 0; index < steps; index++) {
      yield index;
      this.endTimestep();
    }
  }

  /**
   * Blocks with the given tag (all blocks when `tag` is omitted).
   *
   * @example
   * tape.withTag("assembly", () => assemble(u)); tape.getBlocks("assembly");
   */
  getBlocks(tag?: string): Block[] {
    if (tag !== undefined) checkString(tag, "Tape.getBlocks", "tag");
    if (tag === undefined) return this.blocks.slice();
    return this.blocks.filter((block) => block.tag === tag);
  }

  /**
   * Runs `fn`, giving every block it records the tag `tag`.
   *
   * @example
   * tape.withTag("loss", () => np.square(x));
   */
  withTag<T>(tag: string, fn: () => T): T {
    checkString(tag, "Tape.withTag", "tag");
    checkFunction(fn, "Tape.withTag", "fn");
    const previous = this.currentTag;
    this.currentTag = tag;
    this.openSegment = undefined;
    try {
      return fn();
    } finally {
      this.currentTag = previous;
    }
  }

  /**
   * Ends the current timestep; later blocks belong to the next one (kept for checkpointing).
   *
   * @example
   * for (let t = 0; t < steps; t++) { u = step(u); tape.endTimestep(); }
   */
  endTimestep(): void {
    this.checkpointing?.checkpointer.endStep();
    this.openSegment = undefined;
    this.timestepStarts.push(this.blockList.length);
  }

  /**
   * Blocks recorded in timestep `index`.
   *
   * @example
   * tape.timestepBlocks(0);
   */
  timestepBlocks(index: number): Block[] {
    if (!Number.isInteger(index) || index < 0) {
      throw new InvalidArgumentError(
        "Tape.timestepBlocks",
        `index must be a non-negative integer, got ${describeArgument(index)}`,
      );
    }
    const blocks = this.blocks;
    const start = this.timestepStarts[index];
    if (start === undefined) return [];
    const end = this.timestepStarts[index + 1] ?? blocks.length;
    return blocks.slice(start, end);
  }

  /**
   * A new tape with only the blocks that lie between `controls` and `outputs` (those that depend on a
   * control and that an output depends on). The original tape is left as it is.
   *
   * @example
   * const small = tape.optimize({ controls: [new Control(x)], outputs: [J] });
   */
  optimize(options: {
    controls: readonly { blockVariable: BlockVariable }[];
    outputs: readonly { blockVariable: BlockVariable }[];
  }): Tape {
    const operation = "Tape.optimize";
    const checked = checkOptions(operation, options, ["controls", "outputs"]);
    for (const key of ["controls", "outputs"] as const) {
      const list: unknown = checked[key];
      if (!Array.isArray(list) || list.some((entry) => !hasBlockVariable(entry))) {
        throw new InvalidArgumentError(
          operation,
          `${key} must be an array of ${key === "controls" ? "Controls" : "recorded values"}, got ${Array.isArray(list) ? "an array with another entry" : typeof list}`,
        );
      }
    }
    const kept = blocksBetween(
      this.blocks,
      options.controls.map((c) => c.blockVariable),
      options.outputs.map((o) => o.blockVariable),
    );
    return new Tape(kept);
  }
}

let markEpoch = 0;

/** @internal the marker value of the latest walk (a cached walk is valid while this has not changed) */
export function currentMarkEpoch(): number {
  return markEpoch;
}

/** @internal a fresh marker value for one graph walk */
export function nextMarkEpoch(): number {
  markEpoch++;
  return markEpoch;
}

/**
 * @internal The blocks between `controls` and `outputs`, in tape order: a forward walk marks values that
 * depend on a control, a backward walk keeps the marked blocks that an output depends on.
 * Returns the blocks, the forward epoch (a dependency needs derivatives iff its forwardMark equals it),
 * the controls that no block used, and for each scalar segment on the path the flags of its operations
 * (those on the path are kept).
 */
export function walkBetween(
  blocks: readonly Block[],
  controls: readonly BlockVariable[],
  outputs: readonly BlockVariable[],
): {
  blocks: Block[];
  forwardEpoch: number;
  unusedControls: BlockVariable[];
  segmentFlags: Map<Block, Uint8Array> | undefined;
} {
  const forwardEpoch = nextMarkEpoch();
  for (const control of controls) control.forwardMark = forwardEpoch;
  const forward: Block[] = [];
  let segmentFlags: Map<Block, Uint8Array> | undefined;
  for (const block of blocks) {
    if (block instanceof ScalarSegment) {
      const flags = block._walkForward(forwardEpoch);
      if (flags !== undefined) {
        segmentFlags ??= new Map();
        segmentFlags.set(block, flags);
        forward.push(block);
      }
      continue;
    }
    const dependencies = block.dependencies;
    let depends = false;
    for (let i = 0; i < dependencies.length; i++) {
      const dependency = dependencies[i];
      dependency.backwardMark = forwardEpoch; // "used"; the backward pass overwrites it
      if (dependency.forwardMark === forwardEpoch) depends = true;
    }
    if (depends) {
      const outs = block.outputs;
      for (let i = 0; i < outs.length; i++) outs[i].forwardMark = forwardEpoch;
      forward.push(block);
    }
  }
  const unusedControls = controls.filter((control) => control.backwardMark !== forwardEpoch);
  const backwardEpoch = nextMarkEpoch();
  for (const output of outputs) output.backwardMark = backwardEpoch;
  const kept: Block[] = [];
  for (let b = forward.length - 1; b >= 0; b--) {
    const block = forward[b];
    const flags = segmentFlags?.get(block);
    if (flags !== undefined && block instanceof ScalarSegment) {
      if (block._walkBackward(flags, backwardEpoch)) kept.push(block);
      else segmentFlags?.delete(block);
      continue;
    }
    const outs = block.outputs;
    let needed = false;
    for (let i = 0; i < outs.length; i++) {
      if (outs[i].backwardMark === backwardEpoch) {
        needed = true;
        break;
      }
    }
    if (!needed) continue;
    const dependencies = block.dependencies;
    for (let i = 0; i < dependencies.length; i++) dependencies[i].backwardMark = backwardEpoch;
    kept.push(block);
  }
  kept.reverse();
  return { blocks: kept, forwardEpoch, unusedControls, segmentFlags };
}

function blocksBetween(
  blocks: readonly Block[],
  controls: readonly BlockVariable[],
  outputs: readonly BlockVariable[],
): Block[] {
  return walkBetween(blocks, controls, outputs).blocks;
}

let workingTape = new Tape();

/**
 * The tape operations record on by default. Exists from import.
 *
 * @example
 * getWorkingTape().blocks.length;
 */
export function getWorkingTape(): Tape {
  return workingTape;
}

/**
 * Makes `tape` the working tape.
 *
 * @example
 * setWorkingTape(new Tape());
 */
export function setWorkingTape(tape: Tape): void {
  checkTapeArgument(tape, "setWorkingTape");
  workingTape = tape;
}

/**
 * Runs `fn` with `tape` as the working tape, then restores the previous one (also when `fn` throws).
 *
 * @example
 * const tape = new Tape();
 * const y = withTape(tape, () => np.exp(x));
 */
export function withTape<T>(tape: Tape, fn: () => T): T {
  checkTapeArgument(tape, "withTape");
  checkFunction(fn, "withTape", "fn");
  const previous = workingTape;
  workingTape = tape;
  try {
    return fn();
  } finally {
    workingTape = previous;
  }
}

/**
 * Records `block` on the working tape when annotation is on; returns whether it was recorded.
 *
 * @example
 * if (annotating()) { const block = new MyBlock(x); const y = block.addOutput(new AdjFloat(v)); recordBlock(block); }
 */
export function recordBlock(block: Block, options?: TapeOption): boolean {
  if (!(block instanceof Block)) {
    throw new InvalidArgumentError("recordBlock", `expected a Block, got ${describeArgument(block)}`);
  }
  const tape = checkOptions("recordBlock", options, ["tape"]).tape;
  if (tape !== undefined) checkTapeArgument(tape, "recordBlock");
  if (!annotating()) return false;
  (tape ?? workingTape).addBlock(block);
  return true;
}

/** @internal a short description of an argument for messages */
export function describeArgument(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  if (typeof value === "number") return `the number ${value}`;
  return typeof value;
}

/** Whether `value` has a defined `blockVariable` (a Control or a recorded value). */
function hasBlockVariable(value: unknown): boolean {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    "blockVariable" in value &&
    value.blockVariable !== undefined
  );
}

function checkTapeArgument(tape: unknown, operation: string): void {
  if (!(tape instanceof Tape)) {
    throw new InvalidArgumentError(operation, `expected a Tape, got ${describeArgument(tape)}`);
  }
}

function checkFunction(fn: unknown, operation: string, name: string): void {
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(operation, `${name} must be a function, got ${describeArgument(fn)}`);
  }
}

function checkString(value: unknown, operation: string, name: string): void {
  if (typeof value !== "string") {
    throw new InvalidArgumentError(operation, `${name} must be a string, got ${describeArgument(value)}`);
  }
}
