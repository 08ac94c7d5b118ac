/**
 * @file `tsadjoint/tfjs`: run TensorFlow.js graphs (Layers models, graph models, tensor functions) inside a
 * tsadjoint program. Each call records one TfBlock; tsadjoint drives the derivatives, TensorFlow.js computes
 * its own piece (float32). Needs the optional peer dependency `@tensorflow/tfjs`.
 *
 * @module tsadjoint/tfjs
 */
import "../../values/ndarray-space.js";
// AdjFloat's arithmetic methods record through the elementwise operations, registered when they load
import "../../ops/elementwise.js";

export { TfBlock, type TfBlockInputs, type TfBlockOutputs } from "./block.js";
export type { FeedDtype } from "./convert.js";
export type { TfFeeds, TfFeedValue, TfGraph, TfGraphFunction, TfOutputKey, TfProgram } from "./graph.js";
export {
  type RunTensorflowGraphOptions,
  runTensorflowGraph,
  type TensorflowJacobian,
  type TensorflowJacobianOptions,
  tensorflowJacobian,
} from "./run.js";
export { type ActivationSwap, secondOrderSafe, type UnaryTensorOp } from "./second-order.js";
export {
  modelWeightNames,
  modelWeights,
  setModelWeights,
  type TfGraphModel,
  type TfModel,
} from "./weights.js";
