import {
  type AdjContext,
  AdjFloat,
  Block,
  Control,
  computeGradient,
  createOverloadedObject,
  OverloadedValue,
  type RecomputeContext,
  recordBlock,
  registerOverloadedType,
  scalarSpace,
  spaceOf,
  Tape,
  toRaw,
  UnregisteredTypeError,
  type VectorSpace,
  withTape,
  wrapRaw,
} from "tsadjoint";
import { describe, expect, it } from "vitest";

/** A user-defined overloaded type: a point in the plane. */
class Point extends OverloadedValue {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {
    super();
  }
  raw(): Point {
    return this;
  }
}

const pointSpace: VectorSpace<Point> = {
  zerosLike: () => new Point(0, 0),
  add: (a, b) => new Point(a.x + b.x, a.y + b.y),
  scale: (a, s) => new Point(a.x * s, a.y * s),
  dot: (a, b) => a.x * b.x + a.y * b.y,
  norm: (a) => Math.hypot(a.x, a.y),
  copy: (a) => new Point(a.x, a.y),
  size: () => 2,
  toFloat64Array: (a) => Float64Array.of(a.x, a.y),
  fromFloat64Array: (_like, data) => new Point(data[0], data[1]),
  shape: () => [2],
};

/** |p|^2 as a block, so the custom type flows through the drivers. */
class SquaredNorm extends Block {
  recompute({ inputs }: RecomputeContext) {
    const p = inputs[0] as Point;
    return [p.x * p.x + p.y * p.y];
  }
  override evaluateAdj({ inputs, adjInputs }: AdjContext) {
    const p = inputs[0] as Point;
    const bar = (adjInputs[0] as number | undefined) ?? 0;
    return [new Point(2 * p.x * bar, 2 * p.y * bar)];
  }
}

describe("overloaded-type protocol", () => {
  it("registerOverloadedType: a user type works with createOverloadedObject and the drivers", () => {
    registerOverloadedType<Point, Point>({
      name: "Point",
      isRaw: (value): value is Point => value instanceof Point,
      wrap: (raw) => new Point(raw.x, raw.y),
      create: (value) =>
        Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number")
          ? new Point(value[0], value[1])
          : undefined,
      space: pointSpace,
    });
    const p = createOverloadedObject([3, 4]) as Point;
    expect(p).toBeInstanceOf(Point);
    expect(spaceOf(toRaw(p)).norm(p)).toBe(5);
    const tape = new Tape();
    const J = withTape(tape, () => {
      const block = new SquaredNorm();
      block.addDependency(p);
      const out = block.addOutput(new AdjFloat(25));
      recordBlock(block);
      return out;
    });
    const g = computeGradient(J, new Control(p), { tape }) as Point;
    expect([g.x, g.y]).toEqual([6, 8]);
  });

  it("createOverloadedObject: numbers become AdjFloats; overloaded values are returned as they are", () => {
    const x = createOverloadedObject(1.5);
    expect(x).toBeInstanceOf(AdjFloat);
    expect(createOverloadedObject(x)).toBe(x);
    expect(wrapRaw(2)).toBeInstanceOf(AdjFloat);
  });

  it("an unregistered type is a typed error", () => {
    expect(() => createOverloadedObject(new Map())).toThrow(UnregisteredTypeError);
    expect(() => createOverloadedObject(new Map())).toThrow(/Map is not a registered overloaded type/);
    expect(() => spaceOf(new Set())).toThrow(UnregisteredTypeError);
  });

  it("registerOverloadedType refuses a malformed spec with an error naming the field", () => {
    const good = {
      name: "Point2",
      isRaw: (value: unknown): value is Point => value instanceof Point,
      wrap: (raw: Point) => raw,
      space: pointSpace,
    };
    const register = (spec: unknown) => () =>
      registerOverloadedType(spec as Parameters<typeof registerOverloadedType>[0]);
    expect(register(null)).toThrow(
      /registerOverloadedType: the spec must be an object, got null; see OverloadedTypeSpec/,
    );
    expect(register(3)).toThrow(/the spec must be an object, got number/);
    expect(register({ ...good, name: "" })).toThrow(/spec.name must be a non-empty string/);
    expect(register({ ...good, wrap: 1 })).toThrow(/spec.wrap must be a function/);
    expect(register({ ...good, create: "no" })).toThrow(/spec.create must be a function/);
    expect(register({ ...good, space: null })).toThrow(/spec.space must be a VectorSpace object/);
    expect(register({ ...good, space: { ...pointSpace, dot: undefined } })).toThrow(
      /spec.space.dot must be a function/,
    );
  });

  it("scalarSpace implements the protocol", () => {
    expect(scalarSpace.add(1, 2)).toBe(3);
    expect(scalarSpace.scale(2, 3)).toBe(6);
    expect(scalarSpace.dot(2, 3)).toBe(6);
    expect(scalarSpace.norm(-2)).toBe(2);
    expect(scalarSpace.zerosLike(5)).toBe(0);
    expect(scalarSpace.copy(5)).toBe(5);
    expect(Array.from(scalarSpace.toFloat64Array(5))).toEqual([5]);
    expect(scalarSpace.fromFloat64Array(0, Float64Array.of(7))).toBe(7);
  });
});
