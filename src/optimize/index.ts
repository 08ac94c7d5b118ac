/**
 * @file `tsadjoint/optimize`: `minimize` / `maximize` a ReducedFunctional (L-BFGS-B with bounds, BFGS,
 * Newton-CG on Hessian actions), and the same optimizers on plain Float64Array problems.
 *
 * @module tsadjoint/optimize
 */

export { minimizeBfgs, updateInverseHessian } from "./bfgs.js";
export { LimitedMemoryMatrix, minimizeLbfgsb } from "./lbfgsb.js";
export type {
  LineSearchOptions,
  LineSearchResult,
  LineSearchStatus,
  LineSearchTrial,
} from "./line-search.js";
export { strongWolfeLineSearch } from "./line-search.js";
export {
  type ControlBound,
  type MinimizeOptions,
  type MinimizeResult,
  maximize,
  minimize,
} from "./minimize.js";
export { maximizeProblem, minimizeProblem } from "./minimize-problem.js";
export type { TruncatedConjugateGradientResult } from "./newton-cg.js";
export { minimizeNewtonCg, truncatedConjugateGradient } from "./newton-cg.js";
export type {
  Bounds,
  IterationState,
  OptimizationMethod,
  OptimizationProblem,
  OptimizeOptions,
  OptimizeResult,
  StopReason,
} from "./problem.js";
export { projectedGradientInfinityNorm, projectOntoBox } from "./vector.js";
