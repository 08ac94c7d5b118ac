import { formatObservations, parseObservations, unitSquareMesh } from "tsadjoint/fem";
import { describe, expect, it } from "vitest";

describe("parseObservations", () => {
  const mesh = unitSquareMesh(4);

  it("reads x,y,value[,sigma] in any column order, skipping blank and # lines", () => {
    const obs = parseObservations(
      "# made by hand\nvalue, X ,y,sigma\n\n0.1,0.5,0.25,0.01\n0.2,0.75,0.5,0.02\n",
      mesh,
    );
    expect(Array.from(obs.points)).toEqual([0.5, 0.25, 0.75, 0.5]);
    expect(Array.from(obs.values)).toEqual([0.1, 0.2]);
    expect(Array.from(obs.sigma ?? [])).toEqual([0.01, 0.02]);
    expect(Array.from(obs.lines)).toEqual([4, 5]);
    expect(parseObservations("x,y,value\n0.5,0.5,1\n").sigma).toBeNull();
  });

  it("formatObservations round-trips at full precision", () => {
    const points = [0.1234567890123456, 0.3, 0.7, 1 / 3];
    const values = [Math.PI, -1e-12];
    const back = parseObservations(formatObservations(points, values, [0.1, 0.2]), mesh);
    expect(Array.from(back.points)).toEqual(points);
    expect(Array.from(back.values)).toEqual(values);
  });

  it("every bad input is an error naming the row", () => {
    const cases: [string, RegExp][] = [
      ["", /observations is empty/],
      ["\n# only a comment\n", /observations is empty/],
      ["x,y,value\n", /row 1: the header is not followed by any observation/],
      ["x,y,x\n0,0,0\n", /row 1: duplicate column 'x'/],
      ["x,y,value,value\n0,0,0,0\n", /row 1: duplicate column 'value'/],
      ["x,y\n0.5,0.5\n", /row 1: the header has no 'value' column/],
      ["x,y,value,weight\n", /row 1: unknown column 'weight'/],
      ["x,y,value\n0.5,0.5,1\n0.5,0.5\n", /row 3: expected 3 columns \(x,y,value\), got 2/],
      ["x,y,value\n0.5,0.5,NaN\n", /row 2: value 'NaN' is not a finite number/],
      ["x,y,value\n0.5,,1\n", /row 2: y '' is not a finite number/],
      ["x,y,value\n0.5,0.5,abc\n", /row 2: value 'abc'/],
      ["x,y,value,sigma\n0.5,0.5,1,0\n", /row 2: sigma must be positive, got 0/],
      ["x,y,value\n0.5,0.5,1\n\n1.5,0.5,1\n", /row 4: point \(1.5, 0.5\) lies outside the mesh/],
    ];
    for (const [text, message] of cases) expect(() => parseObservations(text, mesh)).toThrow(message);
  });
});
