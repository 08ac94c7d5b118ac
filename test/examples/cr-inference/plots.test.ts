import { describe, expect, it } from "vitest";
import {
  convergenceFigure,
  fluxFigure,
  renderFigure,
  sensorFigure,
  spectrumFigure,
  summaryFigure,
} from "../../../examples/cr-inference/plots.js";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe("figures", () => {
  const sensors = sensorFigure([
    { observed: 0.1, predicted: 0.12, series: "start" },
    { observed: 0.1, predicted: 0.101, series: "inferred" },
    { observed: 0.3, predicted: 0.299, series: "inferred" },
  ]);
  const flux = fluxFigure(
    [0, 0.5, 1, 1.5].flatMap((g) => [
      { gradientMagnitude: g, fluxMagnitude: g * g, series: "truth" },
      { gradientMagnitude: g, fluxMagnitude: 0.5 * g, series: "start" },
    ]),
  );
  const convergence = convergenceFigure([
    { iteration: 0, misfit: 1 },
    { iteration: 1, misfit: 1e-2 },
    { iteration: 2, misfit: 1e-4 },
  ]);

  it("renders each figure to SVG and PNG headless", async () => {
    for (const spec of [sensors, flux, convergence]) {
      const { svg, png } = await renderFigure(spec);
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).toContain("</svg>");
      expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    }
  });

  it("the summary puts the three figures side by side with their axis titles", async () => {
    const { svg } = await renderFigure(summaryFigure(sensors, flux, convergence, "title"));
    for (const text of ["observed u at sensor", "|grad u|", "misfit J", "title"]) expect(svg).toContain(text);
  });

  it("the flux figure with a band adds the relative-error panel; the spectrum figure is log scale", async () => {
    const grid = [0, 0.5, 1, 1.5];
    const withBand = fluxFigure(
      grid.flatMap((g) => [
        { gradientMagnitude: g, fluxMagnitude: g * g, series: "truth" },
        { gradientMagnitude: g, fluxMagnitude: 1.001 * g * g, series: "inferred" },
      ]),
      grid.map((g) => ({ gradientMagnitude: g, lower: 0.99 * g * g, upper: 1.01 * g * g })),
    );
    expect("vconcat" in withBand).toBe(true);
    const { svg } = await renderFigure(withBand);
    expect(svg).toContain("(q - q_true) / max q_true");
    expect(svg).toMatch(/[0-9]\.[0-9]%/);
    const spectrum = await renderFigure(
      spectrumFigure(
        [1e6, 1e3, 2, 1, 0.5].map((eigenvalue, i) => ({ index: i + 1, eigenvalue })),
        1,
      ),
    );
    expect(spectrum.svg).toContain("prior precision");
    expect(spectrum.svg).toContain("1e+6");
  });
});
