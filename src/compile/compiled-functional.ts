/**
 * @file `compileFunctional`: tsadjoint's answer to `jax.jit`. It snapshots the tape path from the controls to
 * a ReducedFunctional's functional and turns it into a program over preallocated Float64Array buffers:
 * generated loops for elementwise blocks and sums (fused over one iteration shape, broadcasting read in
 * place), free views for reshapes and broadcasts, and the blocks' own modes for everything else. The
 * compiled functional then evaluates, differentiates and applies the Hessian with no recording and no
 * allocation per call beyond the results it returns.
 */
import { InvalidArgumentError, NonFiniteValueError } from "../errors.js";
import { checkOptions } from "../options.js";
import { checkNumberOption, perSlotValues } from "../reduced/arguments.js";
import {
  type ControlInputs,
  type ControlList,
  type Controls,
  directionList,
  type PerControl,
  perControl,
} from "../reduced/drivers.js";
import type { ReducedFunctional, ReducedFunctionalCallbacks } from "../reduced/reduced-functional.js";
import { findPath } from "../tape/sweeps.js";
import { NDArray } from "../values/ndarray.js";
import type { OverloadedValue } from "../values/overloaded.js";
import { wrapRaw } from "../values/space.js";
import { Store } from "./buffers.js";
import { chainRegisters, chainRunner, groupRunner, reverseAssignments } from "./codegen.js";
import { fallbackRunner, type StepRunner } from "./fallback.js";
import { buildProgram, type GroupStep, type Program, type Step } from "./program.js";
import { rowChains } from "./rows.js";

/** Options of `compileFunctional`. */
export interface CompileOptions {
  /**
   * Run the program through the closure interpreter (every block through its own modes) instead of
   * generated code; what happens by itself where `new Function` is refused (a strict
   * Content-Security-Policy). Default false.
   */
  interpret?: boolean;
}

/** What the compiler made of the tape path. */
export interface CompileStats {
  /** "generated": fused groups run generated loops; "interpreted": every block runs its own modes. */
  readonly mode: "generated" | "interpreted";
  /** Why the program is interpreted (the option, or the error `new Function` threw). */
  readonly reason?: string;
  /** Blocks on the path. */
  readonly blocks: number;
  /** Elementwise blocks and sums fused into generated loops. */
  readonly fused: number;
  /** Reshapes and broadcasts turned into views (no work at run time). */
  readonly views: number;
  /** Scalar segments (runs of AdjFloat operations recorded as typed arrays), each run by its own loops. */
  readonly segments: number;
  /** Other blocks, run through their own modes. */
  readonly fallback: number;
  /** Generated kernels (fused groups; each has a value, tangent, adjoint and second-order loop). */
  readonly kernels: number;
  /**
   * Generated loop nests: a row chain (groups over [...K, ...T] and K fused across a reduction into one
   * loop over the rows of K) counts once, as does each group outside a chain.
   */
  readonly loops: number;
}

const OPERATION = "compileFunctional";

function nonFiniteDerivative(operation: string): NonFiniteValueError {
  return new NonFiniteValueError(
    operation,
    "the derivative is not finite; the operation is not differentiable there " +
      "(e.g. sqrt or a power at 0, log at 0): move the point or change the formula",
  );
}

/**
 * Whether every entry is finite: 0 times a finite number is (+-)0, 0 times an infinity or NaN is NaN, and NaN
 * stays NaN; four independent products so that the loop runs at memory speed, not at the multiplier's
 * latency (a plain loop: `every` with a callback is several times slower).
 */
function allFinite(data: Float64Array): boolean {
  const n = data.length;
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    c0 *= data[i];
    c1 *= data[i + 1];
    c2 *= data[i + 2];
    c3 *= data[i + 3];
  }
  for (; i < n; i++) c0 *= data[i];
  return c0 + c1 + c2 + c3 === 0;
}

// Every statement of allFinite runs (with type feedback recorded: the engine starts recording after a few
// calls) before the engine optimizes it: its first real call, over a long array, would be optimized inside
// the loop without feedback for what follows, and that code was measured to be thrown away at the loop's
// end on every call.
for (let k = 0; k < 16; k++) allFinite(Float64Array.of(1, 2, 3, 4, k % 2 === 0 ? 5 : Number.NaN));

/**
 * A ReducedFunctional compiled to a fixed program (see {@link compileFunctional}). Same calls, argument
 * forms, result types and errors as ReducedFunctional: `evaluate(m)`, `derivative()`, `tlm(mDot)` and
 * `hessian(mDot)`, the derivatives at the values of the last `evaluate` (at compile time: the tape's).
 * The compiled functional keeps its own values: it neither reads nor writes the tape after compiling.
 *
 * @example
 * const g = np.array([[1, 2], [3, 4]]);
 * const J = np.sum(np.square(np.sin(g)));
 * const compiled = compileFunctional(new ReducedFunctional(J, new Control(g)));
 * compiled.evaluate(np.array([[0.5, 1], [1.5, 2]]));
 * const dJ = compiled.derivative(); // NDArray, a fresh array
 */
export class CompiledFunctional<const C extends Controls = Controls> {
  /** The functional this one was compiled from. */
  readonly reduced: ReducedFunctional<C>;
  /** The controls, as a list (the ReducedFunctional's). */
  readonly controls: ControlList<C>;
  /** What was fused, viewed and run as a fallback. */
  readonly stats: CompileStats;
  private readonly program: Program;
  private readonly store: Store;
  private readonly runners: StepRunner[];
  /** The runners whose tangent loop the Hessian action needs (all but those writing only J's tangent). */
  private readonly hessianTangents: StepRunner[];
  /** Per runner, the pass the Hessian action runs in reverse order: its second, or that with its tangents. */
  private readonly secondPasses: (() => void)[];
  private readonly controlsArgument: C;
  private readonly components: readonly number[] | undefined;
  private readonly callbacks: ReducedFunctionalCallbacks;
  private readonly likes: unknown[];
  private readonly scale: number;

  constructor(reduced: ReducedFunctional<C>, options: CompileOptions = {}) {
    checkOptions(OPERATION, options, ["interpret"]);
    if (options.interpret !== undefined && typeof options.interpret !== "boolean") {
      throw new InvalidArgumentError(
        OPERATION,
        `options.interpret must be a boolean, got ${typeof options.interpret}`,
      );
    }
    this.reduced = reduced;
    this.controls = reduced.controls;
    const info = reduced._compileInfo();
    this.controlsArgument = info.controls;
    this.components = info.components;
    this.callbacks = info.callbacks;
    this.scale = reduced.scale;
    const controls = reduced.controls.map((c) => c.blockVariable);
    const output = reduced.functional.blockVariable;
    const path = findPath(reduced.tape, controls, [output], OPERATION);
    if (path.checkpoint?.active === true) {
      throw new InvalidArgumentError(
        OPERATION,
        "the tape has a checkpointed loop; compile a functional recorded without checkpointing",
      );
    }
    this.likes = controls.map((c) => c.saved);
    let interpret = options.interpret === true;
    let reason = interpret ? "options.interpret" : undefined;
    let built = this.build(path.blocks, controls, output, !interpret);
    if (built === undefined) {
      interpret = true;
      reason = this.failure;
      built = this.build(path.blocks, controls, output, false);
    }
    if (built === undefined) throw new InvalidArgumentError(OPERATION, `internal: ${this.failure}`);
    let chainSteps: readonly (readonly Step[])[];
    [this.program, this.store, this.runners, chainSteps] = built;
    // a step whose outputs no later step reads runs its Hessian-action tangents inside its second-order pass
    const fused = this.runners.map(
      (runner, s) => runner.secondWithTangents !== undefined && !readLater(this.program, chainSteps, s),
    );
    this.secondPasses = this.runners.map((runner, s) => {
      const withTangents = runner.secondWithTangents;
      return fused[s] && withTangents !== undefined ? withTangents : runner.second;
    });
    this.hessianTangents = this.runners
      .filter((runner, s) => !fused[s] && (!("tangentForHessian" in runner) || runner.tangentForHessian))
      .map((runner) =>
        runner.hessianTangent === undefined ? runner : { ...runner, tangent: runner.hessianTangent },
      );
    const counts = this.program.counts;
    this.stats = {
      mode: interpret ? "interpreted" : "generated",
      ...(reason === undefined ? {} : { reason }),
      blocks: path.blocks.length,
      fused: counts.fused,
      views: counts.views,
      segments: counts.segments,
      fallback: counts.fallback,
      kernels: this.program.steps.filter((s) => s.kind === "group").length,
      loops: this.loops,
    };
  }

  private failure = "";
  /** Generated loop nests of the program built (see CompileStats.loops). */
  private loops = 0;

  /** The program, its buffers and runners; undefined when code generation failed (see `failure`). */
  private build(
    blocks: Parameters<typeof buildProgram>[0],
    controls: Parameters<typeof buildProgram>[1],
    output: Parameters<typeof buildProgram>[2],
    fuse: boolean,
  ): [Program, Store, StepRunner[], (readonly Step[])[]] | undefined {
    const program = buildProgram(blocks, controls, output, fuse, OPERATION);
    const store = new Store(program, (slot) => slot.saved);
    try {
      // buffers a reverse loop writes first, entry by entry, are assigned there instead of cleared before
      const assigned = reverseAssignments(program);
      // consecutive groups over [...K, ...T] and K run as one loop over the rows of K (rows.ts)
      const chains = rowChains(program, fuse);
      this.loops = chains.filter(({ steps, row }) => row !== undefined || steps[0].kind === "group").length;
      const runners = chains.map(({ steps, row }): StepRunner => {
        const [step] = steps;
        if (row !== undefined) {
          // adjoints kept in per-row registers: their buffers are neither written nor cleared
          store.assignedByLoops(chainRegisters(program, steps.filter(isGroup), row));
          return chainRunner(program, steps.filter(isGroup), row, store, assigned);
        }
        return step.kind === "group"
          ? groupRunner(program, step, store, assigned.get(step))
          : fallbackRunner(step, store);
      });
      for (const bases of assigned.values()) store.assignedByLoops(bases);
      if (fuse) warmUp(runners, store);
      return [program, store, runners, chains.map(({ steps }) => steps)];
    } catch (error) {
      if (!fuse) throw error;
      this.failure = `code generation failed: ${error instanceof Error ? error.message : String(error)}`;
      return undefined;
    }
  }

  /**
   * J at new control values (one per control; a single value for a single control), by running the
   * compiled program. The derivatives that follow are taken there.
   *
   * @example
   * compiled.evaluate(0.5);
   * compiled.evaluate([x0, y0]); // two controls
   */
  evaluate(values: ControlInputs<C>): number {
    const operation = `${OPERATION}(...).evaluate`;
    const raws = perSlotValues(this.likes, values, operation, "control", "value");
    this.callbacks.evalCbPre?.(raws.map((raw) => wrapRaw(raw)));
    this.controlsFinite = false;
    this.program.controls.forEach((k, i) => {
      this.setControl("value", k, raws[i]);
    });
    for (const runner of this.runners) runner.forward();
    const value = this.value();
    this.callbacks.evalCbPost?.(
      value,
      raws.map((raw) => wrapRaw(raw)),
    );
    return value;
  }

  /** The scaled value of J at the last evaluation. */
  value(): number {
    return this.functionalEntry("value") * this.scale;
  }

  private functionalEntry(channel: "value" | "tangent"): number {
    const buffer = this.store.buffer(channel, this.program.functional);
    return buffer === undefined ? 0 : buffer[0];
  }

  /**
   * The control values of the last evaluation (fresh copies), always as a list typed like the controls.
   *
   * @example
   * const [g, p] = compiled.controlValues(); // [NDArray, AdjFloat]
   */
  controlValues(): PerControl<ControlList<C>> {
    return perControl(
      this.controls,
      this.controlRaws().map((raw) => wrapRaw(raw)),
    );
  }

  /** The control values the program holds now, as raw values (fresh copies). */
  private controlRaws(): unknown[] {
    return this.program.controls.map((k) => this.copyOut("value", k));
  }

  /** A control's value or tangent: an array is used in place (read only), a number is stored. */
  private setControl(channel: "value" | "tangent", k: number, raw: unknown): void {
    if (raw instanceof NDArray && this.program.slots[k].kind === "array")
      this.store.adopt(channel, k, raw.data);
    else if (raw === undefined && this.program.slots[k].kind === "array") {
      this.store.adopt(channel, k, new Float64Array(this.program.slots[k].size));
    } else this.store.write(channel, k, raw);
  }

  /** A fresh raw value of slot `k`'s channel (zeros where it has none). */
  private copyOut(channel: "value" | "adjoint" | "hessian", k: number): unknown {
    const slot = this.program.slots[k];
    const buffer = this.store.buffer(channel, k);
    if (slot.kind === "number") return buffer === undefined ? 0 : buffer[0];
    const data = buffer === undefined ? new Float64Array(slot.size) : buffer.slice();
    return new NDArray(data, slot.shape);
  }

  /** Set when the control values of the last evaluation were found finite (cleared by `evaluate`). */
  private controlsFinite = false;

  private checkFinite(operation: string): void {
    if (!this.controlsFinite) this.checkControlsFinite(operation);
    if (!Number.isFinite(this.functionalEntry("value"))) {
      throw new NonFiniteValueError(
        operation,
        "the functional is not finite; a derivative needs a finite value",
      );
    }
  }

  /** Throws NonFiniteValueError for a non-finite control value; else remembers them finite. */
  private checkControlsFinite(operation: string): void {
    this.program.controls.forEach((k, index) => {
      const buffer = this.store.buffer("value", k);
      if (buffer !== undefined && !allFinite(buffer)) {
        throw new NonFiniteValueError(
          operation,
          `control ${index} holds a non-finite value; a derivative needs finite values`,
        );
      }
    });
    this.controlsFinite = true;
  }

  /** Throws NonFiniteValueError when a control's result in `channel` is not finite (checked in place). */
  private checkResults(channel: "adjoint" | "hessian", operation: string): void {
    for (const k of this.program.controls) {
      const buffer = this.store.buffer(channel, k);
      if (buffer === undefined || allFinite(buffer)) continue;
      throw nonFiniteDerivative(operation);
    }
  }

  /** Per-control results from the slots of `channel`, zeros for controls not differentiated. */
  private results(channel: "adjoint" | "hessian"): unknown[] {
    return this.program.controls.map((k, i) => {
      if (this.components !== undefined && !this.components.includes(i)) {
        const slot = this.program.slots[k];
        return slot.kind === "number" ? 0 : new NDArray(new Float64Array(slot.size), slot.shape);
      }
      const slot = this.program.slots[k];
      if (slot.kind === "number") return this.copyOut(channel, k);
      // the result takes the program's buffer; the program continues with a fresh one
      return new NDArray(this.store.take(channel, k), slot.shape);
    });
  }

  /**
   * dJ/dm at the last evaluation, by the compiled reverse loops. A single control gives a single value.
   * `adjInput` multiplies the result (default 1). The arrays returned are fresh.
   *
   * @example
   * const g = compiled.derivative(); // AdjFloat for an AdjFloat control; [NDArray, AdjFloat] for such a tuple
   */
  derivative(options: { adjInput?: number } = {}): PerControl<C> {
    const operation = `${OPERATION}(...).derivative`;
    checkOptions(operation, options, ["adjInput"]);
    checkNumberOption(operation, "adjInput", options.adjInput);
    const values = this.wrappedControls();
    this.callbacks.deriveCbPre?.(values);
    this.checkFinite(operation);
    this.store.clearReverse(false);
    this.seedFunctional("adjoint", (options.adjInput ?? 1) * this.scale);
    for (let s = this.runners.length - 1; s >= 0; s--) this.runners[s].adjoint();
    this.checkResults("adjoint", operation);
    const results = this.results("adjoint");
    const wrapped = results.map((raw) => wrapRaw(raw, operation));
    this.callbacks.deriveCbPost?.(this.value(), wrapped, values);
    return perControl(this.controlsArgument, wrapped);
  }

  private wrappedControls(): OverloadedValue[] {
    if (this.callbacks.deriveCbPre === undefined && this.callbacks.deriveCbPost === undefined) {
      if (this.callbacks.hessianCbPre === undefined && this.callbacks.hessianCbPost === undefined) return [];
    }
    return this.controlRaws().map((raw) => wrapRaw(raw));
  }

  private seedFunctional(channel: "adjoint", value: number): void {
    const buffer = this.store.buffer(channel, this.program.functional);
    if (buffer !== undefined) buffer[0] += value;
  }

  /**
   * Sets the control tangents to the direction (zero for controls not differentiated) and runs the loops
   * (for a Hessian action, only those whose tangents it reads).
   */
  private tangents(mDot: unknown, operation: string, hessian = false): void {
    const seeds = directionList(this.reduced.controls, mDot, operation);
    this.program.controls.forEach((k, i) => {
      const chosen = this.components === undefined || this.components.includes(i);
      this.setControl("tangent", k, chosen ? seeds[i] : undefined);
    });
    for (const runner of hessian ? this.hessianTangents : this.runners) runner.tangent();
  }

  /**
   * dJ/dm . mDot at the last evaluation, by the compiled tangent loops.
   *
   * @example
   * compiled.tlm(1); // dJ/dx for a single AdjFloat control
   */
  tlm(mDot: ControlInputs<C>): number {
    const operation = `${OPERATION}(...).tlm`;
    this.checkFinite(operation);
    this.tangents(mDot, operation);
    const result = this.functionalEntry("tangent") * this.scale;
    if (!Number.isFinite(result)) throw nonFiniteDerivative(operation);
    return result;
  }

  /**
   * The Hessian action H mDot at the last evaluation: the tangent loops, then the reverse loops carrying
   * first- and second-order adjoints together.
   *
   * @example
   * compiled.hessian(1).value; // d2J/dx2 for a single AdjFloat control
   */
  hessian(mDot: ControlInputs<C>): PerControl<C> {
    const operation = `${OPERATION}(...).hessian`;
    const values = this.wrappedControls();
    this.checkFinite(operation);
    this.tangents(mDot, operation, true);
    if (this.callbacks.hessianCbPre !== undefined) {
      const seeds = directionList(this.reduced.controls, mDot, operation);
      this.callbacks.hessianCbPre(
        values,
        seeds.map((raw) => wrapRaw(raw)),
      );
    }
    this.store.clearReverse(true);
    this.seedFunctional("adjoint", this.scale);
    for (let s = this.secondPasses.length - 1; s >= 0; s--) this.secondPasses[s]();
    this.checkResults("hessian", operation);
    const results = this.results("hessian");
    const wrapped = results.map((raw) => wrapRaw(raw, operation));
    this.callbacks.hessianCbPost?.(wrapped, values);
    return perControl(this.controlsArgument, wrapped);
  }
}

/**
 * Compiles a ReducedFunctional (tsadjoint's `jax.jit`): the tape path from its controls to its functional
 * becomes a fixed program over preallocated buffers, with generated fused loops for elementwise blocks and
 * sums and the blocks' own modes for the rest. The result has ReducedFunctional's calls (`evaluate`,
 * `derivative`, `tlm`, `hessian`) and gives the same numbers (float64, to 1e-14 relative; most entries are
 * bit-identical), much faster on a tape replayed many times. Code is generated with `new Function`; where
 * that is refused the same program is interpreted (`stats.mode`).
 *
 * @example
 * const x = np.array([1, 2, 3]);
 * const p = new AdjFloat(2);
 * const J = np.sum(np.power(np.add(np.multiply(x, x), 1), p));
 * const compiled = compileFunctional(new ReducedFunctional(J, [new Control(x), new Control(p)]));
 * compiled.evaluate([np.array([0.5, 1, 1.5]), 2.5]);
 * const [dx, dp] = compiled.derivative(); // [NDArray, AdjFloat]
 * compiled.stats.fused; // 4 blocks in generated loops
 */
export function compileFunctional<const C extends Controls>(
  reduced: ReducedFunctional<C>,
  options: CompileOptions = {},
): CompiledFunctional<C> {
  return new CompiledFunctional(reduced, options);
}

/**
 * Runs every pass of the generated runners once on the tape's values, then puts the buffers back. The
 * engine then has seen every statement of each generated function (what follows a loop included) before it
 * optimizes one: a first call whose long loop is optimized while it runs otherwise leaves the code after
 * the loop without type feedback, and the optimized loop is thrown away again at its end, call after call
 * until the function is optimized as a whole (measured: some runs of the flux gradient 1.5-2x slower).
 * Fallback steps (solves, matmuls, scalar segments) are not run: the generated loops read their outputs
 * from the buffers, which hold the tape's values.
 */
function warmUp(runners: readonly StepRunner[], store: Store): void {
  for (const runner of runners) {
    if (!("tangentForHessian" in runner)) continue;
    runner.forward();
    runner.tangent();
    runner.hessianTangent?.();
    runner.adjoint();
    runner.second();
    runner.secondWithTangents?.();
  }
  store.reset((slot) => slot.saved);
}

/**
 * Whether a step of a runner after runner `s` reads (as an operand, or through a view) a value that runner
 * `s` produces: then its tangents must be ready before the later runners' passes, not computed inside its
 * own second-order pass.
 */
function readLater(program: Program, chains: readonly (readonly Step[])[], s: number): boolean {
  const base = (k: number) => program.slots[k].base;
  const produced = new Set(chains[s].flatMap((step) => outputsOf(step).map(base)));
  return chains
    .slice(s + 1)
    .some((steps) => steps.some((step) => operandsOf(step).some((k) => produced.has(base(k)))));
}

function outputsOf(step: Step): readonly number[] {
  return step.kind === "group" ? step.members.map((m) => m.out) : step.outputs;
}

function operandsOf(step: Step): readonly number[] {
  return step.kind === "group" ? step.members.flatMap((m) => m.args) : step.inputs;
}

function isGroup(step: Step): step is GroupStep {
  return step.kind === "group";
}
