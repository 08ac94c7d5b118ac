/**
 * @file Figures of the constitutive-relation inference as vega-lite specifications, rendered headless to
 * SVG with vega and to PNG with resvg: observed vs predicted sensor values, true vs inferred flux curve,
 * and the optimizer's convergence history.
 */
import * as vega from "vega";
import type { TopLevelSpec } from "vega-lite";
import { compile } from "vega-lite";

/** One sensor: observed (noisy) value and the values predicted by the start and the inferred CR. */
export interface SensorPoint {
  readonly observed: number;
  readonly predicted: number;
  readonly series: string;
}

/** One point of a flux curve |q| against |g|. */
export interface FluxPoint {
  readonly gradientMagnitude: number;
  readonly fluxMagnitude: number;
  readonly series: string;
}

/** One optimizer iteration: its misfit. */
export interface ConvergencePoint {
  readonly iteration: number;
  readonly misfit: number;
}

const WIDTH = 320;
const HEIGHT = 280;

/**
 * Scatter of predicted against observed sensor values with the identity line y = x.
 *
 * @example
 * const spec = sensorFigure([{ observed: 0.1, predicted: 0.11, series: "inferred" }]);
 */
export function sensorFigure(
  points: readonly SensorPoint[],
  title = "Sensors: predicted vs observed",
): TopLevelSpec {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    low = Math.min(low, p.observed, p.predicted);
    high = Math.max(high, p.observed, p.predicted);
  }
  if (!Number.isFinite(low)) [low, high] = [0, 1];
  const scale = { domain: [low, high], nice: false, zero: false };
  const series = [...new Set(points.map((p) => p.series))]; // "start", "inferred" (the playground: "current")
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: [{ v: low }, { v: high }] },
        mark: { type: "line", color: "#888", strokeDash: [4, 3] },
        encoding: {
          x: { field: "v", type: "quantitative", scale },
          y: { field: "v", type: "quantitative", scale },
        },
      },
      {
        data: { values: points.map((p) => ({ ...p })) },
        mark: { type: "point", filled: true, size: 28, opacity: 0.75 },
        encoding: {
          x: { field: "observed", type: "quantitative", title: "observed u at sensor", scale },
          y: { field: "predicted", type: "quantitative", title: "predicted u at sensor", scale },
          color: {
            field: "series",
            type: "nominal",
            title: null,
            scale: { domain: series, range: ["#f58518", "#4c78a8", "#54a24b"].slice(0, series.length) },
            legend: { orient: "bottom-right" },
          },
          shape: { field: "series", type: "nominal", title: null, scale: { domain: series } },
        },
      },
    ],
  };
}

/**
 * Flux magnitude |q| against gradient magnitude |g| for several CRs (truth, start, inferred) over the
 * range of |g| seen by the data.
 *
 * @example
 * const spec = fluxFigure([{ gradientMagnitude: 1, fluxMagnitude: 1, series: "truth" }]);
 */
export function fluxFigure(
  points: readonly FluxPoint[],
  title = "Constitutive relation |q| vs |g|",
): TopLevelSpec {
  const series = [...new Set(points.map((p) => p.series))];
  const isTruth = (name: string) => name.startsWith("truth");
  const palette = ["#f58518", "#4c78a8", "#54a24b", "#b279a2"];
  let next = 0;
  const range = series.map((name) => (isTruth(name) ? "#222222" : palette[next++ % palette.length]));
  const color = {
    field: "series",
    type: "nominal" as const,
    title: null,
    scale: { domain: series, range },
    legend: { orient: "top-left" as const, labelLimit: 320 },
  };
  const x = { field: "gradientMagnitude", type: "quantitative" as const, title: "|grad u| (observed range)" };
  const y = { field: "fluxMagnitude", type: "quantitative" as const, title: "|q(grad u)|" };
  // The truth is drawn last, dashed, on top of the others (it hides the inferred curve otherwise).
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: points.filter((p) => !isTruth(p.series)).map((p) => ({ ...p })) },
        mark: { type: "line", strokeWidth: 3 },
        encoding: { x, y, color },
      },
      {
        data: { values: points.filter((p) => isTruth(p.series)).map((p) => ({ ...p })) },
        mark: { type: "line", strokeWidth: 1.5, strokeDash: [5, 4] },
        encoding: { x, y, color },
      },
    ],
  };
}

/**
 * Misfit per optimizer iteration on a log scale, with the misfit of the noiseless truth as a dashed line.
 *
 * @example
 * const spec = convergenceFigure([{ iteration: 0, misfit: 1 }, { iteration: 1, misfit: 0.1 }], 1e-3);
 */
export function convergenceFigure(
  points: readonly ConvergencePoint[],
  noiseFloor?: number,
  title = "Convergence",
): TopLevelSpec {
  const line = {
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: "line" as const, point: true },
    encoding: {
      x: {
        field: "iteration",
        type: "quantitative" as const,
        title: "optimizer iteration",
        axis: { tickMinStep: 1 },
      },
      y: {
        field: "misfit",
        type: "quantitative" as const,
        title: "misfit J",
        scale: { type: "log" as const },
      },
    },
  };
  const layers: TopLevelSpec[] = [line as TopLevelSpec];
  if (noiseFloor !== undefined && noiseFloor > 0) {
    // The misfit of the noiseless truth: a fit below it explains noise.
    layers.push({
      data: { values: [{ misfit: noiseFloor, label: "misfit of the truth (noise level)" }] },
      layer: [
        {
          mark: { type: "rule", color: "#888", strokeDash: [4, 3] },
          encoding: { y: { field: "misfit", type: "quantitative" } },
        },
        {
          mark: { type: "text", align: "right", dy: -7, color: "#555", fontSize: 10, x: "width" },
          encoding: { y: { field: "misfit", type: "quantitative" }, text: { field: "label" } },
        },
      ],
    } as TopLevelSpec);
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: WIDTH,
    height: HEIGHT,
    layer: layers,
  } as TopLevelSpec;
}

/**
 * The three figures side by side (one image for the README).
 *
 * @example
 * const spec = summaryFigure(sensorFigure(s), fluxFigure(f), convergenceFigure(c), "p = 3.01, k = 0.99");
 */
export function summaryFigure(
  sensors: TopLevelSpec,
  flux: TopLevelSpec,
  convergence: TopLevelSpec,
  title: string,
): TopLevelSpec {
  const strip = (spec: TopLevelSpec) => {
    const { $schema: _schema, ...rest } = spec as TopLevelSpec & { $schema?: string };
    return rest;
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, fontSize: 15 },
    hconcat: [strip(sensors), strip(flux), strip(convergence)],
    resolve: { scale: { color: "independent", shape: "independent", strokeDash: "independent" } },
  } as TopLevelSpec;
}

/** A rendered figure. */
export interface RenderedFigure {
  readonly svg: string;
  readonly png: Uint8Array;
}

/**
 * Renders a vega-lite specification headless: SVG with vega (no browser) and PNG with resvg (2x zoom,
 * DejaVu Sans or the system sans-serif font). resvg is a native Node module, imported lazily so that the
 * figure specifications of this file also load in a browser (the playground draws them with vega-embed).
 *
 * @example
 * const { svg, png } = await renderFigure(convergenceFigure(history));
 */
export async function renderFigure(spec: TopLevelSpec): Promise<RenderedFigure> {
  const { Resvg } = await import("@resvg/resvg-js").catch((error: Error) => {
    throw new Error(
      `renderFigure: PNG rendering needs @resvg/resvg-js, a native Node module (${error.message})`,
    );
  });
  const { spec: vegaSpec } = compile(spec);
  const view = new vega.View(vega.parse(vegaSpec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      fitTo: { mode: "zoom", value: 2 },
      background: "white",
      font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
    })
      .render()
      .asPng();
    return { svg, png };
  } finally {
    view.finalize();
  }
}
