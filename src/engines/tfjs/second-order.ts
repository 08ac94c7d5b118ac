/**
 * @file Second derivatives through TensorFlow.js: operations whose nested gradients are right, the swap of
 * a LayersModel's activations for them, and the check that refuses a graph whose second derivative
 * TensorFlow.js would get wrong.
 *
 * Why: the gradient kernels of Tanh, Exp, Sigmoid, Elu, Softmax, LogSoftmax, Pow (in its exponent) and LRN
 * read the op's saved OUTPUT. TensorFlow.js saves that output as a clone recorded on the tape before the op
 * itself, so an outer gradient does not see it depend on the input: a nested gradient (a Hessian action)
 * throws or silently drops the term (x * tanh(x) comes out wrong without any error).
 */
import * as tf from "@tensorflow/tfjs";
import { EngineLimitError, TsadjointError } from "../../errors.js";

/** A tensor function of one tensor. */
export type UnaryTensorOp = (x: tf.Tensor) => tf.Tensor;

/**
 * A unary op whose gradient is computed from the saved INPUT by calling `derivative` (which may call the
 * op itself again): differentiable to any order.
 */
function unaryFromInput(
  forward: UnaryTensorOp,
  derivative: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor,
): UnaryTensorOp {
  // TensorFlow.js calls the body with the op's input tensor followed by the save function
  const body = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args;
    if (!(x instanceof tf.Tensor) || typeof save !== "function") {
      throw new TsadjointError(
        "secondOrderSafe",
        "tf.customGrad called the op without its input and save function",
      );
    }
    save([x]);
    return { value: forward(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => derivative(dy, saved[0]) };
  };
  const op = tf.customGrad(body);
  return (x: tf.Tensor) => op(x);
}

/** e^x. Rule: d/dx e^x = e^x, recomputed from x. */
const exp: UnaryTensorOp = unaryFromInput(
  (x) => tf.exp(x),
  (dy, x) => tf.mul(dy, exp(x)),
);

/** tanh x. Rule: d/dx tanh x = 1 - tanh^2 x, recomputed from x. */
const tanh: UnaryTensorOp = unaryFromInput(
  (x) => tf.tanh(x),
  (dy, x) => {
    const t = tanh(x);
    return tf.mul(dy, tf.sub(1, tf.mul(t, t)));
  },
);

/** sigmoid x = 1 / (1 + e^-x). Rule: d/dx sigmoid x = s (1 - s), s recomputed from x. */
const sigmoid: UnaryTensorOp = unaryFromInput(
  (x) => tf.sigmoid(x),
  (dy, x) => {
    const s = sigmoid(x);
    return tf.mul(dy, tf.mul(s, tf.sub(1, s)));
  },
);

/**
 * elu x = x for x > 0, e^x - 1 otherwise. Rule: d/dx elu x = 1 + step(-x) (e^-relu(-x) - 1), built from
 * ops with input-based gradients (TensorFlow.js has no gradient for the comparisons min/max use).
 */
const elu: UnaryTensorOp = unaryFromInput(
  (x) => tf.elu(x),
  (dy, x) => {
    const negative = tf.neg(x);
    return tf.mul(dy, tf.add(1, tf.mul(tf.step(negative), tf.sub(exp(tf.neg(tf.relu(negative))), 1))));
  },
);

const softmaxByAxis = new Map<number, UnaryTensorOp>();
const logSoftmaxByAxis = new Map<number, UnaryTensorOp>();

/** softmax along `axis`. Rule: xbar = y (ybar - sum(ybar y)), y recomputed from x. */
function softmax(x: tf.Tensor, axis = -1): tf.Tensor {
  let op = softmaxByAxis.get(axis);
  if (op === undefined) {
    const created: UnaryTensorOp = unaryFromInput(
      (input) => tf.softmax(input, axis),
      (dy, input) => {
        const y = created(input);
        return tf.mul(y, tf.sub(dy, tf.sum(tf.mul(dy, y), axis, true)));
      },
    );
    op = created;
    softmaxByAxis.set(axis, op);
  }
  return op(x);
}

/** log softmax along `axis`. Rule: xbar = ybar - softmax(x) sum(ybar). */
function logSoftmax(x: tf.Tensor, axis = -1): tf.Tensor {
  let op = logSoftmaxByAxis.get(axis);
  if (op === undefined) {
    op = unaryFromInput(
      (input) => tf.logSoftmax(input, axis),
      (dy, input) => tf.sub(dy, tf.mul(softmax(input, axis), tf.sum(dy, axis, true))),
    );
    logSoftmaxByAxis.set(axis, op);
  }
  return op(x);
}

/**
 * Drop-in replacements for the TensorFlow.js ops whose second derivatives TensorFlow.js gets wrong. Same
 * values; their gradients are computed from the input, so nested gradients (Hessian actions) are right to
 * any order. Use them in function graphs given to `runTensorflowGraph` when you need `rf.hessian`.
 *
 * @example
 * const graph = (x: tf.Tensor) => tf.mul(x, secondOrderSafe.tanh(x)); // Hessian-ready x tanh(x)
 */
export const secondOrderSafe = {
  /** e^x. */
  exp,
  /** tanh x. */
  tanh,
  /** 1 / (1 + e^-x). */
  sigmoid,
  /** x for x > 0, e^x - 1 otherwise. */
  elu,
  /** softmax along `axis` (default -1). */
  softmax,
  /** log softmax along `axis` (default -1). */
  logSoftmax,
} as const;

/** What a layer's activation object looks like to us. */
interface ActivationLike {
  getClassName(): string;
  apply(x: tf.Tensor, option?: number): tf.Tensor;
}

/**
 * Replacement `apply` functions for the layer activations (by class name) that use ops with wrong second
 * derivatives (tanh, sigmoid, exp, softmax) or with no gradient of their gradient (min/max/clip comparisons).
 */
const safeActivations: Record<string, (x: tf.Tensor, option?: number) => tf.Tensor> = {
  tanh: (x) => tanh(x),
  sigmoid: (x) => sigmoid(x),
  elu: (x) => elu(x),
  relu6: (x) => tf.sub(tf.relu(x), tf.relu(tf.sub(x, 6))),
  hardSigmoid: (x) => tf.sub(tf.relu(tf.add(tf.mul(0.2, x), 0.5)), tf.relu(tf.sub(tf.mul(0.2, x), 0.5))),
  softmax: (x, axis = -1) => softmax(x, axis),
  logSoftmax: (x, axis = -1) => logSoftmax(x, axis),
  swish: (x, alpha = 1) => tf.mul(sigmoid(tf.mul(x, alpha)), x),
  mish: (x) => tf.mul(x, tanh(tf.softplus(x))),
  geluNew: (x) =>
    tf.mul(
      0.5,
      tf.mul(
        x,
        tf.add(1, tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.square(x))))))),
      ),
    ),
};

/**
 * Which activations to swap: "tangent" swaps those whose TensorFlow.js gradient cannot be differentiated
 * at all (elu: EluGrad has no gradient), which the double-VJP tangent-linear mode needs; "all" also swaps
 * those whose second derivative TensorFlow.js gets wrong or cannot give (for Hessian actions).
 */
export type ActivationSwap = "none" | "tangent" | "all";

const tangentSwaps = new Set(["elu"]);

/** Whether `value` is an object, read and written by property name (a layer, a cell, an activation). */
function isObjectRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isActivation(value: unknown): value is ActivationLike {
  return (
    isObjectRecord(value) && typeof value.getClassName === "function" && typeof value.apply === "function"
  );
}

/**
 * Replaces, on every layer of `model` (nested models, RNN cells and wrapped layers included), each
 * activation that uses an op with a wrong (or missing) TensorFlow.js second derivative by the same function
 * built from `secondOrderSafe` ops (only those `swap` selects). The new activation's class name is not one TensorFlow.js fuses, so layers apply
 * it unfused. Returns the function that puts the original activations back.
 *
 * @example
 * const restore = swapToSafeActivations(model); try { model.apply(x); } finally { restore(); }
 */
export function swapToSafeActivations(model: tf.LayersModel, swap: ActivationSwap = "all"): () => void {
  if (swap === "none") return () => {};
  const restores: (() => void)[] = [];
  const seen = new Set<object>();
  const visit = (node: unknown): void => {
    if (!isObjectRecord(node) || seen.has(node)) return;
    seen.add(node);
    const holder = node;
    for (const key of ["activation", "recurrentActivation"]) {
      const original = holder[key];
      if (!isActivation(original)) continue;
      const className = original.getClassName();
      const replacement = safeActivations[className];
      if (replacement === undefined || (swap === "tangent" && !tangentSwaps.has(className))) continue;
      const hadOwn = Object.hasOwn(holder, key);
      holder[key] = Object.create(original, {
        apply: { value: replacement },
        getClassName: { value: () => `tsadjointSecondOrderSafe_${className}` },
      });
      restores.push(() => {
        if (hadOwn) holder[key] = original;
        else delete holder[key];
      });
    }
    for (const key of ["cell", "layer", "forwardLayer", "backwardLayer"]) visit(holder[key]);
    for (const key of ["cells", "layers"]) {
      const list = holder[key];
      if (Array.isArray(list)) for (const item of list) visit(item);
    }
  };
  visit(model);
  return () => {
    for (let i = restores.length - 1; i >= 0; i--) restores[i]();
  };
}

/**
 * The engine state the second-order check and the cleanup read. tfjs-core types `activeTape` as a list, but
 * it is `null` whenever no gradient is being recorded (TensorFlow.js itself resets it to null).
 */
interface GradientState {
  activeTape: TapeNodeLike[] | null;
  gradientDepth: number;
}

function gradientState(): GradientState {
  return tf.engine().state;
}

/** One node of TensorFlow.js's gradient tape (its internal record of an executed op). */
interface TapeNodeLike {
  kernelName: string;
  inputs: Record<string, tf.Tensor | undefined>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: unknown;
}

/** Kernels that save their output only to build a 0/1 mask (max, min): the mask's derivative is zero. */
const maskKernels = new Set(["Max", "Min"]);
/** Custom-gradient ops of TensorFlow.js that save their output but fuse only a linear activation while recording, where the gradient ignores it. */
const fusedScopePattern = /^fused(MatMul|Conv2d|DepthwiseConv2d)/i;

/**
 * The TensorFlow.js op tape nodes recorded since `start`, or `undefined` when this version of
 * TensorFlow.js does not expose its tape (then nothing can be verified).
 *
 * @example
 * const start = tapeLength(); const y = f(x); const nodes = tapeSince(start);
 */
export function tapeSince(start: number): TapeNodeLike[] | undefined {
  const tape = gradientState().activeTape;
  return Array.isArray(tape) ? tape.slice(start) : undefined;
}

/**
 * Runs `fn` (which calls TensorFlow.js gradient functions); if it throws, releases what TensorFlow.js
 * leaves behind when a gradient call fails (the outermost tape and the tensors its nodes saved) and
 * turns "no gradient for op X" into an EngineLimitError for `operation` with `advice`.
 *
 * @example
 * withGradientCleanup("runTensorflowGraph", "", () => tf.grad(f)(x));
 */
export function withGradientCleanup<T>(operation: string, advice: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const state = gradientState();
    if (state.gradientDepth === 0 && Array.isArray(state.activeTape)) {
      for (const node of state.activeTape) for (const tensor of node.saved ?? []) tensor.dispose();
      state.activeTape = null;
    }
    const missing = /gradient function not found for (\w+)/.exec(String(messageOf(error)));
    if (missing !== null) {
      throw new EngineLimitError(
        operation,
        `TensorFlow.js has no gradient for the op ${missing[1]}, which this derivative needs${advice}`,
      );
    }
    throw error;
  }
}

/** The `message` of a thrown value (`undefined` when it has none). */
function messageOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "message" in error ? error.message : undefined;
}

/**
 * The length of TensorFlow.js's active gradient tape (0 when none is recording).
 *
 * @example
 * const start = tapeLength();
 */
export function tapeLength(): number {
  const tape = gradientState().activeTape;
  return Array.isArray(tape) ? tape.length : 0;
}

/**
 * Finds the first op in `nodes` (a forward pass recorded under a gradient tape) whose second derivative
 * TensorFlow.js computes wrongly and that lies between `sources` and `targets`. Returns a description of
 * the op, or `undefined` when every op on the way is safe.
 *
 * A registered kernel is unsafe when its gradient saves its output (except the masks of max/min, and pow
 * when its exponent does not depend on the sources); a custom-gradient op is unsafe when it saves
 * anything but its own inputs (except TensorFlow.js's fused linear matmul/conv).
 *
 * @example
 * findUnsafeSecondOrderOp(tapeSince(start) ?? [], [x], [y]); // "Tanh" for y = x * tanh(x)
 */
export function findUnsafeSecondOrderOp(
  nodes: readonly TapeNodeLike[],
  sources: readonly tf.Tensor[],
  targets: readonly tf.Tensor[],
): string | undefined {
  const reached = new Set<number>(sources.map((t) => t.id));
  const forward: boolean[] = new Array(nodes.length).fill(false);
  const producer = new Map<number, TapeNodeLike>();
  nodes.forEach((node, index) => {
    for (const output of node.outputs) producer.set(output.id, node);
    for (const input of Object.values(node.inputs)) {
      if (input !== undefined && input !== null && reached.has(input.id)) {
        forward[index] = true;
        break;
      }
    }
    if (forward[index]) for (const output of node.outputs) reached.add(output.id);
  });
  const needed = new Set<number>(targets.map((t) => t.id));
  const relevant: boolean[] = new Array(nodes.length).fill(false);
  for (let index = nodes.length - 1; index >= 0; index--) {
    const node = nodes[index];
    if (!node.outputs.some((output) => needed.has(output.id))) continue;
    for (const input of Object.values(node.inputs))
      if (input !== undefined && input !== null) needed.add(input.id);
    relevant[index] = forward[index];
  }
  for (let index = 0; index < nodes.length; index++) {
    if (!relevant[index]) continue;
    const node = nodes[index];
    const config = tf.getGradient(node.kernelName);
    if (config !== undefined && config !== null) {
      const savesOutput = (config.outputsToSave ?? []).some(Boolean);
      if (!savesOutput || maskKernels.has(node.kernelName)) continue;
      if (node.kernelName === "Pow") {
        const exponent = node.inputs["b"];
        if (exponent === undefined || !reached.has(exponent.id)) continue;
        return "Pow (a power whose exponent depends on the differentiated values)";
      }
      return node.kernelName;
    }
    if (node.gradient === undefined || fusedScopePattern.test(node.kernelName)) continue;
    const inputIds = new Set<number>();
    for (const input of Object.values(node.inputs))
      if (input !== undefined && input !== null) inputIds.add(input.id);
    for (const saved of node.saved ?? []) {
      const source = producer.get(saved.id)?.inputs["x"];
      if (source === undefined || !inputIds.has(source.id)) {
        return `a custom-gradient op (${node.kernelName || "unnamed scope"}) that saves a value other than its inputs`;
      }
    }
  }
  return undefined;
}
