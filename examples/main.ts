/**
 * @file The main job (`npm start`): infers a constitutive relation from noisy observations of the solution
 * of a nonlinear PDE (the flagship example in examples/cr-inference). `npm start -- --help` lists the flags.
 */
import { runCli } from "./cr-inference/cli.js";

process.exitCode = await runCli(process.argv.slice(2));
