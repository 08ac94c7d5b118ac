/**
 * @file TfBlock: one TensorFlow.js graph evaluation on the tape. TensorFlow.js differentiates its own
 * piece: adjoint by its reverse mode, tangent-linear by the double-VJP trick, Hessian action by nested
 * reverse mode where TensorFlow.js gets it right (checked), dense Jacobians by rows or columns.
 */
import * as tf from "@tensorflow/tfjs";
import { EngineLimitError, TsadjointError } from "../../errors.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
} from "../../tape/block.js";
import type { BlockVariable } from "../../tape/block-variable.js";
import { type ArrayRaw, NDArray } from "../../values/ndarray.js";
import { rawShape, rawSize, rawToTensor, tensorToNDArray, tensorToRawLike } from "./convert.js";
import type { TfProgram } from "./graph.js";
import { findUnsafeSecondOrderOp, tapeLength, tapeSince, withGradientCleanup } from "./second-order.js";

const engine = () => tf.engine();

/** What a TfBlock reads: the fed NDArrays / AdjFloats (numbers) in input order, then the weights. */
/** The raw values a TfBlock reads: numbers and NDArrays. */
export type TfBlockInputs = readonly ArrayRaw[];
/** What a TfBlock produces: the chosen graph outputs. */
/** The raw values a TfBlock produces. */
export type TfBlockOutputs = readonly NDArray[];

const TLM_ADVICE =
  " (the tangent-linear mode differentiates TensorFlow.js's own gradient: the double-VJP trick). Gradients " +
  "(adjoint mode) still work; in a function graph, the ops of secondOrderSafe have differentiable gradients.";
const HESSIAN_ADVICE =
  " (a Hessian action differentiates TensorFlow.js's own gradient). Gradients still work; in a function graph, " +
  "the ops of secondOrderSafe have differentiable gradients.";

/** <seed_i, y_i> summed over the outputs that have a seed (and are float); `undefined` when none has one. */
function seededSum(
  outputs: readonly tf.Tensor[],
  seeds: readonly (tf.Tensor | undefined)[],
): tf.Tensor | undefined {
  const terms: tf.Tensor[] = [];
  outputs.forEach((output, index) => {
    const seed = seeds[index];
    if (seed !== undefined && output.dtype === "float32") terms.push(tf.sum(tf.mul(output, seed)));
  });
  if (terms.length === 0) return undefined;
  return terms.length === 1 ? terms[0] : tf.addN(terms);
}

/** Raw seeds (NDArray, number or undefined) as tensors. */
function seedTensors(seeds: readonly (ArrayRaw | undefined)[]): (tf.Tensor | undefined)[] {
  return seeds.map((seed) => (seed === undefined ? undefined : rawToTensor(seed)));
}

/** The tangents of the dependencies `directions` (those with a tangent) as tensors, in that order. */
function tangentTensors(
  tangents: readonly (ArrayRaw | undefined)[],
  directions: readonly number[],
): tf.Tensor[] {
  const tensors: tf.Tensor[] = [];
  for (const index of directions) {
    const tangent = tangents[index];
    if (tangent !== undefined) tensors.push(rawToTensor(tangent));
  }
  return tensors;
}

/** The value the tape holds for a dependency of a TfBlock: an NDArray, or a number for an AdjFloat. */
function savedRaw(variable: BlockVariable, operation: string): ArrayRaw {
  const value = variable.saved;
  if (typeof value === "number" || value instanceof NDArray) return value;
  throw new TsadjointError(`${operation}.jacobian`, "a dependency holds neither an NDArray nor a number");
}

/**
 * The block `runTensorflowGraph` records: dependencies are the fed NDArrays/AdjFloats (in input order)
 * then the model's weights; outputs are the chosen graph outputs as NDArrays. Every mode converts its
 * values to float32 tensors, lets TensorFlow.js compute, reads the results back as float64 and disposes
 * every tensor it created (the count of live tensors does not grow from call to call).
 *
 * Rules, with y = F(x) (all dependencies x, all chosen outputs y):
 * - TLM: ydot = J xdot = d/du <J^T u, xdot> (double VJP: J^T u is linear in u; TensorFlow.js has no forward mode;
 *   a Layers model's elu activations are swapped, as TensorFlow.js cannot differentiate elu's gradient).
 * - Adjoint: xbar = J^T ybar, one reverse pass with the seeds as cotangents.
 * - Hessian: xhat = J^T yhat + d/dx <d/dx <ybar, F(x)>, xdot> (reverse over reverse). Layers models run with
 *   their activations swapped for ops with correct nested gradients; any other op whose TensorFlow.js second
 *   derivative is wrong makes it throw EngineLimitError naming the op, never a wrong number.
 *
 * @example
 * const y = runTensorflowGraph(model, x); // records one TfBlock
 * getWorkingTape().blocks.at(-1) instanceof TfBlock; // true
 */
export class TfBlock extends Block<TfBlockInputs, TfBlockOutputs> {
  constructor(
    /** The graph with its feeds resolved. */
    readonly program: TfProgram,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return `runTensorflowGraph(${this.program.label})`;
  }

  /** Float32 tensors of the dependencies' raw values (create inside tf.tidy). */
  private dependencyTensors(inputs: TfBlockInputs): tf.Tensor[] {
    return inputs.map((raw, index) => rawToTensor(raw, this.program.dependencyDtypes[index]));
  }

  /** Indices of the differentiable dependencies for which `flags[i]` is true. */
  private select(flags: readonly boolean[]): number[] {
    const chosen: number[] = [];
    for (let i = 0; i < flags.length; i++) if (flags[i] && this.program.isDifferentiable(i)) chosen.push(i);
    return chosen;
  }

  recompute({ inputs }: RecomputeContext<TfBlockInputs>): TfBlockOutputs {
    let results: NDArray[] = [];
    tf.tidy(() => {
      results = this.program.run(this.dependencyTensors(inputs)).map(tensorToNDArray);
    });
    return results;
  }

  /** xbar = J^T ybar. */
  override evaluateAdj({
    inputs,
    adjInputs,
    needed,
  }: AdjContext<TfBlockInputs, TfBlockOutputs>): Seeds<TfBlockInputs> {
    const results = new Array<ArrayRaw | undefined>(inputs.length).fill(undefined);
    const wanted = this.select(needed);
    if (wanted.length === 0 || adjInputs.every((seed) => seed === undefined)) return results;
    withGradientCleanup(this.name, ".", () =>
      tf.tidy(() => {
        const dependencies = this.dependencyTensors(inputs);
        const seeds = seedTensors(adjInputs);
        const { grads } = engine().gradients(
          () => seededSum(this.program.run(dependencies), seeds) ?? tf.scalar(0),
          wanted.map((index) => dependencies[index]),
          undefined,
          true,
        );
        wanted.forEach((index, k) => {
          const gradient = grads[k];
          if (gradient !== undefined && gradient !== null)
            results[index] = tensorToRawLike(gradient, inputs[index]);
        });
      }),
    );
    return results;
  }

  /** ydot = J xdot = d/du <J^T u, xdot>. */
  override evaluateTlm({
    inputs,
    outputs,
    tlmInputs,
  }: TlmContext<TfBlockInputs, TfBlockOutputs>): Seeds<TfBlockOutputs> {
    const results = new Array<NDArray | undefined>(outputs.length).fill(undefined);
    const directions = this.select(tlmInputs.map((tangent) => tangent !== undefined));
    if (directions.length === 0) return results;
    withGradientCleanup(this.name, TLM_ADVICE, () =>
      tf.tidy(() => {
        const dependencies = this.dependencyTensors(inputs);
        const tangents = tangentTensors(tlmInputs, directions);
        const values = jacobianVectorProduct(this.program, dependencies, directions, tangents, outputs);
        values.forEach((value, index) => {
          if (value !== undefined) results[index] = tensorToNDArray(value);
        });
      }),
    );
    return results;
  }

  /** xhat = J^T yhat + d/dx <d/dx <ybar, F(x)>, xdot>. */
  override evaluateHessian({
    inputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext<TfBlockInputs, TfBlockOutputs>): Seeds<TfBlockInputs> {
    const results = new Array<ArrayRaw | undefined>(inputs.length).fill(undefined);
    const wanted = this.select(needed);
    const directions = this.select(tlmInputs.map((tangent) => tangent !== undefined));
    const secondOrder = directions.length > 0 && adjInputs.some((seed) => seed !== undefined);
    const firstOrder = hessianInputs.some((seed) => seed !== undefined);
    if (wanted.length === 0 || (!secondOrder && !firstOrder)) return results;
    let unsafe: string | undefined;
    const found = (description: string | undefined) => {
      unsafe = description;
    };
    try {
      withGradientCleanup(this.name, HESSIAN_ADVICE, () =>
        tf.tidy(() => {
          const gradients = this.hessianGradients(
            inputs,
            adjInputs,
            hessianInputs,
            tlmInputs,
            wanted,
            directions,
            found,
          );
          if (unsafe !== undefined) return;
          wanted.forEach((index, k) => {
            const gradient = gradients[k];
            if (gradient !== undefined && gradient !== null)
              results[index] = tensorToRawLike(gradient, inputs[index]);
          });
        }),
      );
    } catch (error) {
      // an op TensorFlow.js cannot differentiate twice may also make TensorFlow.js throw: report the cause
      if (unsafe === undefined) throw error;
    }
    if (unsafe !== undefined) {
      throw new EngineLimitError(
        `${this.name} (Hessian action)`,
        `TensorFlow.js computes the second derivative through ${unsafe} wrongly (its gradient reads the op's saved output, ` +
          "which a nested gradient does not see depend on the input; the result would be silently wrong or an error). " +
          "Fix: in a function graph use the ops of secondOrderSafe (tanh, sigmoid, exp, elu, softmax, logSoftmax) from " +
          "'tsadjoint/tfjs'; a tf.LayersModel's activations are swapped automatically; a GraphModel cannot be fixed. " +
          "Gradients and tangent-linear actions through this graph are correct.",
      );
    }
    return results;
  }

  /**
   * The gradient, with respect to the wanted dependencies, of <yhat, F(x)> + <d/dx_T <ybar, F(x)>, xdot_T>
   * (T: the dependencies with tangents). Reports through `found` an op on the way whose second derivative
   * TensorFlow.js gets wrong. Call inside tf.tidy.
   */
  private hessianGradients(
    inputs: TfBlockInputs,
    adjInputs: Seeds<TfBlockOutputs>,
    hessianInputs: Seeds<TfBlockOutputs>,
    tlmInputs: Seeds<TfBlockInputs>,
    wanted: readonly number[],
    directions: readonly number[],
    found: (description: string | undefined) => void,
  ): (tf.Tensor | null | undefined)[] {
    const dependencies = this.dependencyTensors(inputs);
    const adjointSeeds = seedTensors(adjInputs);
    const hessianSeeds = seedTensors(hessianInputs);
    const tangents = tangentTensors(tlmInputs, directions);
    const differentiated = wanted.map((index) => dependencies[index]);
    const withTangents = directions.map((index) => dependencies[index]);
    const sources = [...new Set([...differentiated, ...withTangents])];
    const secondOrder = directions.length > 0 && adjointSeeds.some((seed) => seed !== undefined);
    let firstOrderTerm: tf.Tensor | undefined;
    try {
      return engine().gradients(
        () => {
          const terms: tf.Tensor[] = [];
          if (secondOrder) {
            const inner = engine().gradients(
              () => {
                const start = tapeLength();
                const outputs = this.program.run(dependencies, "all");
                const nodes = tapeSince(start);
                const seeded = outputs.filter((_, index) => adjointSeeds[index] !== undefined);
                found(
                  nodes === undefined
                    ? "an op this version of TensorFlow.js does not let us check (its gradient tape is not readable)"
                    : findUnsafeSecondOrderOp(nodes, sources, seeded),
                );
                const hessianTerm = seededSum(outputs, hessianSeeds);
                if (hessianTerm !== undefined) firstOrderTerm = tf.keep(hessianTerm);
                return seededSum(outputs, adjointSeeds) ?? tf.scalar(0);
              },
              withTangents,
              undefined,
              true,
            ).grads;
            inner.forEach((gradient, k) => {
              if (gradient !== undefined && gradient !== null)
                terms.push(tf.sum(tf.mul(gradient, tangents[k])));
            });
            if (firstOrderTerm !== undefined) terms.push(firstOrderTerm);
          } else {
            const hessianTerm = seededSum(this.program.run(dependencies), hessianSeeds);
            if (hessianTerm !== undefined) terms.push(hessianTerm);
          }
          return terms.length === 0 ? tf.scalar(0) : tf.addN(terms);
        },
        differentiated,
        undefined,
        true,
      ).grads;
    } finally {
      firstOrderTerm?.dispose();
    }
  }

  /**
   * The dense Jacobian of every output with respect to every dependency, at `inputs` (default: the values
   * the tape holds): `result[o][d]` has shape `[...outputShape, ...dependencyShape]` (zeros for a
   * dependency that is not differentiable). Computed by rows (one reverse pass per output entry) or by
   * columns (one double-VJP per input entry), whichever needs fewer passes.
   *
   * @example
   * const [[dydx]] = block.jacobian(); // output 0 with respect to dependency 0
   */
  jacobian(inputs: TfBlockInputs = this.dependencies.map((d) => savedRaw(d, this.name))): NDArray[][] {
    return denseJacobian(this.program, inputs);
  }
}

/**
 * J v for tangents `tangents` on dependencies `directions`: the gradient with respect to u of <J^T u, v>,
 * at any u (zeros). The graph runs with differentiable gradients (activations swapped), since this
 * differentiates TensorFlow.js's gradient; J^T u is linear in u, so no saved-output op can make it wrong.
 * One tensor (or undefined for zero) per output.
 */
function jacobianVectorProduct(
  program: TfProgram,
  dependencies: readonly tf.Tensor[],
  directions: readonly number[],
  tangents: readonly tf.Tensor[],
  outputs: TfBlockOutputs,
): (tf.Tensor | undefined)[] {
  const cotangents = outputs.map((output) => tf.zeros(output.shape.slice()));
  const { grads } = engine().gradients(
    () => {
      const transposed = engine().gradients(
        () => seededSum(program.run(dependencies, "tangent"), cotangents) ?? tf.scalar(0),
        directions.map((index) => dependencies[index]),
        undefined,
        true,
      ).grads;
      const terms: tf.Tensor[] = [];
      transposed.forEach((gradient, k) => {
        if (gradient !== undefined && gradient !== null) terms.push(tf.sum(tf.mul(gradient, tangents[k])));
      });
      return terms.length === 0 ? tf.scalar(0) : tf.addN(terms);
    },
    cotangents,
    undefined,
    true,
  );
  return grads.map((gradient) => (gradient === null ? undefined : gradient));
}

/**
 * @internal the dense Jacobian of `program` at raw dependency values `inputs` (see TfBlock.jacobian), with
 * respect to the dependencies in `only` (default all; the others get zeros)
 *
 * @example
 * const [[dydx]] = denseJacobian(program, [x.raw()]);
 */
export function denseJacobian(
  program: TfProgram,
  inputs: TfBlockInputs,
  only?: readonly number[],
): NDArray[][] {
  let outputs: NDArray[] = [];
  const dtypes = program.dependencyDtypes;
  const tensorsOf = () => inputs.map((raw, index) => rawToTensor(raw, dtypes[index]));
  tf.tidy(() => {
    outputs = program.run(tensorsOf()).map(tensorToNDArray);
  });
  const differentiable = inputs
    .map((_, index) => index)
    .filter((index) => program.isDifferentiable(index) && (only === undefined || only.includes(index)));
  const inputSizes = inputs.map(rawSize);
  const result = outputs.map((output) => inputs.map((raw) => new Float64Array(output.size * rawSize(raw))));
  const totalOut = outputs.reduce((sum, output) => sum + output.size, 0);
  const totalIn = differentiable.reduce((sum, index) => sum + inputSizes[index], 0);
  if (totalIn > 0 && totalOut > 0) {
    withGradientCleanup(`runTensorflowGraph(${program.label}).jacobian`, TLM_ADVICE, () =>
      fillJacobian(program, tensorsOf, outputs, differentiable, inputSizes, result, totalOut <= 2 * totalIn),
    );
  }
  return outputs.map((output, o) =>
    inputs.map((raw, index) => new NDArray(result[o][index], [...output.shape, ...rawShape(raw)])),
  );
}

/** Fills `result[o][d]` (row-major [...outputShape, ...dependencyShape]) by rows or by columns. */
function fillJacobian(
  program: TfProgram,
  tensorsOf: () => tf.Tensor[],
  outputs: readonly NDArray[],
  differentiable: readonly number[],
  inputSizes: readonly number[],
  result: Float64Array[][],
  byRows: boolean,
): void {
  if (byRows) {
    // rows: one reverse pass per output entry, seeded with a unit cotangent
    outputs.forEach((output, o) => {
      for (let row = 0; row < output.size; row++) {
        tf.tidy(() => {
          const dependencies = tensorsOf();
          const seed = new Float32Array(output.size);
          seed[row] = 1;
          const { grads } = engine().gradients(
            () => tf.sum(tf.mul(program.run(dependencies)[o], tf.tensor(seed, output.shape.slice()))),
            differentiable.map((index) => dependencies[index]),
            undefined,
            true,
          );
          differentiable.forEach((index, k) => {
            const gradient = grads[k];
            if (gradient === undefined || gradient === null) return;
            result[o][index].set(gradient.dataSync(), row * inputSizes[index]);
          });
        });
      }
    });
  } else {
    // columns: one double-VJP per input entry, seeded with a unit tangent
    for (const index of differentiable) {
      for (let column = 0; column < inputSizes[index]; column++) {
        tf.tidy(() => {
          const dependencies = tensorsOf();
          const tangent = new Float32Array(inputSizes[index]);
          tangent[column] = 1;
          const cotangents = outputs.map((output) => tf.zeros(output.shape.slice()));
          const { grads } = engine().gradients(
            () => {
              const transposed = engine().gradients(
                () => seededSum(program.run(dependencies, "tangent"), cotangents) ?? tf.scalar(0),
                [dependencies[index]],
                undefined,
                true,
              ).grads[0];
              if (transposed === undefined || transposed === null) return tf.scalar(0);
              return tf.sum(tf.mul(transposed, tf.tensor(tangent, transposed.shape)));
            },
            cotangents,
            undefined,
            true,
          );
          grads.forEach((gradient, o) => {
            if (gradient === undefined || gradient === null) return;
            const column32 = gradient.dataSync();
            const target = result[o][index];
            for (let row = 0; row < column32.length; row++)
              target[row * inputSizes[index] + column] = column32[row];
          });
        });
      }
    }
  }
}
