/**
 * @file The overload_jax example of CRIKit's documentation in TypeScript: f(x, y) = exp(tr(x y)) written with
 * jax-js, differentiated by tsadjoint through one JaxBlock; Taylor tests of a ReducedFunction and of a
 * ReducedFunctional; the cpu (exact) and wasm (fast, float32 exp) devices side by side.
 *
 * Run: `node --conditions=tsadjoint-source --import tsx examples/jax-seed.ts`
 */
import { type Array as JaxArray, numpy as jnp } from "@jax-js/jax";
import {
  Control,
  type NDArray,
  np,
  ReducedFunction,
  ReducedFunctional,
  Tape,
  taylorTest,
  withTape,
} from "tsadjoint";
import { type JaxDevice, overloadJax } from "tsadjoint/jax";

/** f(x, y) = exp(tr(x @ y)), differentiated with respect to both arguments. */
function myFunc(x: JaxArray, y: JaxArray): JaxArray {
  return jnp.exp(jnp.trace(jnp.matmul(x, y)));
}

/** What `jaxSeed` computes. */
export interface JaxSeedResult {
  /** The random inputs x and y, flattened row-major. */
  inputs: [number[], number[]];
  /** f at the random inputs (cpu device). */
  value: number;
  /** The same value on the wasm device and its relative difference from the cpu value. */
  wasmValue: number;
  wasmRelativeDifference: number;
  /** df/dx and df/dy, flattened row-major. */
  gradient: [number[], number[]];
  /** Taylor rates: the ReducedFunction's first-order remainder (about 2), the functional's with the Hessian (about 3). */
  taylorRate: number;
  taylorRateHessian: number;
  /** Blocks on the tape (one JaxBlock). */
  blocks: string[];
}

/**
 * Records f(x, y) on two random 3x3 inputs through `overloadJax` (checkpointing: the linearization is
 * recomputed in the reverse sweep) and differentiates it.
 *
 * @example
 * const { taylorRate } = jaxSeed(); // >= 1.9
 */
export function jaxSeed(seed = 2024): JaxSeedResult {
  const rng = np.random.default_rng(seed);
  const inputs: [NDArray, NDArray] = [rng.normal(0, 0.5, [3, 3]), rng.normal(0, 0.5, [3, 3])];
  const values: Record<JaxDevice, number> = { cpu: 0, wasm: 0 };
  let result: Omit<JaxSeedResult, "inputs" | "value" | "wasmValue" | "wasmRelativeDifference"> | undefined;
  for (const device of ["cpu", "wasm"] as const) {
    const f = overloadJax(myFunc, { argnums: [0, 1], checkpoint: true, device });
    const tape = new Tape();
    const output = withTape(tape, () => f(...inputs));
    values[device] = output.item();
    if (device === "cpu") {
      const controls = inputs.map((x) => new Control(x));
      const h = inputs.map((x) => rng.normal(0, 0.1, x.shape.slice()));
      const rf = new ReducedFunction(output, controls, { tape });
      const functional = new ReducedFunctional(output, controls, { tape });
      const gradient = functional.derivative();
      result = {
        gradient: [Array.from(gradient[0].data), Array.from(gradient[1].data)],
        taylorRate: taylorTest(rf, inputs, h),
        taylorRateHessian: taylorTest(functional, inputs, h, { hessian: true }),
        blocks: tape.blocks.map((block) => block.name),
      };
    }
    f.dispose();
  }
  return {
    inputs: [Array.from(inputs[0].data), Array.from(inputs[1].data)],
    value: values.cpu,
    wasmValue: values.wasm,
    wasmRelativeDifference: Math.abs(values.wasm - values.cpu) / Math.abs(values.cpu),
    ...(result as Omit<JaxSeedResult, "inputs" | "value" | "wasmValue" | "wasmRelativeDifference">),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = jaxSeed();
  console.log("f(x, y) = exp(tr(x @ y)) through overloadJax, x and y random 3x3");
  console.log(`  f (cpu, exact float64)      = ${result.value}`);
  console.log(
    `  f (wasm, float32 exp)       = ${result.wasmValue}   (relative difference ${result.wasmRelativeDifference.toExponential(1)})`,
  );
  console.log(`  df/dx                       = [${result.gradient[0].map((g) => g.toFixed(6)).join(", ")}]`);
  console.log(`  df/dy                       = [${result.gradient[1].map((g) => g.toFixed(6)).join(", ")}]`);
  console.log(`  Taylor rate (ReducedFunction)         = ${result.taylorRate.toFixed(4)}   (about 2)`);
  console.log(`  Taylor rate (with the Hessian action) = ${result.taylorRateHessian.toFixed(4)}   (about 3)`);
  console.log(`  blocks on the tape          = ${result.blocks.join(", ")}`);
}
