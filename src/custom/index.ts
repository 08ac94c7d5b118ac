/**
 * @file Custom differentiable functions: `overloadFunction` (a plain function plus user derivative rules
 * as one block) and `pointMap` (CRIKit's point_map: a `tsadjoint/numpy` function on batches of points as
 * one block with a nested tape), `defineLinear` (a linear operation from apply + transpose) and
 * `defineElementwise` (an elementwise operation from f, f', f'').
 */

export {
  defineLinear,
  LinearBlock,
  type LinearDefinition,
  type LinearOperation,
  type LinearValue,
  type LinearValues,
} from "../ops/linear.js";
export {
  type BinaryElementwiseDefinition,
  type BinaryElementwiseOperation,
  defineElementwise,
  type UnaryElementwiseDefinition,
  type UnaryElementwiseOperation,
} from "./define-elementwise.js";
export {
  type HvpArguments,
  type InputResults,
  type JvpArguments,
  type JvpResult,
  type OutputList,
  OverloadedFunctionBlock,
  type OverloadedInput,
  type OverloadedResult,
  type OverloadRules,
  overloadFunction,
  type RawValue,
  type RawValues,
  type RuleSlot,
  type RuleValue,
  type VjpArguments,
} from "./overload-function.js";
export {
  type BarePointMap,
  type OutputShapeSpec,
  PointMapBlock,
  type PointMapOptions,
  type PointMapResult,
  type PointMapValue,
  pointMap,
  type ShapeSpec,
  type TuplePointMap,
} from "./point-map.js";
