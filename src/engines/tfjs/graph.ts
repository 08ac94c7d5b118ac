/**
 * @file TfProgram: a TensorFlow.js graph (Layers model, graph model or tensor function) with its feeds
 * resolved, evaluated as a pure function of the tensors of its dependencies (fed values, then weights).
 */
import * as tf from "@tensorflow/tfjs";
import { InvalidArgumentError } from "../../errors.js";
import { AdjFloat } from "../../values/adj-float.js";
import { NDArray } from "../../values/ndarray.js";
import { type FeedDtype, type RawValue, rawToTensor } from "./convert.js";
import { type ActivationSwap, swapToSafeActivations } from "./second-order.js";
import {
  checkWeights,
  graphWeightNames,
  layerVariables,
  modelWeights,
  type TfGraphModel,
} from "./weights.js";

/** A function of tensors used as a graph: positional tensor inputs; one tensor, a list or a named map out. */
export type TfGraphFunction = (...inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;

/** What `runTensorflowGraph` evaluates. */
export type TfGraph = tf.LayersModel | TfGraphModel | TfGraphFunction;

/**
 * One fed value: an NDArray or AdjFloat (recorded as a dependency, so it can be a control) or a plain
 * number (a constant).
 */
export type TfFeedValue = NDArray | AdjFloat | number;

/**
 * The feeds: one value (a graph with one input), a list in input order, or values by input name (a plain
 * object or a Map; a Map may also use a Layers model's symbolic inputs `model.inputs[i]` as keys).
 */
export type TfFeeds =
  | TfFeedValue
  | readonly TfFeedValue[]
  | ReadonlyMap<string | tf.SymbolicTensor, TfFeedValue>
  | { readonly [name: string]: TfFeedValue };

/** An output chosen by name (Layers model output name, graph node or signature name, returned map key) or by index. */
export type TfOutputKey = string | number;

/** One graph input: a dependency's tensor or a constant (with the input's element type). */
type FeedSlot =
  | { readonly dependency: number; readonly dtype: FeedDtype }
  | { readonly dependency: undefined; readonly constant: RawValue; readonly dtype: FeedDtype };

/** How one kind of graph runs on tensors. */
interface GraphRunner {
  readonly label: string;
  /** All outputs of the graph (or only `names` when the graph can compute a subset). */
  run(
    inputs: tf.Tensor[],
    weights: tf.Tensor[],
    swap: ActivationSwap,
    names: string[] | undefined,
  ): tf.Tensor[];
  /** Output names in output order, when known before running. */
  readonly outputNames: readonly string[] | undefined;
  /** Whether `run` can compute a named subset of the outputs (a graph model). */
  readonly subsets: boolean;
}

/**
 * A graph with its feeds resolved: `run` maps the tensors of the dependencies (the fed overloaded values
 * in input order, then the model's weights) to the chosen outputs. It creates tensors; call it inside
 * `tf.tidy` or a gradient function.
 *
 * @example
 * const { program, dependencies } = buildProgram(model, x, {}, "runTensorflowGraph");
 * tf.tidy(() => program.run(dependencies.map((d) => rawToTensor(d.raw())))[0].shape);
 */
export class TfProgram {
  /** The chosen outputs' names (indices as strings for unnamed outputs); set after the first run. */
  outputNames: string[] = [];
  private chosenIndices: number[] | undefined;

  constructor(
    private readonly runner: GraphRunner,
    private readonly slots: readonly FeedSlot[],
    /** Indices of the weight dependencies, in weight order. */
    private readonly weightDependencies: readonly number[],
    /** Per dependency: the element type its tensor is created with (float32 unless an integer input). */
    readonly dependencyDtypes: readonly FeedDtype[],
    private readonly outputKeys: readonly TfOutputKey[] | undefined,
  ) {}

  /** Per dependency: whether it is differentiable (a float32 input or a weight). */
  isDifferentiable(index: number): boolean {
    return this.dependencyDtypes[index] === "float32";
  }

  /** A label for messages and the tape (the model's name or the function's name). */
  get label(): string {
    return this.runner.label;
  }

  /**
   * The chosen outputs as tensors, from the dependencies' tensors. With `swap`, a Layers model runs
   * with its activations swapped for ops whose nested gradients are right (same values).
   */
  run(dependencies: readonly tf.Tensor[], swap: ActivationSwap = "none"): tf.Tensor[] {
    const inputs = this.slots.map((slot) =>
      slot.dependency !== undefined ? dependencies[slot.dependency] : rawToTensor(slot.constant, slot.dtype),
    );
    const weights = this.weightDependencies.map((index) => dependencies[index]);
    if (this.runner.subsets && this.outputKeys !== undefined) {
      const names = this.outputKeys.map((key) =>
        typeof key === "number" ? this.nameAt(key, this.runner.outputNames ?? []) : key,
      );
      const outputs = this.runner.run(inputs, weights, swap, names);
      this.outputNames = names;
      return outputs;
    }
    const all = this.runner.run(inputs, weights, swap, undefined);
    const chosen = this.chosenIndices ?? this.choose(all.length);
    return chosen.map((index) => all[index]);
  }

  private nameAt(index: number, names: readonly string[]): string {
    if (!Number.isInteger(index) || index < 0 || index >= names.length) {
      throw new InvalidArgumentError(
        "runTensorflowGraph",
        `output index ${index} is out of range: the graph has ${names.length} outputs (${names.join(", ")})`,
      );
    }
    return names[index];
  }

  private choose(count: number): number[] {
    const names = this.runner.outputNames ?? Array.from({ length: count }, (_, i) => String(i));
    const keys = this.outputKeys ?? names.map((_, i) => i);
    this.chosenIndices = keys.map((key) => {
      if (typeof key === "number") {
        this.nameAt(key, names);
        return key;
      }
      const index = names.indexOf(key);
      if (index < 0) {
        throw new InvalidArgumentError(
          "runTensorflowGraph",
          `no output named '${key}'; the graph's outputs are ${names.map((n) => `'${n}'`).join(", ")}`,
        );
      }
      return index;
    });
    this.outputNames = this.chosenIndices.map((index) => names[index]);
    return this.chosenIndices;
  }
}

/** What `buildProgram` returns: the program and the overloaded values it depends on, in order. */
export interface BuiltProgram {
  readonly program: TfProgram;
  readonly dependencies: readonly (NDArray | AdjFloat)[];
  /** How many of the dependencies are fed values (the rest are the model's weights). */
  readonly feedCount: number;
}

/** @internal the options buildProgram reads */
export interface ProgramOptions {
  readonly outputs?: TfOutputKey | readonly TfOutputKey[];
  readonly weights?: readonly NDArray[];
}

/**
 * @internal resolves the graph kind, its inputs, feeds, weights and chosen outputs
 *
 * @example
 * const { program, dependencies, feedCount } = buildProgram(model, { input: x }, {}, "runTensorflowGraph");
 */
export function buildProgram(
  graph: TfGraph,
  feeds: TfFeeds,
  options: ProgramOptions,
  operation: string,
): BuiltProgram {
  const outputKeys = options.outputs === undefined ? undefined : keyList(options.outputs);
  if (outputKeys !== undefined) {
    for (const key of outputKeys) {
      if (typeof key !== "string" && typeof key !== "number") {
        throw new InvalidArgumentError(operation, "options.outputs must be output names or indices");
      }
    }
  }
  let runner: GraphRunner;
  let inputNames: string[];
  let inputDtypes: FeedDtype[];
  let symbolicInputs: readonly tf.SymbolicTensor[] = [];
  let weights: readonly NDArray[] = [];
  if (graph instanceof tf.LayersModel) {
    // a fresh tf.sequential names its inputs only once built
    if (graph instanceof tf.Sequential && graph.inputNames.length === 0) graph.build();
    const variables = layerVariables(graph, operation);
    weights = options.weights ?? modelWeights(graph);
    checkWeights(graph, weights, operation);
    symbolicInputs = graph.inputs;
    inputNames = graph.inputNames.slice();
    inputDtypes = graph.inputs.map((input) => feedDtype(input.dtype));
    runner = layersRunner(graph, variables);
  } else if (graph instanceof tf.GraphModel) {
    weights = options.weights ?? modelWeights(graph);
    checkWeights(graph, weights, operation);
    inputNames = graph.inputNodes.slice();
    inputDtypes = graph.inputs.map((input) => feedDtype(input.dtype));
    runner = graphModelRunner(graph);
  } else if (typeof graph === "function") {
    if (options.weights !== undefined) {
      throw new InvalidArgumentError(
        operation,
        "options.weights is for models; a function graph takes every tensor it differentiates as an input",
      );
    }
    const count = Array.isArray(feeds) ? feeds.length : 1;
    inputNames = Array.from({ length: count }, (_, i) => String(i));
    inputDtypes = inputNames.map(() => "float32");
    runner = functionRunner(graph);
  } else {
    throw new InvalidArgumentError(
      operation,
      "the graph must be a tf.LayersModel, a tf.GraphModel or a function of tensors",
    );
  }
  const fed = resolveFeeds(feeds, inputNames, symbolicInputs, operation);
  const dependencies: (NDArray | AdjFloat)[] = [];
  const dependencyDtypes: FeedDtype[] = [];
  const slots: FeedSlot[] = fed.map((value, index) => {
    const dtype = inputDtypes[index];
    if (value instanceof NDArray || value instanceof AdjFloat) {
      dependencies.push(value);
      dependencyDtypes.push(dtype);
      return { dependency: dependencies.length - 1, dtype };
    }
    return { dependency: undefined, constant: value, dtype };
  });
  const feedCount = dependencies.length;
  const weightDependencies = weights.map((weight) => {
    dependencies.push(weight);
    dependencyDtypes.push("float32");
    return dependencies.length - 1;
  });
  const program = new TfProgram(runner, slots, weightDependencies, dependencyDtypes, outputKeys);
  return { program, dependencies, feedCount };
}

/** The chosen outputs as a list. */
function keyList(outputs: TfOutputKey | readonly TfOutputKey[]): readonly TfOutputKey[] {
  return isKeyList(outputs) ? outputs : [outputs];
}

function isKeyList(outputs: TfOutputKey | readonly TfOutputKey[]): outputs is readonly TfOutputKey[] {
  return Array.isArray(outputs);
}

function feedDtype(dtype: string | undefined): FeedDtype {
  if (dtype === "int32" || dtype === "DT_INT32") return "int32";
  if (dtype === "bool" || dtype === "DT_BOOL") return "bool";
  return "float32";
}

function isFeedValue(value: unknown): value is TfFeedValue {
  return typeof value === "number" || value instanceof NDArray || value instanceof AdjFloat;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}

/** The fed value of each graph input, in input order. */
function resolveFeeds(
  feeds: TfFeeds,
  inputNames: readonly string[],
  symbolicInputs: readonly tf.SymbolicTensor[],
  operation: string,
): TfFeedValue[] {
  const expected = `the graph's inputs are ${inputNames.map((n) => `'${n}'`).join(", ")}`;
  let values: unknown[];
  if (isFeedValue(feeds)) {
    if (inputNames.length !== 1) {
      throw new InvalidArgumentError(
        operation,
        `one value was fed but the graph has ${inputNames.length} inputs; feed a list or values by name (${expected})`,
      );
    }
    values = [feeds];
  } else if (Array.isArray(feeds)) {
    if (feeds.length !== inputNames.length) {
      throw new InvalidArgumentError(
        operation,
        `${feeds.length} values were fed but the graph has ${inputNames.length} inputs (${expected})`,
      );
    }
    values = feeds.slice();
  } else if (feeds instanceof Map || (typeof feeds === "object" && feeds !== null)) {
    const entries: [string | tf.SymbolicTensor, unknown][] =
      feeds instanceof Map ? [...feeds.entries()] : Object.entries(feeds);
    values = new Array(inputNames.length);
    const given = new Array<boolean>(inputNames.length).fill(false);
    for (const [key, value] of entries) {
      let index = -1;
      if (typeof key === "string") {
        index = inputNames.indexOf(key);
        if (index < 0) index = symbolicInputs.findIndex((input) => input.name === key);
        if (index < 0 && key.endsWith(":0")) index = inputNames.indexOf(key.slice(0, -2));
      } else {
        index = symbolicInputs.indexOf(key);
      }
      if (index < 0) {
        throw new InvalidArgumentError(
          operation,
          `the feed key ${typeof key === "string" ? `'${key}'` : describe(key)} is not an input of the graph (${expected})`,
        );
      }
      values[index] = value;
      given[index] = true;
    }
    const missing = inputNames.filter((_, i) => !given[i]);
    if (missing.length > 0) {
      throw new InvalidArgumentError(
        operation,
        `no value fed for input(s) ${missing.join(", ")} (${expected})`,
      );
    }
  } else {
    throw new InvalidArgumentError(operation, `cannot use ${describe(feeds)} as feeds`);
  }
  const fed = new Array<TfFeedValue>(values.length);
  values.forEach((value, index) => {
    if (!isFeedValue(value)) {
      throw new InvalidArgumentError(
        operation,
        `the value fed to input '${inputNames[index]}' is ${describe(value)}; feed an NDArray (np.array(...)), an AdjFloat or a number`,
      );
    }
    fed[index] = value;
  });
  return fed;
}

/**
 * The outputs of a Layers model applied to tensors (it returns symbolic tensors only for symbolic inputs,
 * which the adapter never gives it).
 */
function tensorList(output: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[]): tf.Tensor[] {
  const list = Array.isArray(output) ? output : [output];
  const tensors: tf.Tensor[] = [];
  for (const item of list) {
    if (!(item instanceof tf.Tensor)) {
      throw new InvalidArgumentError(
        "runTensorflowGraph",
        "the model gave a symbolic output for tensor inputs",
      );
    }
    tensors.push(item);
  }
  return tensors;
}

interface ReadableVariable {
  read(): tf.Tensor;
}

/** A Layers model applied with its weight reads redirected to the given tensors. */
function layersRunner(model: tf.LayersModel, variables: readonly ReadableVariable[]): GraphRunner {
  return {
    label: model.name,
    outputNames: model.outputNames.slice(),
    subsets: false,
    run(inputs, weights, swap) {
      const hadOwn = variables.map((variable) => Object.hasOwn(variable, "read"));
      const originals = variables.map((variable) => variable.read);
      variables.forEach((variable, index) => {
        const weight = weights[index];
        variable.read = () => weight;
      });
      const restoreActivations = swap === "none" ? undefined : swapToSafeActivations(model, swap);
      try {
        return tensorList(model.apply(inputs.length === 1 ? inputs[0] : inputs));
      } finally {
        restoreActivations?.();
        variables.forEach((variable, index) => {
          if (hadOwn[index]) variable.read = originals[index];
          else Reflect.deleteProperty(variable, "read");
        });
      }
    },
  };
}

/** A graph model executed with its weight map entries swapped for the given tensors. */
function graphModelRunner(model: TfGraphModel): GraphRunner {
  const names = graphWeightNames(model);
  const inputNodes = model.inputNodes.slice();
  return {
    label: "GraphModel",
    outputNames: model.outputNodes.slice(),
    subsets: true,
    run(inputs, weights, _swap, outputNames) {
      const map = model.weights;
      const originals = names.map((name) => map[name]);
      names.forEach((name, index) => {
        map[name] = [weights[index]];
      });
      try {
        const feedMap: tf.NamedTensorMap = {};
        inputNodes.forEach((name, index) => {
          feedMap[name] = inputs[index];
        });
        const output = model.execute(feedMap, outputNames ?? model.outputNodes);
        return Array.isArray(output) ? output : [output];
      } finally {
        names.forEach((name, index) => {
          map[name] = originals[index];
        });
      }
    },
  };
}

/** A function of tensors; a returned map's keys name the outputs (fixed at the first call). */
function functionRunner(graph: TfGraphFunction): GraphRunner {
  const runner: GraphRunner & { outputNames: readonly string[] | undefined } = {
    label: graph.name || "function",
    outputNames: undefined,
    subsets: false,
    run(inputs) {
      const output = graph(...inputs);
      if (output instanceof tf.Tensor) return [output];
      if (Array.isArray(output)) return output;
      if (typeof output === "object" && output !== null) {
        const keys = Object.keys(output);
        const names = runner.outputNames ?? keys;
        runner.outputNames = names;
        return names.map((key) => output[key]);
      }
      throw new InvalidArgumentError(
        "runTensorflowGraph",
        `the graph function returned ${describe(output)}; return a tensor, a list of tensors or a map of them`,
      );
    },
  };
  return runner;
}
