/**
 * @file The fallback executor: a block the code generator does not fuse (matmul, solves, pointMap, engine
 * blocks, any user block) runs through its own recompute / evaluateTlm / evaluateAdj / evaluateHessian
 * (or evaluateAdjAndHessian when it declares the fused second-order capability), with contexts built from
 * the program's slots. Results are copied into the program's buffers, so any tape compiles and gives the
 * answers of the uncompiled sweeps. A scalar segment (a run of AdjFloat operations recorded as typed
 * arrays) is one such step: its own typed loops run it (compile time linear in its length, the speed of
 * the uncompiled sweeps), its adjoints accumulated into the program's slots in the sweeps' order.
 */
import { stopAnnotating } from "../tape/annotation.js";
import { hasFusedSecondOrder } from "../tape/capabilities.js";
import { ScalarSegment } from "../tape/scalar-segment.js";
import type { Store } from "./buffers.js";
import type { FallbackStep } from "./program.js";

/** The per-mode runners of one fallback step. */
export interface StepRunner {
  forward(): void;
  tangent(): void;
  adjoint(): void;
  second(): void;
  /** The tangent loop a Hessian action runs instead of `tangent` (when it can skip part of it). */
  readonly hessianTangent?: () => void;
  /**
   * The second-order pass with this step's Hessian-action tangent pass fused into it (run instead of both
   * when no later step reads this step's outputs).
   */
  readonly secondWithTangents?: () => void;
}

/**
 * The runner of a fallback step over `store` (a scalar segment runs through its typed loops).
 *
 * @example
 * fallbackRunner(step, store).forward(); // block.recompute on the program's values
 */
export function fallbackRunner(step: FallbackStep, store: Store): StepRunner {
  const block = step.block;
  if (block instanceof ScalarSegment) return segmentRunner(block, step, store);
  return genericRunner(step, store);
}

/** The runner of any block through its own modes. */
function genericRunner(step: FallbackStep, store: Store): StepRunner {
  const { block, inputs, outputs } = step;
  const slots = store.program.slots;
  const needed = inputs.map((k) => slots[k].active);
  const controls = new Set(store.program.controls);
  const values = () => inputs.map((k) => store.raw("value", k));
  const outValues = () => outputs.map((k) => store.raw("value", k));
  const tangents = () => inputs.map((k) => (slots[k].active ? store.raw("tangent", k) : undefined));
  return {
    forward() {
      const results = stopAnnotating(() => block.recompute({ inputs: values() }));
      outputs.forEach((k, i) => {
        if (!controls.has(k)) store.write("value", k, results[i]);
      });
    },
    tangent() {
      const tlmInputs = tangents();
      const results = tlmInputs.some((t) => t !== undefined)
        ? block.evaluateTlm({ inputs: values(), outputs: outValues(), tlmInputs })
        : outputs.map(() => undefined);
      outputs.forEach((k, i) => {
        if (!controls.has(k)) store.write("tangent", k, results[i]);
      });
    },
    adjoint() {
      const adjInputs = outputs.map((k) => store.raw("adjoint", k));
      if (adjInputs.every((a) => a === undefined)) return;
      const results = block.evaluateAdj({ inputs: values(), outputs: outValues(), adjInputs, needed });
      inputs.forEach((k, i) => {
        if (needed[i]) store.accumulate("adjoint", k, results[i]);
      });
    },
    second() {
      const adjInputs = outputs.map((k) => store.raw("adjoint", k));
      const hessianInputs = outputs.map((k) => store.raw("hessian", k));
      const context = {
        inputs: values(),
        outputs: outValues(),
        adjInputs,
        hessianInputs,
        needed,
        tlmInputs: tangents(),
      };
      let adjoints: readonly unknown[];
      let hessians: readonly unknown[];
      if (hasFusedSecondOrder(block)) [adjoints, hessians] = block.evaluateAdjAndHessian(context);
      else {
        adjoints = block.evaluateAdj(context);
        hessians = block.evaluateHessian(context);
      }
      inputs.forEach((k, i) => {
        if (!needed[i]) return;
        store.accumulate("adjoint", k, adjoints[i]);
        store.accumulate("hessian", k, hessians[i]);
      });
    },
  };
}

/**
 * The runner of a scalar segment's step: its typed loops through its composite modes. The adjoint and
 * second-order passes start from the inputs' slots as the program holds them and add the operations'
 * contributions one at a time, in the order the uncompiled sweep adds them (so the sums are the same
 * numbers, bit for bit, also for an input that other blocks read too).
 */
function segmentRunner(segment: ScalarSegment, step: FallbackStep, store: Store): StepRunner {
  const generic = genericRunner(step, store);
  const { inputs, outputs } = step;
  const slots = store.program.slots;
  const needed = inputs.map((k) => slots[k].active);
  const values = () => inputs.map((k) => store.raw("value", k));
  const starts = (channel: "adjoint" | "hessian") =>
    inputs.map((k, i) => (needed[i] ? store.raw(channel, k) : undefined));
  const writeBack = (channel: "adjoint" | "hessian", results: readonly (number | undefined)[]) => {
    inputs.forEach((k, i) => {
      const result = results[i];
      if (needed[i] && result !== undefined) store.write(channel, k, result);
    });
  };
  const tangents = () => inputs.map((k, i) => (needed[i] ? store.raw("tangent", k) : undefined));
  const controls = new Set(store.program.controls);
  // the segment's token after this step's tangent pass: the second-order pass reuses its tangents
  let tangentToken: number | undefined;
  return {
    forward() {
      tangentToken = undefined;
      generic.forward();
    },
    tangent() {
      tangentToken = undefined;
      const tlmInputs = tangents();
      if (tlmInputs.every((t) => t === undefined)) {
        for (const k of outputs) if (!controls.has(k)) store.write("tangent", k, undefined);
        return;
      }
      const results = segment.evaluateTlm({ inputs: values(), outputs: [], tlmInputs });
      outputs.forEach((k, i) => {
        if (!controls.has(k)) store.write("tangent", k, results[i]);
      });
      tangentToken = segment._compositeToken();
    },
    adjoint() {
      const adjInputs = outputs.map((k) => store.raw("adjoint", k));
      if (adjInputs.every((a) => a === undefined)) return;
      const result = segment._composite("adjoint", {
        inputs: values(),
        needed,
        adjInputs,
        adjStart: starts("adjoint"),
      });
      writeBack("adjoint", result.adj);
    },
    second() {
      const result = segment._composite("fused", {
        inputs: values(),
        needed,
        adjInputs: outputs.map((k) => store.raw("adjoint", k)),
        hessianInputs: outputs.map((k) => store.raw("hessian", k)),
        tlmInputs: tangents(),
        adjStart: starts("adjoint"),
        hessianStart: starts("hessian"),
        tangentsReady: tangentToken,
      });
      tangentToken = undefined;
      writeBack("adjoint", result.adj);
      writeBack("hessian", result.hessian);
    },
  };
}
