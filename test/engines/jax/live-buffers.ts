/**
 * @file Test helper: counts the live jax-js device buffers (slots) on the cpu and wasm backends. jax-js has
 * no public API for this; the counter wraps `malloc` / `incRef` / `decRef` of the backend instances, which
 * it reaches through `getBackend`, an internal export of jax-js 0.1.25's hashed `dist/backend-*.js` chunk.
 * Every step is checked, so a jax-js release that moves the internals makes the counter throw a clear
 * error instead of silently counting nothing.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import "tsadjoint/jax";
import { numpy as jnp } from "@jax-js/jax";

/** The jax-js version the counter was written against. */
export const COUNTER_JAX_VERSION = "0.1.25";

interface BackendLike {
  type: string;
  malloc(size: number, initial?: Uint8Array): number;
  incRef(slot: number): void;
  decRef(slot: number): void;
}

function fail(message: string): never {
  throw new Error(
    `live-buffer counter: ${message}. It reaches jax-js internals (getBackend in dist/backend-*.js of ` +
      `@jax-js/jax ${COUNTER_JAX_VERSION}); update test/engines/jax/live-buffers.ts for the installed version`,
  );
}

const require = createRequire(import.meta.url);
const entry = require.resolve("@jax-js/jax");
const distDirectory = dirname(entry);
const packageJson = JSON.parse(readFileSync(join(distDirectory, "..", "package.json"), "utf8")) as {
  version: string;
};
if (packageJson.version !== COUNTER_JAX_VERSION) fail(`found @jax-js/jax ${packageJson.version}`);
const chunks = readdirSync(distDirectory).filter((file) => /^backend-.*\.js$/.test(file));
if (chunks.length !== 1) fail(`expected one dist/backend-*.js chunk, found ${chunks.length}`);
const internal = (await import(pathToFileURL(join(distDirectory, chunks[0])).href)) as Record<
  string,
  unknown
>;
const getBackend = internal.s as ((device: string) => BackendLike) | undefined;
if (typeof getBackend !== "function") fail("the chunk's export `s` (getBackend) is not a function");

const live: Record<string, Map<number, number>> = {};
for (const device of ["cpu", "wasm"]) {
  const backend = getBackend(device);
  if (backend?.type !== device) fail(`getBackend("${device}").type is ${String(backend?.type)}`);
  for (const method of ["malloc", "incRef", "decRef"] as const) {
    if (typeof backend[method] !== "function") fail(`the ${device} backend has no ${method}()`);
  }
  const references = new Map<number, number>();
  live[device] = references;
  const malloc = backend.malloc.bind(backend);
  const incRef = backend.incRef.bind(backend);
  const decRef = backend.decRef.bind(backend);
  backend.malloc = (size, initial) => {
    const slot = malloc(size, initial);
    references.set(slot, 1);
    return slot;
  };
  backend.incRef = (slot) => {
    incRef(slot);
    references.set(slot, (references.get(slot) ?? 0) + 1);
  };
  backend.decRef = (slot) => {
    decRef(slot);
    const count = (references.get(slot) ?? 0) - 1;
    if (count <= 0) references.delete(slot);
    else references.set(slot, count);
  };
}

/**
 * Number of live jax-js buffers on `device`.
 *
 * @example
 * const before = liveBuffers("cpu"); f(x); expect(liveBuffers("cpu")).toBe(before);
 */
export function liveBuffers(device: "cpu" | "wasm" = "cpu"): number {
  return live[device].size;
}

// Self-check: the counter must see an allocation made through the public API (guards against a second,
// unpatched copy of the backend module).
for (const device of ["cpu", "wasm"] as const) {
  const before = liveBuffers(device);
  const probe = jnp.array(new Float64Array([0.25, -1.5, 3.75]), { shape: [3], dtype: jnp.float64, device });
  probe.ref.dataSync();
  if (liveBuffers(device) !== before + 1) fail(`an array on ${device} was not counted`);
  probe.dispose();
  if (liveBuffers(device) !== before) fail(`a disposed array on ${device} was still counted`);
}
