/** @file The messages between the playground page and its inference worker. */

import type { FluxPoint, SensorPoint } from "../examples/cr-inference/plots.js";
import type { InferenceSettings } from "../examples/cr-inference/problem.js";
import type { InferenceReport } from "../examples/cr-inference/report.js";

/** Page to worker: run the inference with these settings. */
export interface RunRequest {
  type: "run";
  settings: InferenceSettings;
}

/** Worker to page. */
export type WorkerMessage =
  | { type: "log"; message: string }
  | {
      type: "iteration";
      iteration: number;
      misfit: number;
      summary: string;
      flux: readonly FluxPoint[];
      sensors: readonly SensorPoint[];
    }
  | { type: "done"; report: InferenceReport }
  | { type: "error"; message: string };
