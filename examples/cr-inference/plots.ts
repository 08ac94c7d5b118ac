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

/** The 95% band of the inferred flux at one gradient magnitude. */
export interface FluxBandPoint {
  readonly gradientMagnitude: number;
  readonly lower: number;
  readonly upper: number;
}

/** One eigenvalue of the Hessian of the negative log-posterior (index 1 = largest). */
export interface SpectrumPoint {
  readonly index: number;
  readonly eigenvalue: number;
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
  // a margin so that the points at the ends of the range are not clipped by the frame
  const pad = 0.04 * (high - low || 1);
  const scale = { domain: [low - pad, high + pad], nice: false, zero: false };
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
  band: readonly FluxBandPoint[] = [],
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
  const curves = {
    width: WIDTH,
    height: HEIGHT,
    layer: [
      ...(band.length === 0
        ? []
        : [
            {
              data: { values: band.map((p) => ({ ...p })) },
              mark: { type: "area" as const, color: "#4c78a8", opacity: 0.25 },
              encoding: {
                x,
                y: { field: "lower", type: "quantitative" as const, title: "|q(grad u)|" },
                y2: { field: "upper" },
              },
            },
          ]),
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
  const errors = relativeFluxErrors(points, band);
  if (errors === undefined) {
    return { $schema: "https://vega.github.io/schema/vega-lite/v6.json", title, ...curves } as TopLevelSpec;
  }
  // The inferred and true curves are indistinguishable at this scale: a second panel shows their difference
  // relative to max |q_true|, with the 95% band on the same scale.
  const relative = {
    width: WIDTH,
    height: Math.round(HEIGHT / 2),
    layer: [
      ...(errors.band.length === 0
        ? []
        : [
            {
              data: { values: errors.band },
              mark: { type: "area" as const, color: "#4c78a8", opacity: 0.25 },
              encoding: {
                x: { ...x, title: "|grad u|" },
                y: {
                  field: "lower",
                  type: "quantitative" as const,
                  title: "(q - q_true) / max q_true",
                  axis: { format: ".1%" },
                },
                y2: { field: "upper" },
              },
            },
          ]),
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: "rule" as const, color: "#222", strokeDash: [5, 4] },
        encoding: { y: { field: "zero", type: "quantitative" as const } },
      },
      {
        data: { values: errors.curve },
        mark: { type: "line" as const, strokeWidth: 2, color: "#4c78a8" },
        encoding: {
          x: { ...x, title: "|grad u|" },
          y: {
            field: "error",
            type: "quantitative" as const,
            title: "(q - q_true) / max q_true",
            axis: { format: ".1%" },
          },
        },
      },
    ],
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    vconcat: [curves, relative],
  } as TopLevelSpec;
}

/** The inferred curve's error and its band relative to max |q_true|, when both curves are present. */
function relativeFluxErrors(
  points: readonly FluxPoint[],
  band: readonly FluxBandPoint[],
):
  | {
      curve: { gradientMagnitude: number; error: number }[];
      band: { gradientMagnitude: number; lower: number; upper: number }[];
    }
  | undefined {
  const truth = points.filter((p) => p.series.startsWith("truth"));
  const inferred = points.filter((p) => p.series === "inferred");
  if (truth.length === 0 || truth.length !== inferred.length) return undefined;
  const largest = Math.max(...truth.map((p) => Math.abs(p.fluxMagnitude)));
  if (!(largest > 0)) return undefined;
  const curve = inferred.map((p, i) => ({
    gradientMagnitude: p.gradientMagnitude,
    error: (p.fluxMagnitude - truth[i].fluxMagnitude) / largest,
  }));
  const sameGrid = band.length === truth.length;
  return {
    curve,
    band: sameGrid
      ? band.map((p, i) => ({
          gradientMagnitude: p.gradientMagnitude,
          lower: (p.lower - truth[i].fluxMagnitude) / largest,
          upper: (p.upper - truth[i].fluxMagnitude) / largest,
        }))
      : [],
  };
}

/**
 * The eigenvalues of the Hessian of the negative log-posterior, descending, on a log scale, with the prior
 * precision as a dashed line: directions above it are determined by the data, those near it by the prior.
 *
 * @example
 * const spec = spectrumFigure([{ index: 1, eigenvalue: 1e6 }, { index: 2, eigenvalue: 3 }], 1);
 */
export function spectrumFigure(
  points: readonly SpectrumPoint[],
  priorPrecision = 0,
  title = "Hessian eigen-spectrum (posterior)",
): TopLevelSpec {
  const positive = points.filter((p) => p.eigenvalue > 0).map((p) => ({ ...p }));
  const layers: TopLevelSpec[] = [
    {
      data: { values: positive },
      mark: { type: "line", point: { size: 12 } },
      encoding: {
        x: { field: "index", type: "quantitative", title: "eigenvalue index (largest first)" },
        y: {
          field: "eigenvalue",
          type: "quantitative",
          title: "eigenvalue of the Hessian",
          scale: { type: "log" },
          axis: { format: ".0e" },
        },
      },
    } as TopLevelSpec,
  ];
  if (priorPrecision > 0) {
    layers.push({
      data: { values: [{ eigenvalue: priorPrecision, label: "prior precision" }] },
      layer: [
        {
          mark: { type: "rule", color: "#888", strokeDash: [4, 3] },
          encoding: { y: { field: "eigenvalue", type: "quantitative" } },
        },
        {
          mark: { type: "text", align: "right", dy: -7, color: "#555", fontSize: 10, x: "width" },
          encoding: { y: { field: "eigenvalue", type: "quantitative" }, text: { field: "label" } },
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
        // one tick format on the log axis (never 0.000001 beside 1e-7), the title close to its labels
        axis: { format: ".0e", titlePadding: 6, labelOverlap: "greedy" as const },
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
          // at the left, below the line: the optimizer starts far above the noise level, so no data sit there
          mark: {
            type: "text",
            align: "left",
            baseline: "top",
            dx: 4,
            dy: 4,
            color: "#555",
            fontSize: 10,
            x: 0,
          },
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
