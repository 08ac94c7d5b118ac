import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELP, parseCli, UsageError } from "../../../examples/cr-inference/cli.js";

const ROOT = join(import.meta.dirname, "../../..");

function runMain(args: string[]) {
  return spawnSync(
    process.execPath,
    ["--conditions=tsadjoint-source", "--import", "tsx", "examples/main.ts", ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );
}

describe("command line", () => {
  it("parses every flag and rejects bad values", () => {
    const options = parseCli([
      "--mesh",
      "8",
      "--noise",
      "0.02",
      "--seed",
      "5",
      "--engine",
      "jax",
      "--jax-device",
      "wasm",
      "--cr",
      "network",
      "--optimizer",
      "newton-cg",
      "--out",
      "elsewhere",
      "--p-true",
      "2.5",
      "--k-true",
      "2",
      "--max-iter",
      "7",
      "--tikhonov",
      "0.1",
      "--quiet",
    ]);
    expect(options.settings).toMatchObject({
      mesh: 8,
      noise: 0.02,
      seed: 5,
      engine: "jax",
      jaxDevice: "wasm",
      cr: "network",
      optimizer: "newton-cg",
      pTrue: 2.5,
      kTrue: 2,
      maxIterations: 7,
      tikhonov: 0.1,
    });
    expect(options.out).toBe("elsewhere");
    expect(options.quiet).toBe(true);
    expect(parseCli([]).settings).toMatchObject({
      mesh: 32,
      engine: "native",
      cr: "power-law",
      maxIterations: 50,
    });
    for (const bad of [
      ["--mesh", "0"],
      ["--engine", "torch"],
      ["--noise", "x"],
      ["--what"],
      ["--engine", "tfjs"],
    ]) {
      expect(() => parseCli(bad)).toThrow(UsageError);
    }
    // every bad value says what is accepted
    for (const [bad, message] of [
      [["--mesh", "-3"], /--mesh: -3 is out of range \(expected an integer from 2 to 512\)/],
      [["--mesh=-3"], /--mesh: -3 is out of range \(expected an integer from 2 to 512\)/],
      [["--mesh", "0x10"], /--mesh: '0x10' is not a decimal number/],
      [["--mesh", "1e400"], /--mesh: '1e400' is not a decimal number/],
      [["--noise", "-0.5"], /--noise: -0.5 is out of range \(expected a number >= 0/],
      [["--p-true", "7"], /--p-true: 7 is outside the inference bounds \[1.2, 6\] of the power law/],
      [["--k-true", "0.01"], /--k-true: 0.01 is outside the inference bounds \[0.05, 20\]/],
    ] as const) {
      expect(() => parseCli(bad)).toThrow(message);
    }
    // the network has no bound on p: a truth of 7 is a valid experiment there
    expect(parseCli(["--cr", "network", "--p-true", "7"]).settings.pTrue).toBe(7);
    expect(parseCli(["--tikhonov", "-0"]).settings.tikhonov).toBe(-0);
    for (const flag of ["--mesh", "--noise", "--seed", "--engine", "--jax-device", "--cr", "--optimizer"]) {
      expect(HELP).toContain(flag);
    }
    for (const flag of [
      "--out",
      "--p-true",
      "--k-true",
      "--max-iter",
      "--tikhonov",
      "--quiet",
      "--help",
      "--config",
    ]) {
      expect(HELP).toContain(flag);
    }
  });

  it("--config with another flag is an error naming the flag (the file defines the whole run)", () => {
    expect(() => parseCli(["--config", "run.json", "--mesh", "16"])).toThrow(
      /--config takes the whole run from the file, so --mesh cannot be combined with it/,
    );
    expect(() => parseCli(["--config", "run.json", "--noise", "0.02", "--cr", "network"])).toThrow(
      /--noise, --cr/,
    );
    expect(parseCli(["--config", "run.json", "--quiet"])).toMatchObject({ config: "run.json", quiet: true });
    expect(() => parseCli(["--problem", "transient", "--steps", "-3"])).toThrow(
      /--steps: -3 is out of range/,
    );
  });

  it("npm start -- --mesh 8 --quiet --out <dir> prints the report and writes report.json and the figures", () => {
    const out = mkdtempSync(join(tmpdir(), "cr-inference-"));
    try {
      const run = runMain(["--mesh", "8", "--quiet", "--out", out]);
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const text = run.stdout;
      for (const line of [
        "81 nodes",
        "128 elements",
        "49 unknowns",
        "100 sensors",
        "Taylor test",
        "p  =",
        "k  =",
      ]) {
        expect(text).toContain(line);
      }
      expect(text).toMatch(/\d+ forward .* \d+ adjoint/);
      expect(text).toMatch(/wall time: [\d.]+ s/);
      const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
      expect(report.problem).toMatchObject({ nodes: 81, elements: 128, unknowns: 49, sensors: 100 });
      expect(report.taylor.rate).toBeGreaterThan(1.9);
      expect(report.parameters.map((p: { name: string }) => p.name)).toEqual(["p", "k"]);
      expect(report.figures.sensors.length).toBe(200);
      expect(report.figures.flux.length).toBe(3 * 101);
      expect(report.figures.convergence.length).toBe(report.optimizer.iterations + 1);
      for (const name of ["sensors", "flux", "convergence", "summary"]) {
        expect(readFileSync(join(out, `${name}.svg`), "utf8").startsWith("<svg")).toBe(true);
        expect([...readFileSync(join(out, `${name}.png`)).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("--help explains the flags; a bad flag exits with code 2", () => {
    const help = runMain(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--engine");
    const missing = runMain(["--config", "no-such-run.json"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^error: no-such-run.json: cannot read the config file no-such-run.json/);
    const bad = runMain(["--mesh", "-3"]);
    expect(bad.status).toBe(2);
    // one line naming the flag and the valid range, then a pointer to --help (not the whole help)
    expect(bad.stderr.trim().split("\n")).toEqual([
      "error: --mesh: -3 is out of range (expected an integer from 2 to 512); see --help",
    ]);
  });
});
