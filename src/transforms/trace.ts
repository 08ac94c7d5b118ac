/**
 * @file The private tape of one transform call: `f` runs on a tape of its own with its input leaves as
 * fresh controls (the caller's values and the working tape are never touched), values `f` captures from
 * the enclosing scope are detached into controls of their own, and the sweeps of `src/tape/sweeps.ts`
 * (the ones every driver is built on) give gradients, tangents, Hessian actions and Jacobians of it.
 */
import { TsadjointError } from "../errors.js";
import { jacobianMatrixOnPath } from "../reduced/jacobian.js";
import { withAnnotation } from "../tape/annotation.js";
import type { Block } from "../tape/block.js";
import { BlockVariable } from "../tape/block-variable.js";
import {
  adjointSweep,
  checkFiniteInputs,
  checkFiniteResults,
  findPath,
  hessianSweep,
  replay,
  type SweepPath,
  tlmSweep,
} from "../tape/sweeps.js";
import { Tape, withTape } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import "../values/ndarray-space.js";
import { NDArray } from "../values/ndarray.js";
import { OverloadedValue } from "../values/overloaded.js";
import { describeType } from "../values/space.js";
import { flattenValue, isLeaf, type Leaf, type TreeDef, treeUnflatten } from "./pytree.js";

/** One input leaf of a traced call. */
export interface InputSlot {
  /** The argument it belongs to. */
  readonly arg: number;
  /** What the caller passed. */
  readonly user: Leaf;
  /** Its private control (an index into `Trace.controls`), or -1 for a number passed as a constant. */
  readonly control: number;
}

/** A path over the private tape with the maps between its entries and the trace's controls / outputs. */
export interface TracePath {
  readonly path: SweepPath;
  /** For each control of the path, its index in `Trace.controls`. */
  readonly controls: readonly number[];
  /** For each output leaf of `f`, its index in `path.outputs`, or -1 (a constant: zero derivative). */
  readonly outputs: readonly number[];
}

/** What a second-order sweep leaves: per control the adjoint and second-order adjoint, per output leaf the tangent. */
export interface SecondOrderResult {
  readonly adj: unknown[];
  readonly hessian: unknown[];
  readonly tlm: unknown[];
}

/** @internal A fresh value holding the same immutable data as `value` (its own tape link, no copy). */
export function freshValue(value: AdjFloat | NDArray): AdjFloat | NDArray {
  return value instanceof NDArray ? new NDArray(value.data, value.shape) : new AdjFloat(value.value);
}

/**
 * @internal A derivative (or value) the private tape holds for an AdjFloat leaf: a number by the value
 * protocol. Anything else is a broken invariant, reported rather than passed on under a wrong type.
 */
export function scalarSlot(raw: unknown): number {
  if (typeof raw === "number") return raw;
  throw new TsadjointError(
    "transforms",
    `the private tape holds ${describeType(raw)} for a scalar; expected a number`,
  );
}

/** @internal The same for an NDArray leaf: an NDArray, or `undefined` for zero. */
export function arraySlot(raw: unknown): NDArray | undefined {
  if (raw === undefined || raw instanceof NDArray) return raw;
  throw new TsadjointError(
    "transforms",
    `the private tape holds ${describeType(raw)} for an array; expected an NDArray`,
  );
}

/**
 * @internal One call of `f` recorded on a private tape.
 *
 * Controls: every AdjFloat / NDArray leaf of every argument becomes a fresh value of the same data (a
 * private control); a number leaf of an active argument (one being differentiated) becomes an AdjFloat
 * control; other number leaves are passed as they are (constants). Values `f` reads that were made outside
 * it (captured from the enclosing scope) get private controls too (`captures`), so that the private sweeps
 * never touch another tape and a recorded transform block can depend on them.
 */
export class Trace {
  readonly tape = new Tape();
  readonly slots: InputSlot[] = [];
  readonly argDefs: TreeDef[] = [];
  /** For each argument, the indices of its slots. */
  readonly argSlots: number[][] = [];
  /** The private controls: input leaves first (in slot order), then captures. */
  readonly controls: BlockVariable[] = [];
  /** For each capture control (index `inputControls + k`), the outer value it stands for. */
  readonly captures: BlockVariable[] = [];
  /** Number of controls that stand for input leaves. */
  readonly inputControls: number;
  /** The controls' values at the traced point. */
  readonly traced: unknown[];
  readonly outDef: TreeDef;
  /** The leaves `f` returned (private values, or numbers). */
  readonly outLeaves: Leaf[];
  /** For each output leaf, the private variable it is (after captures are detached), or undefined for a number. */
  readonly outVariables: (BlockVariable | undefined)[];
  /** No input leaf is an AdjFloat or an NDArray. */
  readonly numberMode: boolean;
  private readonly used: boolean[];
  private readonly privateBlocks: Set<Block>;

  constructor(
    readonly operation: string,
    f: (...args: unknown[]) => unknown,
    args: readonly unknown[],
    active: (arg: number) => boolean,
  ) {
    const privateArgs: unknown[] = [];
    let numberMode = true;
    args.forEach((arg, a) => {
      const { leaves, treedef } = flattenValue(arg, operation, `argument ${a}`);
      this.argDefs.push(treedef);
      const indices: number[] = [];
      const inner = leaves.map((leaf) => {
        indices.push(this.slots.length);
        let value: Leaf = leaf;
        if (typeof leaf === "number") {
          if (active(a)) value = new AdjFloat(leaf);
        } else {
          numberMode = false;
          value = freshValue(leaf);
        }
        const control = typeof value === "number" ? -1 : this.controls.length;
        if (typeof value !== "number") this.controls.push(value.blockVariable);
        this.slots.push({ arg: a, user: leaf, control });
        return value;
      });
      this.argSlots.push(indices);
      privateArgs.push(treeUnflatten(treedef, inner));
    });
    this.numberMode = numberMode;
    this.inputControls = this.controls.length;
    const result = withAnnotation(() => withTape(this.tape, () => f(...privateArgs)));
    const { leaves: outLeaves, treedef: outDef } = flattenValue(result, operation, "the function's output");
    this.outDef = outDef;
    this.outLeaves = outLeaves;

    // detach values captured from the enclosing scope: each gets a private control of its own
    const privateVariables = new Set(this.controls);
    this.privateBlocks = new Set(this.tape.blocks);
    const captureOf = new Map<BlockVariable, BlockVariable>();
    const capture = (outer: BlockVariable): BlockVariable => {
      let inner = captureOf.get(outer);
      if (inner === undefined) {
        inner = new BlockVariable(outer.saved);
        captureOf.set(outer, inner);
        this.captures.push(outer);
        this.controls.push(inner);
      }
      return inner;
    };
    const isPrivate = (variable: BlockVariable) =>
      privateVariables.has(variable) ||
      (variable.block !== undefined && this.privateBlocks.has(variable.block));
    for (const block of this.tape.blocks) {
      const dependencies = block.dependencies.slice();
      for (let i = 0; i < dependencies.length; i++) {
        if (!isPrivate(dependencies[i])) block.replaceDependency(i, capture(dependencies[i]));
      }
    }
    this.outVariables = outLeaves.map((leaf) => {
      if (typeof leaf === "number") return undefined;
      const variable = leaf.blockVariable;
      return isPrivate(variable) ? variable : capture(variable);
    });
    const usedVariables = new Set<BlockVariable>();
    for (const block of this.tape.blocks)
      for (const dependency of block.dependencies) usedVariables.add(dependency);
    for (const variable of this.outVariables) if (variable !== undefined) usedVariables.add(variable);
    this.used = this.controls.map((control) => usedVariables.has(control));
    this.traced = this.controls.map((control) => control.saved);
  }

  /** The slots of argument `a`. */
  slotsOf(a: number): InputSlot[] {
    return this.argSlots[a].map((s) => this.slots[s]);
  }

  /**
   * A path from the used controls selected by `mask` (all when omitted) to the output leaves that depend
   * on the private tape. Walked afresh for every use (a walk's marks are only valid until the next walk).
   */
  path(mask?: readonly boolean[]): TracePath {
    const controls: number[] = [];
    this.controls.forEach((_, c) => {
      if (this.used[c] && (mask === undefined || mask[c])) controls.push(c);
    });
    const controlVariables = controls.map((c) => this.controls[c]);
    const outputVariables: BlockVariable[] = [];
    const outputs = this.outVariables.map((variable) => {
      if (variable === undefined) return -1;
      const live =
        controlVariables.includes(variable) ||
        (variable.block !== undefined && this.privateBlocks.has(variable.block));
      if (!live) return -1;
      outputVariables.push(variable);
      return outputVariables.length - 1;
    });
    return {
      path: findPath(this.tape, controlVariables, outputVariables, this.operation),
      controls,
      outputs,
    };
  }

  /** Brings the private tape to the control values `values` (one per control) by a replay, when they changed. */
  sync(values: readonly unknown[] = this.traced): void {
    let stale = false;
    this.controls.forEach((control, c) => {
      if (control.saved === values[c]) return;
      if (this.used[c]) stale = true;
      else control.saved = values[c];
    });
    if (!stale) return;
    const { path, controls } = this.path();
    replay(
      path,
      controls.map((c) => values[c]),
    );
  }

  /** The saved value of output leaf `k` now (a number leaf is itself). */
  outputValue(k: number): unknown {
    const variable = this.outVariables[k];
    return variable === undefined ? this.outLeaves[k] : variable.saved;
  }

  /**
   * Adjoint sweep seeded with `seeds` (one per output leaf, undefined for zero): the adjoint of each
   * control (undefined where none arrived or the control is not in `mask`).
   */
  adjoint(seeds: readonly unknown[], mask?: readonly boolean[], check = false): unknown[] {
    const { path, controls, outputs } = this.path(mask);
    if (check) checkFiniteInputs(path, this.operation);
    adjointSweep(path, pathSeeds(outputs, seeds, path.outputs.length));
    const results = new Array<unknown>(this.controls.length).fill(undefined);
    controls.forEach((c, i) => {
      results[c] = path.controls[i].adj;
    });
    if (check) checkFiniteResults(path, results, "adj", this.operation);
    return results;
  }

  /** Tangent-linear sweep seeded with `seeds` (one per control): the tangent of each output leaf. */
  tangent(seeds: readonly unknown[], mask?: readonly boolean[], check = false): unknown[] {
    const { path, controls, outputs } = this.path(mask);
    if (check) checkFiniteInputs(path, this.operation);
    tlmSweep(
      path,
      controls.map((c) => seeds[c]),
    );
    const results = outputs.map((o) => (o < 0 ? undefined : path.outputs[o].tlm));
    if (check) checkFiniteResults(path, results, "tlm", this.operation);
    return results;
  }

  /**
   * A tangent-linear sweep seeded with `tlmSeeds` (one per control) followed by a second-order adjoint
   * sweep seeded with `adjSeeds` and `hessianSeeds` (one per output leaf): per control the adjoint
   * J^T ybar and the second-order adjoint (d/dx J^T ybar) xdot + J^T yhat, per output leaf the tangent J xdot.
   */
  secondOrder(
    tlmSeeds: readonly unknown[],
    adjSeeds: readonly unknown[],
    hessianSeeds: readonly unknown[] | undefined,
    mask?: readonly boolean[],
    check = false,
  ): SecondOrderResult {
    const { path, controls, outputs } = this.path(mask);
    if (check) checkFiniteInputs(path, this.operation);
    tlmSweep(
      path,
      controls.map((c) => tlmSeeds[c]),
    );
    const options =
      hessianSeeds === undefined
        ? {}
        : { hessianSeeds: pathSeeds(outputs, hessianSeeds, path.outputs.length) };
    hessianSweep(path, pathSeeds(outputs, adjSeeds, path.outputs.length), options);
    const adj = new Array<unknown>(this.controls.length).fill(undefined);
    const hessian = new Array<unknown>(this.controls.length).fill(undefined);
    controls.forEach((c, i) => {
      adj[c] = path.controls[i].adj;
      hessian[c] = path.controls[i].hessian;
    });
    const tlm = outputs.map((o) => (o < 0 ? undefined : path.outputs[o].tlm));
    if (check) checkFiniteResults(path, hessian, "hessian", this.operation);
    return { adj, hessian, tlm };
  }

  /**
   * Dense Jacobian blocks `[outputLeaf][control]` (NDArray `[...outShape, ...controlShape]`), undefined
   * where the output leaf is a constant or the control is not used / not in `mask`.
   */
  jacobian(mask: readonly boolean[], check = false): (NDArray | undefined)[][] {
    const { path, controls, outputs } = this.path(mask);
    if (check) checkFiniteInputs(path, this.operation);
    const blocks = path.outputs.length === 0 ? [] : jacobianMatrixOnPath(path, { pointwise: false });
    if (check) {
      for (const row of blocks) checkFiniteResults(path, row, "tlm", this.operation);
    }
    return outputs.map((o) => {
      const row = new Array<NDArray | undefined>(this.controls.length).fill(undefined);
      if (o >= 0) {
        controls.forEach((c, i) => {
          row[c] = blocks[o][i];
        });
      }
      return row;
    });
  }
}

function pathSeeds(outputs: readonly number[], seeds: readonly unknown[], count: number): unknown[] {
  const result = new Array<unknown>(count).fill(undefined);
  outputs.forEach((o, k) => {
    if (o >= 0 && seeds[k] !== undefined) result[o] = seeds[k];
  });
  return result;
}

/** @internal Whether a value is an overloaded leaf (AdjFloat or NDArray). */
export function isOverloadedLeaf(value: unknown): value is AdjFloat | NDArray {
  return isLeaf(value) && value instanceof OverloadedValue;
}
