/**
 * @file Imported first by `npm run bench`: on Linux with glibc, re-runs the benchmark process (and so the
 * peers' Python it starts) with glibc's malloc told to keep freed memory (`GLIBC_TUNABLES` with large
 * `mmap_threshold` and `trim_threshold`) instead of returning it to the system. Freed large arrays are then
 * reused by the next allocation rather than mapped afresh: on the virtual machines these benches run on, a
 * page fault of fresh memory costs about 11 us, so without this every tool that allocates large arrays
 * (NumPy, JAX eager and tsadjoint alike) pays spikes of tens of milliseconds that depend on when memory
 * happened to be returned. Both sides get the same setting. `--system-allocator` keeps the default.
 */
import { spawnSync } from "node:child_process";

const TUNABLES = "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967296";

if (
  process.platform === "linux" &&
  process.env.GLIBC_TUNABLES === undefined &&
  !process.argv.includes("--system-allocator")
) {
  const result = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, GLIBC_TUNABLES: TUNABLES },
  });
  process.exit(result.status ?? 1);
}

/** The allocator setting this benchmark process runs with, for the tables' headers. */
export const allocatorNote =
  process.env.GLIBC_TUNABLES === undefined
    ? "system malloc defaults"
    : `GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES} (for tsadjoint and the peers alike)`;
