/**
 * @file The playground page: the inference form (run in a Web Worker, live progress and plots with
 * vega-embed, Stop, report.json download) and the Code panel (an editable example run against the library,
 * printed values, the recorded tape drawn with Graphviz compiled to WebAssembly).
 */
import { Graphviz } from "@hpcc-js/wasm-graphviz";
import { tapeToDot } from "tsadjoint";
import embed from "vega-embed";
import type { TopLevelSpec } from "vega-lite";
import {
  convergenceFigure,
  type FluxPoint,
  fluxFigure,
  type SensorPoint,
  sensorFigure,
} from "../examples/cr-inference/plots.js";
import { DEFAULT_SETTINGS, type InferenceSettings } from "../examples/cr-inference/problem.js";
import type { InferenceReport } from "../examples/cr-inference/report.js";
import { runCode } from "./code.js";
import { EXAMPLES } from "./examples.js";
import type { RunRequest, WorkerMessage } from "./protocol.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLDivElement>("status");
const results = $<HTMLDivElement>("results");
const runButton = $<HTMLButtonElement>("run");
const stopButton = $<HTMLButtonElement>("stop");
const download = $<HTMLAnchorElement>("download");

function setStatus(state: string, text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

/** Draws a vega-lite spec into a plot element (SVG renderer, no action menu). */
async function draw(id: string, spec: TopLevelSpec): Promise<void> {
  await embed($(id), spec as Parameters<typeof embed>[1], { actions: false, renderer: "svg" });
}

/** Live plots redraw at most once per animation frame with the latest data. */
let pending:
  | {
      convergence: { iteration: number; misfit: number }[];
      flux: readonly FluxPoint[];
      sensors: readonly SensorPoint[];
    }
  | undefined;
let scheduled = false;
function scheduleLivePlots(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(async () => {
    scheduled = false;
    const data = pending;
    if (data === undefined) return;
    await Promise.all([
      draw("plot-convergence", convergenceFigure(data.convergence)),
      draw("plot-flux", fluxFigure(data.flux)),
      ...(data.sensors.length > 0 ? [draw("plot-sensors", sensorFigure(data.sensors))] : []),
    ]);
  });
}

function readSettings(): InferenceSettings {
  const form = new FormData($<HTMLFormElement>("settings"));
  const number = (name: string) => Number(form.get(name));
  return {
    ...DEFAULT_SETTINGS,
    mesh: number("mesh"),
    noise: number("noise"),
    seed: number("seed"),
    maxIterations: number("maxIterations"),
    cr: form.get("cr") as InferenceSettings["cr"],
    engine: form.get("engine") as InferenceSettings["engine"],
    optimizer: form.get("optimizer") as InferenceSettings["optimizer"],
  };
}

function showReport(report: InferenceReport): void {
  const rows = report.parameters.map(
    (p) =>
      `<div id="result-${p.name}" data-value="${p.inferred}">${p.name} = ${p.inferred.toFixed(5)} (truth ${p.truth}, start ${p.start}, relative error ${(100 * p.relativeError).toFixed(2)}%)</div>`,
  );
  rows.push(
    `<div id="result-misfit" data-value="${report.misfit.final}">misfit ${report.misfit.start.toExponential(3)} -> ${report.misfit.final.toExponential(3)} in ${report.optimizer.iterations} iterations (${report.optimizer.stopReason}); Taylor rate ${report.taylor.rate.toFixed(3)}${report.taylor.hessianRate === null ? "" : `, with the Hessian ${report.taylor.hessianRate.toFixed(3)}`}; ${report.wallTime.total.toFixed(2)} s</div>`,
  );
  results.innerHTML = rows.join("");
  const blob = new Blob([`${JSON.stringify(report, null, 2)}\n`], { type: "application/json" });
  download.href = URL.createObjectURL(blob);
  download.hidden = false;
}

let worker: Worker | undefined;

function finish(): void {
  worker?.terminate();
  worker = undefined;
  runButton.disabled = false;
  stopButton.disabled = true;
}

$<HTMLFormElement>("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  finish();
  const settings = readSettings();
  const convergence: { iteration: number; misfit: number }[] = [];
  results.textContent = "";
  $("plot-sensors").dataset.liveUpdates = "0";
  download.hidden = true;
  runButton.disabled = true;
  stopButton.disabled = false;
  setStatus("running", "starting the worker ...");
  worker = new Worker("./worker.js", { type: "module" });
  worker.onmessage = async (event: MessageEvent<WorkerMessage>) => {
    const message = event.data;
    if (message.type === "log") {
      setStatus("running", message.message.trim());
    } else if (message.type === "iteration") {
      convergence.push({ iteration: message.iteration, misfit: message.misfit });
      setStatus(
        "running",
        `iteration ${message.iteration}: misfit ${message.misfit.toExponential(4)}, ${message.summary}`,
      );
      // sensors come only when the worker's tape holds the iterate: keep the last ones otherwise
      const sensorsPlot = $("plot-sensors");
      if (message.sensors.length > 0)
        sensorsPlot.dataset.liveUpdates = `${Number(sensorsPlot.dataset.liveUpdates ?? 0) + 1}`;
      pending = {
        convergence,
        flux: message.flux,
        sensors: message.sensors.length > 0 ? message.sensors : (pending?.sensors ?? []),
      };
      scheduleLivePlots();
    } else if (message.type === "done") {
      finish();
      pending = undefined;
      const { report } = message;
      showReport(report);
      await Promise.all([
        draw("plot-convergence", convergenceFigure(report.figures.convergence, report.misfit.truth)),
        draw("plot-flux", fluxFigure(report.figures.flux)),
        draw("plot-sensors", sensorFigure(report.figures.sensors)),
      ]);
      setStatus("done", `done: ${report.optimizer.iterations} iterations, ${report.optimizer.message}`);
    } else {
      finish();
      setStatus("error", `error: ${message.message}`);
    }
  };
  worker.onerror = (event) => {
    finish();
    setStatus("error", `worker error: ${event.message}`);
  };
  worker.postMessage({ type: "run", settings } satisfies RunRequest);
});

stopButton.addEventListener("click", () => {
  finish();
  setStatus("stopped", "stopped");
});

// the Code panel
const exampleSelect = $<HTMLSelectElement>("example");
const codeInput = $<HTMLTextAreaElement>("code-input");
const codeOutput = $<HTMLPreElement>("code-output");
EXAMPLES.forEach((example, i) => {
  exampleSelect.add(new Option(example.title, String(i)));
});
codeInput.value = EXAMPLES[0].code;
exampleSelect.addEventListener("change", () => {
  codeInput.value = EXAMPLES[Number(exampleSelect.value)].code;
});
const graphviz = Graphviz.load();

$<HTMLButtonElement>("code-run").addEventListener("click", async () => {
  codeOutput.dataset.state = "running";
  codeOutput.classList.remove("error");
  try {
    const { lines, tape } = runCode(codeInput.value);
    codeOutput.textContent = lines.join("\n");
    $("tape-graph").innerHTML = (await graphviz).dot(tapeToDot(tape));
    codeOutput.dataset.state = "done";
  } catch (error) {
    codeOutput.textContent = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    codeOutput.classList.add("error");
    codeOutput.dataset.state = "error";
  }
});
