/** @file Benchmark helpers: repeated timing with medians, heap measurement, and a ratio table. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Runs one of the peers' Python scripts (the project's peers folder beside the repository, or
 * `TSADJOINT_PEERS_DIR`) with the peers' Python (`TSADJOINT_PEERS_PYTHON`, default
 * /tmp/peers-venv/bin/python) and one BLAS thread; its standard output, or undefined when the Python or the
 * script is not installed here or the run fails. The environment (and so the allocator setting of
 * allocator.ts) is passed on.
 *
 * @example
 * const output = runPeerScript("flux_peers.py", ["100000"]);
 */
export function runPeerScript(script: string, args: readonly string[]): string | undefined {
  const python = process.env.TSADJOINT_PEERS_PYTHON ?? "/tmp/peers-venv/bin/python";
  const folder =
    process.env.TSADJOINT_PEERS_DIR ?? fileURLToPath(new URL("../../shared/peers/", import.meta.url));
  const path = `${folder.replace(/\/$/, "")}/${script}`;
  if (!existsSync(python) || !existsSync(path)) return undefined;
  try {
    return execFileSync(python, [path, ...args], {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: "1" },
    });
  } catch {
    return undefined;
  }
}

/** Median wall time in milliseconds of `repeats` runs of `fn` (after `warmups` runs). */
export function timeMedian(fn: () => void, repeats = 7, warmups = 1): number {
  for (let i = 0; i < warmups; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Forces a full collection when node runs with --expose-gc. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
}

/** Heap bytes retained by the object `build` returns (needs --expose-gc for a stable figure). */
export function retainedBytes<T>(build: () => T): { bytes: number; value: T } {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const value = build();
  collectGarbage();
  const after = process.memoryUsage().heapUsed;
  return { bytes: after - before, value };
}

/** One benchmark row: a measured figure, its baseline, and the target it is held to. */
export interface Row {
  name: string;
  value: string;
  ratio?: number;
  target?: string;
  pass?: boolean;
}

/** Prints rows as an aligned table. */
export function printTable(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const row of rows) {
    const ratio = row.ratio === undefined ? "" : `  ratio ${row.ratio.toFixed(2)}x`;
    const target =
      row.target === undefined
        ? ""
        : `  target ${row.target}${row.pass === undefined ? "" : row.pass ? "  ok" : "  MISSED"}`;
    console.log(`  ${row.name.padEnd(width)}  ${row.value}${ratio}${target}`);
  }
}
