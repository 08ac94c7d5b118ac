/**
 * @file The sweeps every driver is built on: the walk that finds the blocks between controls and outputs,
 * replay, the tangent-linear sweep, the adjoint sweep and the second-order (Hessian) sweep.
 */

import {
  ControlNotOnTapeError,
  InvalidArgumentError,
  NonFiniteValueError,
  ShapeMismatchError,
  ValueNotOnTapeError,
} from "../errors.js";
import { NDArray, shapesEqual } from "../values/ndarray.js";
import { ndarraySpace } from "../values/ndarray-space.js";
import { isTransientAdjoint, SweepBuffers } from "../values/pool.js";
import { Accumulator, addRaw, describeShape, describeType, isFiniteRaw, spaceOf } from "../values/space.js";
import { stopAnnotating } from "./annotation.js";
import type { Block } from "./block.js";
import type { BlockVariable } from "./block-variable.js";
import { hasFusedSecondOrder, hasScalarSweeps, hasTangentFreeSecondOrder } from "./capabilities.js";
import type { Checkpointer, KeptValues, LoopOps } from "./checkpointing.js";
import { ScalarSegment } from "./scalar-segment.js";
import { inSecondOrderSweep, inTangentSweep } from "./sweep-clock.js";
import { type Tape, walkBetween } from "./tape.js";

/** @internal the blocks between some controls and some outputs, found by one walk */
export interface SweepPath {
  readonly blocks: Block[];
  readonly forwardEpoch: number;
  readonly controls: readonly BlockVariable[];
  readonly outputs: readonly BlockVariable[];
  /** Blocks on the path that produce a control (a control on an intermediate value): never overwritten. */
  readonly controlWriters: ReadonlySet<Block> | undefined;
  /** The checkpointer of the path's tape (sweeps over a checkpointed loop go through it). */
  readonly checkpoint?: Checkpointer;
  /** Every variable whose slots a sweep resets (built on first use: a cached path keeps it). */
  slotVariables?: BlockVariable[];
  /** The flags of the operations of each scalar segment on the path (from the walk). */
  readonly segmentFlags?: Map<Block, Uint8Array>;
  /**
   * Set by the last adjointSweep: whether it reused the adjoint buffers of intermediate values (their
   * slots were cleared; only the controls' and the outputs' adjoints are left), and its seeds (to redo it
   * without reuse when a caller needs the intermediate adjoints).
   */
  adjointsRecycled?: boolean;
  adjointSeeds?: readonly unknown[];
  /** Per block of the path, whether a Hessian sweep reads its outputs' tangents (built on first use). */
  secondOrderTangents?: Uint8Array;
  /**
   * The buffer ledger of the last tlmSweep with `forSecondOrder` (its tangents' buffers), handed to the
   * hessianSweep that follows it (which takes it, so a later sweep never sees it).
   */
  secondOrderOwner?: SweepOwner;
  /**
   * Set by the last Hessian action (tlmSweep with `forSecondOrder`, then hessianSweep): whether it reused
   * the buffers of intermediate values' tangents, adjoints and second-order adjoints (their slots were
   * cleared), and its seeds (to redo it without reuse when a caller needs the intermediate slots).
   */
  secondOrderRecycled?: boolean;
  secondOrderSeeds?: {
    readonly tangents: readonly unknown[];
    readonly seeds: readonly unknown[];
    readonly hessianSeeds?: readonly unknown[];
    readonly controlAdjoints?: boolean;
  };
}

/** The operation flags of `block` when it is a scalar segment on the path. */
function segmentOf(block: Block, path: SweepPath): ScalarSegment | undefined {
  return block instanceof ScalarSegment && path.segmentFlags?.has(block) === true ? block : undefined;
}

function flagsOf(segment: ScalarSegment, path: SweepPath): Uint8Array {
  const flags = path.segmentFlags?.get(segment);
  if (flags === undefined)
    throw new InvalidArgumentError("sweep", "a scalar segment without flags (internal error)");
  return flags;
}

/** The checkpointer when the path's tape has a checkpointed loop with at least one step. */
function checkpointOf(path: SweepPath): Checkpointer | undefined {
  const manager = path.checkpoint;
  return manager?.active ? manager : undefined;
}

function keepOf(path: SweepPath): KeptValues {
  return { controls: path.controls, outputs: path.outputs };
}

/**
 * @internal Walks the tape once and checks that the controls and outputs belong to it.
 * Throws ControlNotOnTapeError / ValueNotOnTapeError with the operation's name.
 */
export function findPath(
  tape: Tape,
  controls: readonly BlockVariable[],
  outputs: readonly BlockVariable[],
  operation: string,
): SweepPath {
  // a control on a value that a scalar segment holds is overwritten by no block: the segment's
  // operations become blocks first, so the path can leave the control's producer out
  if (controls.some((control) => control.block instanceof ScalarSegment)) tape.explodeSegments();
  const { blocks, forwardEpoch, unusedControls, segmentFlags } = walkBetween(tape.records, controls, outputs);
  controls.forEach((control, index) => {
    if (unusedControls.includes(control) && !outputs.includes(control)) {
      throw new ControlNotOnTapeError(
        operation,
        `control ${index} was not used by any block on this tape; create the control from a value the recorded ` +
          "computation used (and record it on the same tape, with annotation on)",
      );
    }
  });
  outputs.forEach((output, index) => {
    // a forward-marked output was produced by a block of this walk, so it is on the tape
    if (output.forwardMark === forwardEpoch || controls.includes(output)) return;
    if (output.block === undefined || !tape.records.includes(output.block)) {
      throw new ValueNotOnTapeError(
        operation,
        `output ${index} was not computed on this tape (it is ${output.block === undefined ? "an independent value" : "recorded on another tape"}); ` +
          "compute it from the controls with annotation on, on the tape you differentiate",
      );
    }
  });
  let controlWriters: Set<Block> | undefined;
  const controlSet = new Set(controls);
  for (const block of blocks) {
    for (const output of block.outputs) {
      if (controlSet.has(output)) {
        controlWriters ??= new Set();
        controlWriters.add(block);
      }
    }
  }
  const path = {
    blocks,
    forwardEpoch,
    controls,
    outputs,
    controlWriters,
    checkpoint: tape.checkpointManager,
    segmentFlags,
  };
  const manager = checkpointOf(path);
  if (manager !== undefined) {
    // a checkpointed loop keeps the values of every driver's controls and outputs from now on; an output
    // computed inside the loop and dropped before anyone asked for it is recomputed by one forward
    manager.remember(keepOf(path));
    if (outputs.some((output) => output.saved === undefined)) {
      manager.forward(operation, loopOps(path, "adjoint"), manager.partition(blocks), false, keepOf(path));
    }
  }
  return path;
}

/** A block context whose arrays are refilled for each block (see ContextPool). */
interface PooledContext {
  inputs: unknown[];
  outputs: unknown[];
  adjInputs: unknown[];
  hessianInputs: unknown[];
  tlmInputs: unknown[];
  needed: boolean[];
  adjNeeded: boolean[];
}

function newContext(dependencyCount: number, outputCount: number): PooledContext {
  return {
    inputs: new Array<unknown>(dependencyCount).fill(undefined),
    outputs: new Array<unknown>(outputCount).fill(undefined),
    adjInputs: new Array<unknown>(outputCount).fill(undefined),
    hessianInputs: new Array<unknown>(outputCount).fill(undefined),
    tlmInputs: new Array<unknown>(dependencyCount).fill(undefined),
    needed: new Array<boolean>(dependencyCount).fill(false),
    adjNeeded: new Array<boolean>(dependencyCount).fill(false),
  };
}

/**
 * Context objects reused from block to block within ONE sweep, one per block shape (dependency and output
 * counts). Blocks use their context only during the call (the Block contract); a sweep that a block runs
 * inside its own mode (pointMap's nested tape) has its own pool, so nesting is safe.
 */
class ContextPool {
  private readonly contexts: (PooledContext | undefined)[] = [];
  /**
   * The sweep's accumulators of first- and second-order adjoints: a sum they created for a slot is
   * added to in place afterwards (never a block's result, a seed or a saved value). A slot stops
   * receiving sums once its producer block has run (reverse order), so an owned sum that a block passes
   * on is never changed again.
   */
  readonly adj = new Accumulator();
  readonly hessian = new Accumulator();

  /** A context for a block with these counts; every array entry the sweep passes is overwritten before use. */
  for(dependencyCount: number, outputCount: number): PooledContext {
    if (dependencyCount > 4 || outputCount > 2) return newContext(dependencyCount, outputCount);
    const key = dependencyCount * 3 + outputCount;
    let context = this.contexts[key];
    if (context === undefined) {
      context = newContext(dependencyCount, outputCount);
      this.contexts[key] = context;
    }
    return context;
  }
}

function fillInputs(d: readonly BlockVariable[], context: PooledContext): void {
  for (let i = 0; i < d.length; i++) context.inputs[i] = d[i].saved;
}

function fillOutputs(o: readonly BlockVariable[], context: PooledContext): void {
  for (let i = 0; i < o.length; i++) context.outputs[i] = o[i].saved;
}

/** Fills the tangents of the dependencies that depend on a control; returns whether any is nonzero. */
function fillTangents(d: readonly BlockVariable[], context: PooledContext, epoch: number): boolean {
  let any = false;
  for (let i = 0; i < d.length; i++) {
    const value = d[i].forwardMark === epoch ? d[i].tlm : undefined;
    context.tlmInputs[i] = value;
    if (value !== undefined) any = true;
  }
  return any;
}

function fillNeeded(d: readonly BlockVariable[], context: PooledContext, epoch: number): void {
  for (let i = 0; i < d.length; i++) context.needed[i] = d[i].forwardMark === epoch;
}

/**
 * Which dependencies' adjoints a second-order call computes: the needed ones but the `skipped` (controls);
 * returns whether any is.
 */
function fillAdjNeeded(
  d: readonly BlockVariable[],
  context: PooledContext,
  skipped: ReadonlySet<BlockVariable> | undefined,
): boolean {
  const needed = context.needed;
  let any = false;
  for (let i = 0; i < d.length; i++) {
    const wanted = needed[i] && skipped?.has(d[i]) !== true;
    context.adjNeeded[i] = wanted;
    if (wanted) any = true;
  }
  return any;
}

/** Fills the first- and second-order adjoint seeds of the outputs; returns [any adjoint, any second-order]. */
function fillSeeds(
  o: readonly BlockVariable[],
  context: PooledContext,
  secondOrder: boolean,
): [boolean, boolean] {
  let anyAdj = false;
  let anyHessian = false;
  for (let i = 0; i < o.length; i++) {
    const adj = o[i].adj;
    context.adjInputs[i] = adj;
    if (adj !== undefined) anyAdj = true;
    if (secondOrder) {
      const hessian = o[i].hessian;
      context.hessianInputs[i] = hessian;
      if (hessian !== undefined) anyHessian = true;
    }
  }
  return [anyAdj, anyHessian];
}

/**
 * @internal checks a raw value against the value it stands for (a control's, an output's): type and shape.
 * The message says what was expected and what was received.
 */
export function checkSameShape(current: unknown, value: unknown, index: number, operation: string): void {
  if (typeof current === "number" && typeof value === "number") return;
  const space = spaceOf(current, operation);
  const valueSpace = spaceOf(value, operation);
  const shapeA = space.shape(current);
  const shapeB = valueSpace.shape(value);
  const sameShape = shapeA.length === shapeB.length && shapeA.every((n, i) => n === shapeB[i]);
  if (space === valueSpace && sameShape) return;
  const message = `value ${index}: expected ${describeKind(current)}, got ${describeKind(value)}; give a value of the same type and shape`;
  if (sameShape) throw new InvalidArgumentError(operation, message);
  throw new ShapeMismatchError(operation, [shapeA, shapeB], message);
}

function describeKind(raw: unknown): string {
  return typeof raw === "number"
    ? "a number (AdjFloat)"
    : `${describeType(raw)} of shape ${describeShape(raw)}`;
}

/** @internal sets the controls to `values` and recomputes the path's blocks, recording nothing */
export function replay(path: SweepPath, values: readonly unknown[]): void {
  const controls = path.controls;
  for (let i = 0; i < controls.length; i++) controls[i].saved = values[i];
  const pool = new ContextPool();
  const manager = checkpointOf(path);
  if (manager !== undefined) {
    const partition = manager.partition(path.blocks);
    stopAnnotating(() => {
      recomputeBlocks(partition.prefix, path, pool);
      manager.forward(
        "replay of a checkpointed tape",
        loopOps(path, "adjoint"),
        partition,
        false,
        keepOf(path),
      );
      recomputeBlocks(partition.suffix, path, pool);
    });
    return;
  }
  stopAnnotating(() => recomputeBlocks(path.blocks, path, pool));
}

/**
 * Recomputes `blocks` in order from their inputs' values, never overwriting a control. With `anyBlock`
 * the blocks need not be on the path (a checkpointed step recomputes all its blocks).
 */
function recomputeBlocks(
  blocks: readonly Block[],
  path: SweepPath,
  pool: ContextPool,
  anyBlock = false,
): void {
  const controls = path.controls;
  const writers = path.controlWriters;
  for (const block of blocks) {
    const segment = segmentOf(block, path);
    if (segment !== undefined) {
      segment._sweepRecompute(flagsOf(segment, path));
      continue;
    }
    const check = anyBlock || writers?.has(block) === true;
    if (!check) {
      if (hasScalarSweeps(block) && block._recomputeScalar()) continue;
    }
    const deps = block.dependencies;
    const outs = block.outputs;
    const context = pool.for(deps.length, outs.length);
    fillInputs(deps, context);
    const results = block.recompute(context);
    for (let i = 0; i < outs.length; i++) {
      if (check && controls.includes(outs[i])) continue;
      outs[i].saved = results[i];
    }
  }
}

/** The per-step operations a checkpointed sweep hands the manager. */
function loopOps(path: SweepPath, reverse: "adjoint" | "hessian"): LoopOps {
  const pool = new ContextPool();
  return {
    recompute: (blocks) => stopAnnotating(() => recomputeBlocks(blocks, path, pool, true)),
    tlm: (blocks) => tlmBlocks(blocks, path, pool),
    reverse:
      reverse === "adjoint"
        ? (blocks) => adjointBlocks(blocks, path, pool)
        : (blocks) => hessianBlocks(blocks, path, pool, false),
  };
}

/**
 * Clears the chosen slots of every value a sweep over the path reads or writes: the controls, the path's
 * outputs and the outputs of its blocks. That covers every dependency a sweep touches: a dependency that
 * depends on a control is a control or the output of a block on the path (its producer depends on a
 * control and feeds the path), and the slots of the other dependencies are never read (sweeps mask them).
 */
function resetSlots(path: SweepPath, adj: boolean, tlm: boolean, hessian: boolean): void {
  const variables = slotVariablesOf(path);
  const n = variables.length;
  if (adj) for (let i = 0; i < n; i++) variables[i].adj = undefined;
  if (tlm) for (let i = 0; i < n; i++) variables[i].tlm = undefined;
  if (hessian) for (let i = 0; i < n; i++) variables[i].hessian = undefined;
}

/** The controls, the path's outputs and the outputs of its blocks (see resetSlots), listed once a path. */
function slotVariablesOf(path: SweepPath): BlockVariable[] {
  if (path.slotVariables !== undefined) return path.slotVariables;
  const variables = [...path.controls, ...path.outputs];
  for (const block of path.blocks) {
    const segment = segmentOf(block, path);
    if (segment !== undefined) {
      for (const variable of segment._keptOutputs(flagsOf(segment, path))) variables.push(variable);
      continue;
    }
    if (hasScalarSweeps(block)) {
      variables.push(block._soleOutput());
      continue;
    }
    const outs = block.outputs;
    for (let i = 0; i < outs.length; i++) variables.push(outs[i]);
  }
  path.slotVariables = variables;
  return variables;
}

/**
 * @internal forward sweep: tangent-linear values of every value on the path, seeded at the controls. With
 * `forSecondOrder` (a Hessian sweep follows and the outputs' tangents are not read), only the tangents the
 * Hessian sweep reads: a block runs when a block after it that is not TangentFreeSecondOrder, or one that
 * runs, reads its outputs (e.g. J = sum(f^2): neither f^2's tangent nor J's). Such a sweep (not over a
 * checkpointed loop, no control on an intermediate value) also computes the tangents into pooled buffers
 * (values/pool.ts) and hands its ledger to the next hessianSweep, which frees them once read; `recycle:
 * false` turns that off.
 */
export function tlmSweep(
  path: SweepPath,
  seeds: readonly unknown[],
  options: { forSecondOrder?: boolean; recycle?: boolean } = {},
): void {
  resetSlots(path, false, true, false);
  path.secondOrderOwner = undefined;
  const controls = path.controls;
  for (let i = 0; i < controls.length; i++) controls[i].tlm = addRaw(controls[i].tlm, seeds[i]);
  const pool = new ContextPool();
  const manager = checkpointOf(path);
  if (manager !== undefined) {
    const partition = manager.partition(path.blocks);
    // every block of a checkpointed tape runs; nothing is kept for the second-order sweep
    inTangentSweep(false, () => {
      tlmBlocks(partition.prefix, path, pool);
      manager.forward(
        "tangent-linear sweep of a checkpointed tape",
        loopOps(path, "hessian"),
        partition,
        true,
        keepOf(path),
      );
      tlmBlocks(partition.suffix, path, pool);
    });
    return;
  }
  const forSecondOrder = options.forSecondOrder === true;
  const runs = forSecondOrder && path.controlWriters === undefined ? secondOrderTangentsOf(path) : undefined;
  // the tangents of a Hessian action go to pooled buffers, freed by the Hessian sweep once read
  const owner = runs !== undefined && options.recycle !== false ? new SweepOwner(path) : undefined;
  inTangentSweep(forSecondOrder, () => tlmBlocks(path.blocks, path, pool, runs, owner));
  if (owner !== undefined) {
    path.secondOrderOwner = owner;
    path.secondOrderSeeds = { tangents: seeds, seeds: [] };
  }
}

/**
 * Which blocks of the path a Hessian sweep needs the tangents of (see tlmSweep's `forSecondOrder`), by a
 * reverse walk: a scalar segment runs with every block before it (its inputs are not listed here).
 */
function secondOrderTangentsOf(path: SweepPath): Uint8Array {
  if (path.secondOrderTangents !== undefined) return path.secondOrderTangents;
  const blocks = path.blocks;
  const runs = new Uint8Array(blocks.length);
  const read = new Set<BlockVariable>();
  for (let b = blocks.length - 1; b >= 0; b--) {
    const block = blocks[b];
    if (segmentOf(block, path) !== undefined) {
      runs.fill(1, 0, b + 1);
      break;
    }
    const run = block.outputs.some((output) => read.has(output));
    if (run) runs[b] = 1;
    if (run || !hasTangentFreeSecondOrder(block)) for (const d of block.dependencies) read.add(d);
  }
  path.secondOrderTangents = runs;
  return runs;
}

function tlmBlocks(
  blocks: readonly Block[],
  path: SweepPath,
  pool: ContextPool,
  runs?: Uint8Array,
  owner?: SweepOwner,
): void {
  const controls = path.controls;
  const epoch = path.forwardEpoch;
  const writers = path.controlWriters;
  for (let b = 0; b < blocks.length; b++) {
    if (runs !== undefined && runs[b] === 0) continue;
    const block = blocks[b];
    const segment = segmentOf(block, path);
    if (segment !== undefined) {
      segment._sweepTlm(flagsOf(segment, path), epoch);
      continue;
    }
    if (writers === undefined || !writers.has(block)) {
      if (hasScalarSweeps(block) && block._tlmScalar(epoch)) continue;
    }
    const deps = block.dependencies;
    const outs = block.outputs;
    const context = pool.for(deps.length, outs.length);
    if (!fillTangents(deps, context, epoch)) continue;
    fillInputs(deps, context);
    fillOutputs(outs, context);
    if (owner !== undefined) {
      owner.tangent(block, context);
      continue;
    }
    const results = block.evaluateTlm(context);
    for (let i = 0; i < outs.length; i++) {
      if (writers?.has(block) && controls.includes(outs[i])) continue;
      outs[i].tlm = results[i];
    }
  }
}

function seedAdjoint(path: SweepPath, seeds: readonly unknown[], reset: boolean): void {
  if (reset) resetSlots(path, true, false, false);
  const outputs = path.outputs;
  for (let i = 0; i < outputs.length; i++) outputs[i].adj = addRaw(outputs[i].adj, seeds[i]);
}

function accumulate(
  dependencies: readonly BlockVariable[],
  results: readonly unknown[],
  needed: readonly boolean[],
  slot: "adj" | "hessian",
  accumulator: Accumulator,
): void {
  for (let i = 0; i < dependencies.length; i++) {
    if (!needed[i]) continue;
    const value = results[i];
    if (value === undefined) continue;
    const dependency = dependencies[i];
    const current = dependency[slot];
    if (current === undefined) dependency[slot] = value;
    else if (typeof current === "number" && typeof value === "number") dependency[slot] = current + value;
    else dependency[slot] = accumulator.add(dependency, current, value);
  }
}

/**
 * @internal reverse sweep: adjoint values of every value on the path, seeded at the outputs. With `recycle`
 * (the default; not over a checkpointed loop) the adjoint buffers of intermediate values are reused once
 * dead (see values/pool.ts): afterwards only the controls' and the outputs' slots hold adjoints, and
 * `path.adjointsRecycled` says so.
 */
export function adjointSweep(path: SweepPath, seeds: readonly unknown[], recycle = true): void {
  seedAdjoint(path, seeds, true);
  path.adjointSeeds = seeds;
  path.adjointsRecycled = false;
  const pool = new ContextPool();
  const manager = checkpointOf(path);
  if (manager !== undefined) {
    const partition = manager.partition(path.blocks);
    const operation = "adjoint of a checkpointed tape";
    const ops = loopOps(path, "adjoint");
    // the blocks after the loop read the last step's values: make them ready first
    manager.prepareReverse(operation, ops, partition, false, keepOf(path));
    adjointBlocks(partition.suffix, path, pool);
    manager.reverse(operation, ops, partition, false, keepOf(path));
    adjointBlocks(partition.prefix, path, pool);
    return;
  }
  const owner = recycle ? new SweepOwner(path) : undefined;
  adjointBlocks(path.blocks, path, pool, owner);
  if (owner?.cleared === true) path.adjointsRecycled = true;
}

function adjointBlocks(
  blocks: readonly Block[],
  path: SweepPath,
  pool: ContextPool,
  owner?: SweepOwner,
): void {
  const epoch = path.forwardEpoch;
  for (let b = blocks.length - 1; b >= 0; b--) {
    const block = blocks[b];
    const segment = segmentOf(block, path);
    if (segment !== undefined) {
      segment._sweepAdjoint(flagsOf(segment, path), epoch);
      continue;
    }
    if (hasScalarSweeps(block) && block._adjointScalar(epoch)) continue;
    const deps = block.dependencies;
    const outs = block.outputs;
    const context = pool.for(deps.length, outs.length);
    if (!fillSeeds(outs, context, false)[0]) continue;
    fillInputs(deps, context);
    fillOutputs(outs, context);
    fillNeeded(deps, context, epoch);
    if (owner === undefined) accumulate(deps, block.evaluateAdj(context), context.needed, "adj", pool.adj);
    else owner.run(block, context, pool.adj);
  }
}

/**
 * A sweep's ownership of its array slots (values/pool.ts's ledger plus the slots): which blocks may
 * compute into pooled buffers, which slots keep their values (controls and outputs), in-place sums into
 * buffers no one else sees, and the buffers freed once their slots are consumed. The adjoint sweep has
 * one; a Hessian action has one for its tangent sweep and the Hessian sweep that follows it (the tangents
 * are freed there, once read).
 *
 * Lifetimes in the Hessian sweep (reverse order): a block reads its outputs' adjoints and second-order
 * adjoints and its dependencies' tangents, so once a block has run, nothing later reads its outputs'
 * slots: every reader of an output's tangent (a block depending on it) comes after the output's producer
 * on the tape, so it has already run.
 */
class SweepOwner {
  private readonly ledger = new SweepBuffers();
  private readonly kept: ReadonlySet<BlockVariable>;
  /** Whether a consumed slot of an intermediate value was cleared. */
  cleared = false;

  constructor(path: SweepPath) {
    this.kept = new Set([...path.controls, ...path.outputs]);
  }

  /** Runs one mode of `block` with pooled buffers when it is transient (else with none, as any caller). */
  private call<T>(transient: boolean, mode: () => T): T {
    const ledger = this.ledger;
    const previous = transient ? ledger.enter() : SweepBuffers.suspend();
    try {
      return mode();
    } finally {
      ledger.leave(previous);
    }
  }

  /** Marks the first `count` of `values` escaped (seeds handed to a block that may keep them). */
  private escape(values: readonly unknown[], count: number): void {
    for (let i = 0; i < count; i++) this.ledger.escape(values[i]);
  }

  /** One block's adjoint, accumulated; then its outputs' slots are consumed (no later block reads them). */
  run(block: Block, context: PooledContext, accumulator: Accumulator): void {
    const ledger = this.ledger;
    const outs = block.outputs;
    const transient = isTransientAdjoint(block);
    if (!transient) this.escape(context.adjInputs, outs.length);
    const results = this.call(transient, () => block.evaluateAdj(context));
    if (ledger.idle(context.adjInputs, outs.length)) {
      // small arrays and numbers only: the slots of this block hold nothing the ledger counts
      accumulate(block.dependencies, results, context.needed, "adj", accumulator);
      return;
    }
    this.accumulate(block.dependencies, results, context.needed, "adj", accumulator);
    this.consume(outs, false);
  }

  /** One block's tangents (a Hessian action's tangent sweep): its outputs' slots hold them. */
  tangent(block: Block, context: PooledContext): void {
    const ledger = this.ledger;
    const deps = block.dependencies;
    const outs = block.outputs;
    const transient = isTransientAdjoint(block);
    if (!transient) this.escape(context.tlmInputs, deps.length);
    const results = this.call(transient, () => block.evaluateTlm(context));
    for (let i = 0; i < outs.length; i++) {
      const value = results[i];
      ledger.claim(value);
      outs[i].tlm = value;
      ledger.hold(value, this.kept.has(outs[i]));
    }
    ledger.settle();
  }

  /**
   * One block's first- and second-order adjoints (the Hessian sweep's step after a Hessian action's
   * tangent sweep, as hessianBlocks runs it without reuse), accumulated; then its outputs' slots are consumed.
   */
  secondOrder(
    block: Block,
    context: PooledContext,
    anyAdj: boolean,
    skipped: ReadonlySet<BlockVariable> | undefined,
    pool: ContextPool,
  ): void {
    const deps = block.dependencies;
    const outs = block.outputs;
    const transient = isTransientAdjoint(block);
    if (!transient) {
      this.escape(context.adjInputs, outs.length);
      this.escape(context.hessianInputs, outs.length);
      this.escape(context.tlmInputs, deps.length);
    }
    if (hasFusedSecondOrder(block)) {
      fillAdjNeeded(deps, context, skipped);
      const [adjoints, hessians] = this.call(transient, () => block.evaluateAdjAndHessian(context));
      if (anyAdj) this.accumulate(deps, adjoints, context.adjNeeded, "adj", pool.adj);
      this.accumulate(deps, hessians, context.needed, "hessian", pool.hessian);
    } else {
      // no adjoint call when every dependency that needs one is a skipped control
      if (anyAdj && fillAdjNeeded(deps, context, skipped)) {
        const adjoints = this.call(transient, () => block.evaluateAdj(context));
        this.accumulate(deps, adjoints, context.adjNeeded, "adj", pool.adj);
      }
      const hessians = this.call(transient, () => block.evaluateHessian(context));
      this.accumulate(deps, hessians, context.needed, "hessian", pool.hessian);
    }
    this.consume(outs, true);
  }

  /**
   * After a block: lets go of its outputs' adjoint slots (and, `secondOrder`, their second-order adjoint
   * and tangent slots) but the kept ones, clears the slots the ledger tracked, and frees what became dead.
   */
  consume(outs: readonly BlockVariable[], secondOrder: boolean): void {
    const ledger = this.ledger;
    for (let i = 0; i < outs.length; i++) {
      const output = outs[i];
      if (this.kept.has(output)) continue;
      if (ledger.drop(output.adj)) {
        output.adj = undefined;
        this.cleared = true;
      }
      if (!secondOrder) continue;
      if (ledger.drop(output.hessian)) {
        output.hessian = undefined;
        this.cleared = true;
      }
      if (ledger.drop(output.tlm)) {
        output.tlm = undefined;
        this.cleared = true;
      }
    }
    ledger.settle();
  }

  /**
   * {@link accumulate} for one kind of slot, with the ledger told of every value entering or leaving a
   * slot (`accumulator`: the sweep's, for values the ledger does not handle).
   */
  private accumulate(
    dependencies: readonly BlockVariable[],
    results: readonly unknown[],
    needed: readonly boolean[],
    slot: "adj" | "hessian",
    accumulator: Accumulator,
  ): void {
    const ledger = this.ledger;
    for (let i = 0; i < dependencies.length; i++) {
      if (!needed[i]) continue;
      const value = results[i];
      if (value === undefined) continue;
      const dependency = dependencies[i];
      ledger.claim(value);
      const current = dependency[slot];
      if (current === undefined) {
        dependency[slot] = value;
        ledger.hold(value, this.kept.has(dependency));
      } else if (typeof current === "number" && typeof value === "number") {
        dependency[slot] = current + value;
      } else if (current instanceof NDArray && value instanceof NDArray) {
        if (
          current === value &&
          ledger.owns(current) &&
          !(i + 1 < dependencies.length && dependencies[i + 1] === dependency && results[i + 1] === value)
        ) {
          // x * x's one result for both operands, which the slot took as it came: doubled in place
          // (x + x entry by entry, as the sum of the two would be)
          doubleInPlace(current);
        } else if (ledger.owns(current) && current.data.buffer !== value.data.buffer) {
          // the same value for the next dependencies too (x * x): summed in one pass, in the same order
          let times = 1;
          while (
            i + times < dependencies.length &&
            dependencies[i + times] === dependency &&
            results[i + times] === value &&
            needed[i + times]
          )
            times++;
          addRepeated(current, value, times);
          i += times - 1;
        } else {
          const previous = ledger.enter();
          let sum: NDArray;
          try {
            sum = ndarraySpace.add(current, value);
          } finally {
            ledger.leave(previous);
          }
          ledger.claim(sum);
          ledger.hold(sum, this.kept.has(dependency));
          dependency[slot] = sum;
          ledger.drop(current);
        }
        ledger.consider(value);
      } else {
        dependency[slot] = accumulator.add(dependency, current, value);
      }
    }
  }
}

/** target = target + target, entry by entry. */
function doubleInPlace(target: NDArray): void {
  const x = target.data;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + v;
  }
}

/** target += value, `times` times over, entry by entry in that order (as `times` in-place sums would add). */
function addRepeated(target: NDArray, value: NDArray, times: number): void {
  const x = target.data;
  const y = value.data;
  if (times !== 2 || x.length !== y.length || !shapesEqual(target.shape, value.shape)) {
    // addTo checks the shapes
    for (let t = 0; t < times; t++) ndarraySpace.addTo?.(target, value);
    return;
  }
  // two entries a step, loads ahead of stores (V8 reloads a typed array's data pointer after a store)
  const n = x.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const v0 = y[i];
    const v1 = y[i + 1];
    const x0 = x[i];
    const x1 = x[i + 1];
    x[i] = x0 + v0 + v0;
    x[i + 1] = x1 + v1 + v1;
  }
  if (i < n) x[i] = x[i] + y[i] + y[i];
}

/**
 * @internal reverse sweep computing first- and second-order adjoints together; needs a tlmSweep first.
 * Seeds: first-order adjoints of the outputs and, optionally, second-order adjoints of the outputs (a
 * nested tape receives them from its outer sweep; zero otherwise). With `adjointsReady`, the first-order
 * adjoints are those an adjointSweep with the same seeds has just left in the slots, and are reused.
 * With `controlAdjoints: false` (a Hessian action, which reads only the controls' second-order adjoints)
 * the controls' first-order adjoints are not computed where a block can leave them out, and their `adj`
 * slots are left empty. Right after a tlmSweep with `forSecondOrder` (and without `adjointsReady` or
 * `recycle: false`) it reuses dead buffers: an intermediate value's tangent, adjoint and second-order adjoint
 * are freed once its producer has run (see SweepOwner), their slots cleared, and `path.secondOrderRecycled`
 * (and `adjointsRecycled`) says so; only the controls' and the outputs' slots keep their values.
 */
export function hessianSweep(
  path: SweepPath,
  seeds: readonly unknown[],
  options: {
    hessianSeeds?: readonly unknown[];
    adjointsReady?: boolean;
    controlAdjoints?: boolean;
    recycle?: boolean;
  } = {},
): void {
  // the ledger of the tangent sweep just before (a Hessian action's): taken, whether used or not
  const tangentOwner = path.secondOrderOwner;
  path.secondOrderOwner = undefined;
  path.secondOrderRecycled = false;
  const manager = checkpointOf(path);
  // a checkpointed loop recomputes its values, so adjoints left by an earlier sweep are not reused
  const adjointsReady =
    options.adjointsReady === true && manager === undefined && path.adjointsRecycled !== true;
  resetSlots(path, !adjointsReady, false, true);
  if (!adjointsReady) seedAdjoint(path, seeds, false);
  const hessianSeeds = options.hessianSeeds;
  if (hessianSeeds !== undefined) {
    const outputs = path.outputs;
    for (let i = 0; i < outputs.length; i++) outputs[i].hessian = addRaw(outputs[i].hessian, hessianSeeds[i]);
  }
  const pool = new ContextPool();
  if (manager !== undefined) {
    const partition = manager.partition(path.blocks);
    const operation = "Hessian of a checkpointed tape";
    const ops = loopOps(path, "hessian");
    // the blocks after the loop read the last step's values: make them ready first
    inSecondOrderSweep(() => {
      manager.prepareReverse(operation, ops, partition, true, keepOf(path));
      hessianBlocks(partition.suffix, path, pool, false);
      manager.reverse(operation, ops, partition, true, keepOf(path));
      hessianBlocks(partition.prefix, path, pool, false);
    });
    return;
  }
  // without the controls' first-order adjoints (a Hessian action reads only second-order ones): the fused
  // blocks are not asked for them and the sweep leaves the controls' adj slots empty
  const skipControls =
    options.controlAdjoints === false && !adjointsReady && path.controlWriters === undefined;
  const skipped = skipControls ? new Set(path.controls) : undefined;
  // reuse (values/pool.ts) only right after a Hessian action's tangent sweep, which issued the tangents
  const owner = !adjointsReady && options.recycle !== false ? tangentOwner : undefined;
  if (owner !== undefined) {
    path.adjointsRecycled = false;
    path.adjointSeeds = seeds;
    path.secondOrderSeeds = {
      tangents: path.secondOrderSeeds?.tangents ?? [],
      seeds,
      hessianSeeds,
      controlAdjoints: options.controlAdjoints,
    };
  }
  inSecondOrderSweep(() => hessianBlocks(path.blocks, path, pool, adjointsReady, skipped, owner));
  if (skipControls) for (const control of path.controls) control.adj = undefined;
  if (owner?.cleared === true) {
    path.adjointsRecycled = true;
    path.secondOrderRecycled = true;
  }
}

function hessianBlocks(
  blocks: readonly Block[],
  path: SweepPath,
  pool: ContextPool,
  adjointsReady: boolean,
  skipped?: ReadonlySet<BlockVariable>,
  owner?: SweepOwner,
): void {
  const epoch = path.forwardEpoch;
  for (let b = blocks.length - 1; b >= 0; b--) {
    const block = blocks[b];
    const segment = segmentOf(block, path);
    if (segment !== undefined) {
      segment._sweepSecondOrder(flagsOf(segment, path), epoch, adjointsReady);
      continue;
    }
    if (!adjointsReady) {
      if (hasScalarSweeps(block) && block._secondOrderScalar(epoch)) continue;
    }
    // one context serves both calls: a HessianContext is also an AdjContext
    const deps = block.dependencies;
    const outs = block.outputs;
    const context = pool.for(deps.length, outs.length);
    const [anyAdj, anyHessian] = fillSeeds(outs, context, true);
    if (!anyAdj && !anyHessian) {
      owner?.consume(outs, true);
      continue;
    }
    fillInputs(deps, context);
    fillOutputs(outs, context);
    fillTangents(deps, context, epoch);
    fillNeeded(deps, context, epoch);
    if (owner !== undefined) {
      owner.secondOrder(block, context, anyAdj, skipped, pool);
      continue;
    }
    if (adjointsReady) {
      accumulate(deps, block.evaluateHessian(context), context.needed, "hessian", pool.hessian);
      continue;
    }
    if (hasFusedSecondOrder(block)) {
      fillAdjNeeded(deps, context, skipped);
      const [adjoints, hessians] = block.evaluateAdjAndHessian(context);
      if (anyAdj) accumulate(deps, adjoints, context.adjNeeded, "adj", pool.adj);
      accumulate(deps, hessians, context.needed, "hessian", pool.hessian);
    } else {
      // no adjoint call when every dependency that needs one is a skipped control
      if (anyAdj && fillAdjNeeded(deps, context, skipped))
        accumulate(deps, block.evaluateAdj(context), context.adjNeeded, "adj", pool.adj);
      accumulate(deps, block.evaluateHessian(context), context.needed, "hessian", pool.hessian);
    }
  }
}

/** @internal throws NonFiniteValueError when a control's or an output's value is not finite */
export function checkFiniteInputs(path: SweepPath, operation: string): void {
  path.controls.forEach((control, index) => {
    if (!isFiniteRaw(control.saved)) {
      throw new NonFiniteValueError(
        operation,
        `control ${index} holds a non-finite value; a derivative needs finite values`,
      );
    }
  });
  path.outputs.forEach((output, index) => {
    if (!isFiniteRaw(output.saved)) {
      throw new NonFiniteValueError(
        operation,
        `output ${index} is not finite (${describeShape(output.saved)}); a derivative needs a finite value`,
      );
    }
  });
}

/**
 * @internal throws NonFiniteValueError naming the first block (in sweep order) whose derivative came out
 * non-finite, when a result slot holds a non-finite value
 */
export function checkFiniteResults(
  path: SweepPath,
  results: readonly unknown[],
  slot: "adj" | "tlm" | "hessian",
  operation: string,
): void {
  const bad = results.findIndex((value) => value !== undefined && !isFiniteRaw(value));
  if (bad < 0) return;
  // the search reads the adjoints of intermediate values: redo a sweep that reused their buffers without reuse
  const seeds = path.adjointSeeds;
  if (slot === "adj" && path.adjointsRecycled === true && seeds !== undefined)
    adjointSweep(path, seeds, false);
  // the same for a Hessian action that reused the buffers of its tangents and (second-order) adjoints
  const secondOrder = path.secondOrderSeeds;
  if (slot !== "adj" && path.secondOrderRecycled === true && secondOrder !== undefined) {
    tlmSweep(path, secondOrder.tangents, { forSecondOrder: true, recycle: false });
    hessianSweep(path, secondOrder.seeds, {
      hessianSeeds: secondOrder.hessianSeeds,
      controlAdjoints: secondOrder.controlAdjoints,
      recycle: false,
    });
  }
  const blocks = path.blocks;
  let culprit: Block | undefined;
  if (slot === "tlm") {
    culprit = blocks.find(
      (block) =>
        block.dependencies.every(
          (d) => d.forwardMark !== path.forwardEpoch || d.tlm === undefined || isFiniteRaw(d.tlm),
        ) && block.outputs.some((o) => o.tlm !== undefined && !isFiniteRaw(o.tlm)),
    );
  } else {
    for (let b = blocks.length - 1; b >= 0 && culprit === undefined; b--) {
      const block = blocks[b];
      const outsFinite = block.outputs.every((o) => o[slot] === undefined || isFiniteRaw(o[slot]));
      const depsBad = block.dependencies.some(
        (d) => d.forwardMark === path.forwardEpoch && d[slot] !== undefined && !isFiniteRaw(d[slot]),
      );
      if (outsFinite && depsBad) culprit = block;
    }
  }
  const inner =
    culprit instanceof ScalarSegment ? culprit._nonFiniteOperation(flagsOf(culprit, path), slot) : undefined;
  const where =
    culprit === undefined
      ? "on the path"
      : inner !== undefined
        ? `in block '${inner.name}' (inputs ${inner.inputs.map(describeValue).join(", ")})`
        : `in block '${culprit.name}' (inputs ${culprit.dependencies.map((d) => describeValue(d.saved)).join(", ")})`;
  throw new NonFiniteValueError(
    operation,
    `the derivative is not finite: it became non-finite ${where}; the operation is not differentiable there ` +
      "(e.g. sqrt or a power at 0, log at 0): move the point or change the formula",
  );
}

function describeValue(raw: unknown): string {
  return typeof raw === "number" ? String(raw) : describeShape(raw);
}
