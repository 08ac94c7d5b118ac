/** @file A TensorFlow.js model's weights as float64 NDArrays (controls), and writing them back into the model. */

import * as tf from "@tensorflow/tfjs";
import { EngineLimitError, InvalidArgumentError, ShapeMismatchError } from "../../errors.js";
import { checkOptions } from "../../options.js";
import { NDArray, shapesEqual } from "../../values/ndarray.js";
import { rawToTensor, tensorToNDArray } from "./convert.js";

/** A graph model, however it was loaded (from a URL, an async or a sync IO handler). */
export type TfGraphModel = tf.GraphModel<string | tf.io.IOHandler | tf.io.IOHandlerSync>;

/** A model with weights: a Layers model or a graph model. */
export type TfModel = tf.LayersModel | TfGraphModel;

interface LayerVariableLike {
  readonly name: string;
  readonly shape: readonly (number | null)[];
  read(): tf.Tensor;
}

/** The part of a graph model's (private) executor that `setModelWeights` replaces. */
interface WeightMapHolder {
  weightMap: Record<string, tf.Tensor[]>;
}

function isWeightMapHolder(value: unknown): value is WeightMapHolder {
  return typeof value === "object" && value !== null && "weightMap" in value;
}

/**
 * The executor of a graph model (private in the tfjs-converter typings), whose `weightMap` setter also
 * refreshes its list of weight ids. Throws EngineLimitError when this TensorFlow.js version has none.
 */
function graphExecutor(model: TfGraphModel, operation: string): WeightMapHolder {
  const holder: object = model;
  const executor = "executor" in holder ? holder.executor : undefined;
  if (!isWeightMapHolder(executor)) {
    throw new EngineLimitError(
      operation,
      "this TensorFlow.js version keeps a graph model's weights where tsadjoint cannot replace them",
    );
  }
  return executor;
}

const cachedWeights = new WeakMap<object, NDArray[]>();

/** The shape of a layer's weight (a built layer's weights have no unknown dimension). */
function concreteShape(variable: LayerVariableLike, operation: string): readonly number[] {
  const shape: number[] = [];
  for (const size of variable.shape) {
    if (size === null) {
      throw new InvalidArgumentError(
        operation,
        `the weight '${variable.name}' has an unknown dimension; build the model first`,
      );
    }
    shape.push(size);
  }
  return shape;
}

/**
 * @internal the LayerVariables of a Layers model, checking that it is built
 *
 * @example
 * layerVariables(model, "modelWeights").length; // 8 for four Dense layers
 */
export function layerVariables(model: tf.LayersModel, operation: string): LayerVariableLike[] {
  const variables: LayerVariableLike[] = model.weights;
  if (variables.length === 0 && !model.built) {
    throw new InvalidArgumentError(
      operation,
      `the model '${model.name}' is not built yet, so it has no weights; give its first layer an inputShape (or call model.build / apply it once)`,
    );
  }
  return variables;
}

/**
 * @internal the names of a graph model's float32 weights (its differentiable constants), in a fixed order
 *
 * @example
 * graphWeightNames(graphModel); // ["dense0/kernel", "dense0/bias", ...]
 */
export function graphWeightNames(model: TfGraphModel): string[] {
  const map = model.weights;
  return Object.keys(map).filter((name) => map[name].length === 1 && map[name][0].dtype === "float32");
}

/**
 * @internal the shapes the weights of `model` must have
 *
 * @example
 * weightShapes(model, "runTensorflowGraph"); // [[2, 40], [40], ...]
 */
export function weightShapes(model: TfModel, operation: string): (readonly number[])[] {
  if (model instanceof tf.LayersModel) {
    return layerVariables(model, operation).map((variable) => concreteShape(variable, operation));
  }
  const map = model.weights;
  return graphWeightNames(model).map((name) => map[name][0].shape);
}

function readWeights(model: TfModel, operation: string): NDArray[] {
  if (model instanceof tf.LayersModel) {
    return layerVariables(model, operation).map((variable) => tensorToNDArray(variable.read()));
  }
  const map = model.weights;
  return graphWeightNames(model).map((name) => tensorToNDArray(map[name][0]));
}

/**
 * The weights of a TensorFlow.js model as float64 NDArrays, in the model's order (`model.weights` of a
 * Layers model: kernel, bias of each layer in turn; the float32 constants of a graph model). They are the
 * values `runTensorflowGraph` evaluates the model with, so they can be Controls: a replay at new weight
 * values changes the output, and gradients with respect to them train the network through a larger
 * program. The same NDArray objects are returned on every call (until `setModelWeights` or
 * `{ reload: true }`, which reads the model's current variables again).
 *
 * @example
 * const weights = modelWeights(model);
 * const y = runTensorflowGraph(model, x);
 * const controls = weights.map((w) => new Control(w));
 */
export function modelWeights(model: TfModel, options: { reload?: boolean } = {}): NDArray[] {
  checkModel(model, "modelWeights");
  checkOptions("modelWeights", options, ["reload"]);
  let weights = options.reload ? undefined : cachedWeights.get(model);
  if (weights === undefined) {
    weights = readWeights(model, "modelWeights");
    cachedWeights.set(model, weights);
  }
  return weights.slice();
}

/**
 * The names of the weights `modelWeights` returns, in the same order.
 *
 * @example
 * modelWeightNames(model); // ["dense_Dense1/kernel", "dense_Dense1/bias", ...]
 */
export function modelWeightNames(model: TfModel): string[] {
  checkModel(model, "modelWeightNames");
  if (model instanceof tf.LayersModel) return layerVariables(model, "modelWeightNames").map((v) => v.name);
  return graphWeightNames(model);
}

/**
 * Writes weights (for example optimised controls) into the model's own variables, rounded to float32,
 * and makes them the values `modelWeights(model)` returns. Nothing is recorded on the tape.
 *
 * @example
 * setModelWeights(model, optimisedWeights);
 * model.predict(x); // uses them
 */
export function setModelWeights(model: TfModel, weights: readonly NDArray[]): void {
  const operation = "setModelWeights";
  checkModel(model, operation);
  checkWeights(model, weights, operation);
  if (model instanceof tf.LayersModel) {
    tf.tidy(() => {
      model.setWeights(weights.map((w) => rawToTensor(w)));
    });
  } else {
    const executor = graphExecutor(model, operation);
    const map = executor.weightMap;
    const names = graphWeightNames(model);
    const replaced: tf.Tensor[] = [];
    const next: Record<string, tf.Tensor[]> = { ...map };
    names.forEach((name, index) => {
      replaced.push(map[name][0]);
      next[name] = [tf.tidy(() => rawToTensor(weights[index]))];
    });
    executor.weightMap = next; // the setter also refreshes the executor's list of weight ids
    for (const tensor of replaced) tensor.dispose();
  }
  cachedWeights.set(model, weights.slice());
}

/**
 * @internal throws unless `model` is a Layers model or a graph model
 *
 * @example
 * checkModel(model, "modelWeights");
 */
export function checkModel(model: unknown, operation: string): asserts model is TfModel {
  if (!(model instanceof tf.LayersModel) && !(model instanceof tf.GraphModel)) {
    throw new InvalidArgumentError(
      operation,
      "expected a TensorFlow.js LayersModel (tf.sequential / tf.model) or GraphModel (tf.loadGraphModel)",
    );
  }
}

/**
 * @internal throws unless `weights` are NDArrays of the model's weight shapes, one per weight
 *
 * @example
 * checkWeights(model, modelWeights(model), "runTensorflowGraph");
 */
export function checkWeights(model: TfModel, weights: readonly unknown[], operation: string): void {
  const shapes = weightShapes(model, operation);
  if (!Array.isArray(weights) || weights.length !== shapes.length) {
    throw new InvalidArgumentError(
      operation,
      `the model has ${shapes.length} weights but ${Array.isArray(weights) ? weights.length : "no list of"} weights were given; use modelWeights(model) for the list`,
    );
  }
  weights.forEach((weight, index) => {
    if (!(weight instanceof NDArray)) {
      throw new InvalidArgumentError(operation, `weight ${index} must be an NDArray (see modelWeights)`);
    }
    if (!shapesEqual(weight.shape, shapes[index])) {
      throw new ShapeMismatchError(
        operation,
        [weight.shape, shapes[index]],
        `weight ${index} must have the shape of the model's weight ${index}`,
      );
    }
  });
}
