/**
 * @file The playground's inference worker: runs the CLI's constitutive-relation inference (`runInference`,
 * the same code as `npm start`) off the page's main thread and posts progress, per-iteration flux curves
 * and the final report. Stopping is `worker.terminate()` from the page.
 */
import { runInference } from "../examples/cr-inference/problem.js";
import type { RunRequest, WorkerMessage } from "./protocol.js";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<RunRequest>) => void) | null;
  postMessage(message: WorkerMessage): void;
};

scope.onmessage = async (event) => {
  const post = (message: WorkerMessage) => scope.postMessage(message);
  try {
    const report = await runInference(event.data.settings, {
      log: (message) => post({ type: "log", message }),
      onIteration: (info) => post({ type: "iteration", ...info }),
    });
    post({ type: "done", report });
  } catch (error) {
    post({
      type: "error",
      message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
};
