/**
 * @file BlockVariable: one value as the tape saw it, with its adjoint, tangent-linear and Hessian slots.
 * The class lives in `block.ts` beside Block (each names the other); this module keeps its import path.
 */
export { BlockVariable, droppedValues } from "./block.js";
