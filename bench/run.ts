/**
 * @file `npm run bench [name ...] [--system-allocator]`: runs the benchmarks (all by default) and prints
 * ratio tables. On Linux the process re-runs itself with glibc's malloc keeping freed memory (see
 * allocator.ts) unless `--system-allocator` is given.
 */

import { allocatorNote } from "./allocator.js";
import { runCheckpointBench } from "./checkpoint.js";
import { runJaxBench } from "./engines-jax.js";
import { runTfjsBench } from "./engines-tfjs.js";
import { runFlagshipBench } from "./flagship.js";
import { runFluxBench } from "./flux.js";
import { runNumpyBench } from "./numpy.js";
import { runScalarChain } from "./scalar-chain.js";
import { runSolveBench } from "./solve.js";
import { runTranscendentalBench } from "./transcendental.js";

const benches: Record<string, () => void | Promise<void>> = {
  "scalar-chain": () => runScalarChain(),
  numpy: () => runNumpyBench(),
  flux: () => runFluxBench(),
  solve: () => runSolveBench(),
  flagship: async () => {
    await runFlagshipBench();
  },
  "engines-tfjs": () => runTfjsBench(),
  "engines-jax": async () => {
    await runJaxBench();
  },
  checkpoint: () => runCheckpointBench(),
  transcendental: () => runTranscendentalBench(),
};

console.log(`allocator: ${allocatorNote}`);
const chosen = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
for (const name of chosen.length > 0 ? chosen : Object.keys(benches)) {
  const bench = benches[name];
  if (bench === undefined) {
    console.error(`unknown benchmark '${name}'; choose from ${Object.keys(benches).join(", ")}`);
    process.exit(2);
  }
  await bench();
}
