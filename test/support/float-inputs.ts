/**
 * @file Seeded float64 inputs for kernel tests: a mulberry32 generator, doubles with uniformly random bits,
 * and arrays that cycle over focused ranges.
 */

/**
 * A seeded generator of uniform numbers in [0, 1) (mulberry32), so runs see the same inputs.
 *
 * @example
 * const random = generator(7); random(); // 0.0...
 */
export function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bits = new Float64Array(1);
const bitWords = new Uint32Array(bits.buffer);

/**
 * A double with uniformly random bits (every exponent, sign, NaN payload and Infinity included).
 *
 * @example
 * const x = randomBits(generator(1));
 */
export function randomBits(random: () => number): number {
  bitWords[0] = Math.floor(random() * 4294967296);
  bitWords[1] = Math.floor(random() * 4294967296);
  return bits[0];
}

/**
 * n inputs cycling over `makers` (each draws from one focused range), from the seeded generator.
 *
 * @example
 * const x = cyclingInputs(1000, 3, [(r) => r() * 700, (r) => -r() * 700]);
 */
export function cyclingInputs(
  n: number,
  random: () => number,
  makers: ((random: () => number) => number)[],
): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = makers[i % makers.length](random);
  return x;
}
