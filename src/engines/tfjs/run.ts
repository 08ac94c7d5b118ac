/** @file runTensorflowGraph: evaluate a TensorFlow.js graph on tsadjoint values and record one TfBlock; tensorflowJacobian. */
import * as tf from "@tensorflow/tfjs";
import { InvalidArgumentError, TsadjointError } from "../../errors.js";
import { checkOptions } from "../../options.js";
import { checkTape } from "../../reduced/arguments.js";
import { record } from "../../tape/record.js";
import type { TapeOption } from "../../tape/tape.js";
import type { NDArray } from "../../values/ndarray.js";
import type { OverloadedValue } from "../../values/overloaded.js";
import { denseJacobian, TfBlock } from "./block.js";
import { rawToTensor, tensorToNDArray } from "./convert.js";
import { type BuiltProgram, buildProgram, type TfFeeds, type TfGraph, type TfOutputKey } from "./graph.js";

/** Options of `runTensorflowGraph`. */
export interface RunTensorflowGraphOptions extends TapeOption {
  /**
   * The outputs to compute and record: one name or index (the result is one NDArray) or a list (the result
   * is a list). Names: a Layers model's `outputNames`, a graph model's output node or signature names (any
   * node name works), the keys of a map a function returns. Default: the graph's only output.
   */
  outputs?: TfOutputKey | readonly TfOutputKey[];
  /**
   * The weights to evaluate a model with, one NDArray per weight in `modelWeights` order (default:
   * `modelWeights(model)`). They are dependencies of the block, so they can be controls.
   */
  weights?: readonly NDArray[];
}

/** The `message` of a thrown value (`undefined` when it has none). */
function messageOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "message" in error ? error.message : undefined;
}

function run(graph: TfGraph, feeds: TfFeeds, options: RunTensorflowGraphOptions, operation: string) {
  const built: BuiltProgram = buildProgram(graph, feeds, options, operation);
  const { program, dependencies } = built;
  let values: NDArray[] = [];
  try {
    tf.tidy(() => {
      const tensors = dependencies.map((value, index) =>
        rawToTensor(value.raw(), program.dependencyDtypes[index]),
      );
      const outputs = program.run(tensors);
      outputs.forEach((output, index) => {
        if (!(output instanceof tf.Tensor)) {
          throw new InvalidArgumentError(
            operation,
            `output ${program.outputNames[index] ?? index} of the graph is not a tensor`,
          );
        }
      });
      values = outputs.map(tensorToNDArray);
    });
  } catch (error) {
    if (error instanceof TsadjointError) throw error;
    const wrapped = new InvalidArgumentError(
      operation,
      `TensorFlow.js could not evaluate the graph: ${messageOf(error)}`,
    );
    wrapped.cause = error;
    throw wrapped;
  }
  return { ...built, values };
}

/**
 * Evaluates a TensorFlow.js graph on tsadjoint values, like TF1's `session.run(output, feed_dict)`, and
 * records ONE TfBlock so that tsadjoint drives TensorFlow.js's derivatives: gradients (reverse mode),
 * tangent-linear actions (double VJP), Hessian actions (nested reverse mode, checked: an op TensorFlow.js
 * gets wrong raises EngineLimitError naming it) and dense Jacobians (`TfBlock.jacobian`).
 *
 * - `graph`: a `tf.LayersModel` (`tf.sequential` / `tf.model`), a `tf.GraphModel` (named inputs and
 *   outputs), or a function of tensors.
 * - `feeds`: one value, a list in input order, or values by input name (object or Map; a Map may use the
 *   model's symbolic inputs as keys). NDArrays and AdjFloats are recorded as dependencies (controls);
 *   numbers are constants.
 * - A model is evaluated with the NDArrays of `modelWeights(model)` (or `options.weights`), never with
 *   its own variables, so a replay at new weight values gives new outputs.
 *
 * Precision: TensorFlow.js computes in float32. Inputs and weights are rounded to float32 and results come
 * back as float64 NDArrays holding float32 values: about 1e-7 relative error in values and derivatives
 * (more where sums cancel). Taylor tests need steps of about 1e-1..1e-2, not the float64 defaults.
 *
 * @example
 * const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
 * const x = np.array([[0.1, 0.2]]);
 * const y = runTensorflowGraph(model, x); // NDArray [1, 1], recorded
 * const [a, b] = runTensorflowGraph(graphModel, { x }, { outputs: ["a", "b"] });
 */
export function runTensorflowGraph(
  graph: TfGraph,
  feeds: TfFeeds,
  options: RunTensorflowGraphOptions & { outputs: readonly TfOutputKey[] },
): NDArray[];
export function runTensorflowGraph(
  graph: TfGraph,
  feeds: TfFeeds,
  options?: RunTensorflowGraphOptions & { outputs?: TfOutputKey },
): NDArray;
export function runTensorflowGraph(
  graph: TfGraph,
  feeds: TfFeeds,
  options: RunTensorflowGraphOptions = {},
): NDArray | NDArray[] {
  const operation = "runTensorflowGraph";
  checkOptions(operation, options, ["outputs", "weights", "tape"]);
  const tape = checkTape(options.tape, operation);
  const { program, dependencies, values } = run(graph, feeds, options, operation);
  const asList = Array.isArray(options.outputs);
  if (!asList && values.length !== 1) {
    throw new InvalidArgumentError(
      operation,
      `the graph has ${values.length} outputs (${program.outputNames.join(", ")}); choose with options.outputs: one name ` +
        "(gives an NDArray) or a list of names (gives a list)",
    );
  }
  record(dependencies, values, (inputs, outputs) => new TfBlock(program, inputs, outputs), tape);
  return asList ? values : values[0];
}

/** Options of `tensorflowJacobian`. */
export interface TensorflowJacobianOptions {
  /** As for runTensorflowGraph. */
  outputs?: TfOutputKey | readonly TfOutputKey[];
  /** As for runTensorflowGraph. */
  weights?: readonly NDArray[];
  /** Differentiate with respect to the fed values, the model's weights, or both (default "feeds"). */
  withRespectTo?: "feeds" | "weights" | "all";
}

/** What `tensorflowJacobian` returns. */
export interface TensorflowJacobian {
  /** The chosen outputs. */
  readonly values: NDArray[];
  /** The values differentiated with respect to, in order (fed NDArrays/AdjFloats in input order, then weights). */
  readonly withRespectTo: OverloadedValue[];
  /** `jacobian[o][k]`: d values[o] / d withRespectTo[k], shape `[...outputShape, ...inputShape]`. */
  readonly jacobian: NDArray[][];
}

/**
 * The dense Jacobian of a TensorFlow.js graph's outputs with respect to its fed values and/or a model's
 * weights (float32 accuracy), without recording anything.
 *
 * @example
 * const { jacobian } = tensorflowJacobian(model, x); // jacobian[0][0]: [n, 1, n, 2]
 */
export function tensorflowJacobian(
  graph: TfGraph,
  feeds: TfFeeds,
  options: TensorflowJacobianOptions = {},
): TensorflowJacobian {
  const operation = "tensorflowJacobian";
  checkOptions(operation, options, ["outputs", "weights", "withRespectTo"]);
  const { program, dependencies, feedCount, values } = run(graph, feeds, options, operation);
  const mode = options.withRespectTo ?? "feeds";
  if (mode !== "feeds" && mode !== "weights" && mode !== "all") {
    throw new InvalidArgumentError(
      operation,
      `withRespectTo must be "feeds", "weights" or "all", got ${String(mode)}`,
    );
  }
  const chosen = dependencies
    .map((_, index) => index)
    .filter((index) => (mode === "all" ? true : mode === "feeds" ? index < feedCount : index >= feedCount));
  const full = denseJacobian(
    program,
    dependencies.map((value) => value.raw()),
    chosen,
  );
  return {
    values,
    withRespectTo: chosen.map((index) => dependencies[index]),
    jacobian: full.map((row) => chosen.map((index) => row[index])),
  };
}
