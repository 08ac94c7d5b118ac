/**
 * @file Browser suite "jax": `tsadjoint/jax` (overloadJax) in the browser on jax-js's `wasm` device (and
 * `cpu`): CRIKit's overload_jax example f(x, y) = exp(tr(x y)) with its gradient and Taylor tests, a
 * polynomial program whose arithmetic stays float64 on wasm (Taylor rates 2 and 3 at the default steps), the
 * float32 transcendentals of wasm, and a probe of WebGPU. Runs unchanged in Chromium and Node.
 */
import { grad, init, type Array as JaxArray, numpy as jnp } from "@jax-js/jax";
import {
  Control,
  EngineLimitError,
  np,
  ReducedFunction,
  ReducedFunctional,
  Tape,
  taylorToDict,
  withTape,
} from "tsadjoint";
import { f64, type JaxDevice, jaxDevices, overloadJax } from "tsadjoint/jax";

function rates(report: ReturnType<typeof taylorToDict>) {
  return { R0: report.R0.rates, R1: report.R1.rates, R2: report.R2?.rates ?? [] };
}

function seedExample(device: JaxDevice) {
  const rng = np.random.default_rng(2024);
  const inputs: [np.NDArray, np.NDArray] = [rng.normal(0, 0.5, [3, 3]), rng.normal(0, 0.5, [3, 3])];
  const f = overloadJax((x: JaxArray, y: JaxArray) => jnp.exp(jnp.trace(jnp.matmul(x, y))), {
    argnums: [0, 1],
    checkpoint: true,
    device,
    name: "myFunc",
  });
  const tape = new Tape();
  const output = withTape(tape, () => f(...inputs));
  const controls = inputs.map((x) => new Control(x));
  const functional = new ReducedFunctional(output, controls, { tape });
  const gradient = (functional.derivative() as np.NDArray[]).map((g) => Array.from(g.data));
  const h = inputs.map((x) => rng.normal(0, 0.1, x.shape.slice()));
  // float32 exp on wasm: steps large enough that the remainders stay above its round-off
  const epsilons = device === "wasm" ? [0.2, 0.1, 0.05, 0.025] : undefined;
  const rfTaylor = taylorToDict(new ReducedFunction(output, controls, { tape }), inputs, h, { epsilons });
  // the Hessian's remainder is below float32 round-off on wasm: its rate is checked on cpu (and on wasm for
  // the float64 polynomial below)
  const hessianTaylor =
    device === "cpu" ? rates(taylorToDict(functional, inputs, h, { hessian: true })) : null;
  const result = {
    inputs: inputs.map((x) => Array.from(x.data)),
    value: output.item(),
    gradient,
    taylorFunction: rates(rfTaylor),
    taylorHessian: hessianTaylor,
    blocks: tape.blocks.map((block) => block.name),
  };
  f.dispose();
  tape.clear();
  return result;
}

/** A polynomial map (matmul, products, sums: float64 on wasm) with a vector output. */
function polynomial(device: JaxDevice) {
  const rng = np.random.default_rng(5);
  const a = rng.normal(0, 1, [4, 4]);
  const b = rng.normal(0, 1, [4]);
  const f = overloadJax(
    (A: JaxArray, v: JaxArray) => {
      const w = jnp.matmul(A, v.ref);
      return w.ref.mul(w).add(v.mul(f64(0.1)));
    },
    { device, name: "poly" },
  );
  const tape = new Tape();
  const out = withTape(tape, () => np.sum(np.square(f(a, b))));
  const rf = new ReducedFunctional(out, [new Control(a), new Control(b)], { tape });
  const h = [rng.normal(0, 1, [4, 4]), rng.normal(0, 1, [4])] as const;
  const gradient = rf.derivative().map((g) => Array.from(g.data));
  const hessianAction = rf.hessian(h).map((g) => Array.from(g.data));
  const result = {
    value: out.item(),
    gradient,
    hessianAction,
    taylor: rates(taylorToDict(rf, [a, b], h, { hessian: true })),
  };
  f.dispose();
  tape.clear();
  return result;
}

/** exp on both devices at the same points: cpu is float64, wasm float32; exp(100) on wasm is refused. */
function precision() {
  const points = np.array(Array.from({ length: 16 }, (_, i) => 0.37 * i - 2.3 + 0.01 * Math.sin(7 * i)));
  const values: Record<string, number[]> = {};
  for (const device of ["cpu", "wasm"] as const) {
    const f = overloadJax((x: JaxArray) => jnp.exp(jnp.sin(x)), { device });
    values[device] = Array.from(f(points).data);
    f.dispose();
  }
  const exact = Array.from(points.data, (x) => Math.exp(Math.sin(x)));
  const overflow = overloadJax((x: JaxArray) => jnp.exp(x), { device: "wasm", name: "expOnWasm" });
  let refusal = "";
  try {
    overflow(np.array([100, 1]));
  } catch (error) {
    if (!(error instanceof EngineLimitError)) throw error;
    refusal = error.message;
  }
  overflow.dispose();
  return { exact, cpu: values.cpu, wasm: values.wasm, refusal };
}

/** What the WebGPU probe found. */
export interface WebgpuProbe {
  /** navigator.gpu gave an adapter. */
  adapter: boolean;
  /** jax-js initialised its webgpu backend. */
  jaxWebgpu: boolean;
  /** Why WebGPU is not usable ("" when it is). */
  reason: string;
  /** On webgpu, in float32: x = [0.1, 0.2, ..., 0.8], f = sum(sin(x)^2), its jax-js grad. */
  float32?: { x: number[]; value: number; gradient: number[] };
  /** The same with float64 requested: the dtype and numbers jax-js returned, or its error. */
  float64?: { dtype?: string; value?: number; gradient?: number[]; error?: string };
}

/**
 * Whether this runtime offers WebGPU (navigator.gpu with an adapter), whether jax-js initialises its
 * `webgpu` backend, and if so a float32 value and gradient computed there with jax-js itself (WebGPU has no
 * float64, so tsadjoint/jax, float64 throughout, supports `cpu` and `wasm` only).
 *
 * @example
 * const { adapter, reason } = await probeWebgpu();
 */
export async function probeWebgpu(): Promise<WebgpuProbe> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (gpu === undefined) return { adapter: false, jaxWebgpu: false, reason: "navigator.gpu is undefined" };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (adapter === null || adapter === undefined) {
    return { adapter: false, jaxWebgpu: false, reason: "navigator.gpu.requestAdapter() returned no adapter" };
  }
  const devices = await init("webgpu").catch((error: Error) => error);
  if (devices instanceof Error) return { adapter: true, jaxWebgpu: false, reason: devices.message };
  if (!devices.includes("webgpu")) {
    return { adapter: true, jaxWebgpu: false, reason: "jax-js init('webgpu') did not initialise it" };
  }
  const data = Float32Array.from({ length: 8 }, (_, i) => 0.1 * (i + 1));
  const f = (x: JaxArray) => jnp.sum(jnp.square(jnp.sin(x)));
  const value = (await f(jnp.array(data, { device: "webgpu" })).jsAsync()) as number;
  const gradient = (await grad(f)(jnp.array(data, { device: "webgpu" })).jsAsync()) as number[];
  // float64 requested on webgpu: what jax-js gives (WGSL has no f64)
  let float64: WebgpuProbe["float64"];
  try {
    const x64 = () =>
      jnp.array(
        Float64Array.from(data, (_, i) => 0.1 * (i + 1)),
        { dtype: jnp.float64, device: "webgpu" },
      );
    const y = f(x64());
    const dtype = String(y.dtype);
    float64 = {
      dtype,
      value: (await y.jsAsync()) as number,
      gradient: (await grad(f)(x64()).jsAsync()) as number[],
    };
  } catch (error) {
    float64 = { error: (error as Error).message };
  }
  return {
    adapter: true,
    jaxWebgpu: true,
    reason: "",
    float32: { x: Array.from(data), value, gradient },
    float64,
  };
}

/**
 * Runs the jax-js suite on the wasm and cpu devices.
 *
 * @example
 * const { wasm } = await run();
 */
export async function run() {
  return {
    devices: [...jaxDevices],
    wasm: { seed: seedExample("wasm"), polynomial: polynomial("wasm") },
    cpu: { seed: seedExample("cpu"), polynomial: polynomial("cpu") },
    precision: precision(),
    webgpu: await probeWebgpu(),
  };
}
