/**
 * @file `tsadjoint/jax`: jax-js as a tsadjoint engine. `overloadJax(fn, options)` turns a function written
 * with jax-js into a recorded, differentiable operation on NDArrays (CRIKit's `overload_jax`).
 *
 * Importing this entry installs a placeholder `Float16Array` on Node 20 (jax-js needs the global; Node 22
 * has it) and initialises the jax-js `cpu` and `wasm` backends. Precision limits (read before use):
 * - device "cpu" (default) is exact float64 but slow; device "wasm" is fast but computes exp, log, sin, cos
 *   (and tanh, power, ... built on them) in float32: relative errors of 1e-7 to 1e-5, exp(x) = Infinity from
 *   x = 88.7, exp(x) = 0 below x = -88, log(x) = -Infinity below 1.2e-38;
 * - under `jit` (default) a JS-number constant in the function is rounded to float32 (x * 0.1 is off by
 *   1.5e-8 relative): write `x.mul(f64(0.1))`;
 * - jax-js's own jacrev/jacfwd/hessian are not used (wrong for non-square maps or leaking in 0.1.25):
 *   Jacobians are built from vmapped vjp/jvp.
 * Memory: every jax-js array a block creates is disposed; a kept pullback is released with its block
 * (FinalizationRegistry), by `block.dispose()` or by `releaseJaxResources(tape)`; compiled kernels by
 * `overloaded.dispose()`. If jax-js itself fails in the middle of a trace (an EngineLimitError), arrays the
 * user's function created before the failure cannot be reached and stay allocated.
 *
 * @module tsadjoint/jax
 */
import "./float16-shim.js";
// AdjFloat's arithmetic methods record through the elementwise operations, registered when they load
import "../../ops/elementwise.js";

export {
  type JacobianOptions,
  JaxBlock,
  type JaxBlockInputs,
  type JaxBlockOutputs,
  releaseJaxResources,
} from "./block.js";
export {
  type JaxFunction,
  type OverloadedJaxArguments,
  type OverloadedJaxFunction,
  type OverloadedJaxInput,
  type OverloadedJaxResult,
  type OverloadJaxOptions,
  overloadJax,
} from "./overload-jax.js";
export type { JaxOutput, StaticValue } from "./program.js";
export { f64, type JaxArray, type JaxDevice, jaxDevices } from "./runtime.js";
