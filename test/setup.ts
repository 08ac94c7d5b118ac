/**
 * @file Test setup: property tests run from a fixed seed so CI is reproducible. Set FC_SEED to explore other
 * seeds locally (`FC_SEED=123 npm test`); a failure prints its seed and path for replay.
 */
import fc from "fast-check";

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261126) });
