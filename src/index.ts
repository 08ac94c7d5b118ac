/**
 * @file tsadjoint: algorithmic differentiation for TypeScript in the spirit of pyadjoint. A program runs
 * normally while every differentiable operation records a Block on the working tape; the chain rule over
 * the tape gives gradients, tangent-linear actions and Hessian actions.
 *
 * @module tsadjoint
 */

export {
  CompiledFunctional,
  type CompileOptions,
  type CompileStats,
  compileFunctional,
} from "./compile/compiled-functional.js";
export * from "./custom/index.js";
export * from "./errors.js";
export * as np from "./numpy/index.js";
export { Control } from "./reduced/control.js";
export {
  type AdjointOptions,
  type ControlInputs,
  type ControlList,
  type Controls,
  type ControlValue,
  type ControlValueList,
  computeGradient,
  computeHessian,
  computeTLM,
  type PerControl,
  type ValueInput,
  type ValueType,
} from "./reduced/drivers.js";
export {
  computeJacobianAction,
  computeJacobianMatrix,
  type JacobianBlocks,
  type JacobianMatrixOptions,
  type JacobianRow,
  type OutputSeeds,
  type Outputs,
  type PerOutput,
} from "./reduced/jacobian.js";
export { ReducedFunction, type ReducedFunctionOptions } from "./reduced/reduced-function.js";
export {
  ReducedFunctional,
  type ReducedFunctionalCallbacks,
  type ReducedFunctionalOptions,
} from "./reduced/reduced-functional.js";
export { annotating, continueAnnotation, pauseAnnotation, stopAnnotating } from "./tape/annotation.js";
export {
  type AdjContext,
  Block,
  type BlockContext,
  type HessianContext,
  type RecomputeContext,
  type Recordable,
  recordable,
  type Seeds,
  type TlmContext,
  type Values,
} from "./tape/block.js";
export { BlockVariable } from "./tape/block-variable.js";
export {
  type DisposableBlock,
  disposable,
  type FusedSecondOrder,
  fusedSecondOrder,
  hasFusedSecondOrder,
  hasTangentFreeSecondOrder,
  isDisposable,
  type JacobianBlock,
  type JacobianContext,
  jacobianPropagation,
  propagatesJacobians,
  type TangentFreeSecondOrder,
  tangentFreeSecondOrder,
} from "./tape/capabilities.js";
export type { CheckpointingSchedule, CheckpointStatistics } from "./tape/checkpointing.js";
export {
  DenseJacobian,
  IDENTITY,
  type IdentityJacobian,
  type Jacobian,
  type JacobianValue,
  PointwiseJacobian,
} from "./tape/jacobian.js";
export { record } from "./tape/record.js";
export { getWorkingTape, recordBlock, setWorkingTape, Tape, type TapeOption, withTape } from "./tape/tape.js";
export * from "./transforms/index.js";
export { AdjFloat, type Scalar } from "./values/adj-float.js";
export { type ArrayRaw, array, NDArray } from "./values/ndarray.js";
export { ndarraySpace } from "./values/ndarray-space.js";
export { isOverloaded, OverloadedValue } from "./values/overloaded.js";
export {
  createOverloadedObject,
  type OverloadedTypeSpec,
  registerOverloadedType,
  scalarSpace,
  spaceOf,
  toRaw,
  type VectorSpace,
  wrapRaw,
} from "./values/space.js";
export {
  assertRule,
  checkRule,
  type RuleArgument,
  type RuleArguments,
  type RuleCheckOptions,
  type RuleCheckReport,
  ruleThresholds,
} from "./verify/check-rule.js";
export {
  type TaylorFunctionTarget,
  type TaylorOptions,
  type TaylorReport,
  type TaylorSeries,
  type TaylorTarget,
  taylorTest,
  taylorToDict,
} from "./verify/taylor.js";
export { tapeToDot } from "./viz/dot.js";
