import { describe, expect, it } from 'vitest';
import { deriveSeed, Rng } from './rng.js';

/** xoshiro128** written independently with BigInt arithmetic, from the reference C code. */
function referenceXoshiro(state: [number, number, number, number], n: number): number[] {
  const mask = 0xffffffffn;
  const s = state.map(BigInt);
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & mask;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Number((rotl((s[1]! * 5n) & mask, 7n) * 9n) & mask));
    const t = (s[1]! << 9n) & mask;
    s[2] = s[2]! ^ s[0]!;
    s[3] = s[3]! ^ s[1]!;
    s[1] = s[1]! ^ s[2]!;
    s[0] = s[0]! ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11n);
  }
  return out;
}

describe('Rng (xoshiro128**)', () => {
  it('matches the algorithm by hand from state [1, 2, 3, 4] and a BigInt reference for 2000 draws', () => {
    const rng = Rng.fromState({ algorithm: 'xoshiro128**', state: [1, 2, 3, 4] });
    const draws = Array.from({ length: 2000 }, () => rng.nextUint32());
    // The first three worked out by hand from the reference code.
    expect(draws.slice(0, 3)).toEqual([11520, 0, 5927040]);
    expect(draws).toEqual(referenceXoshiro([1, 2, 3, 4], 2000));
    const seeded = Rng.fromSeed(42);
    const state = seeded.getState().state;
    expect(Array.from({ length: 100 }, () => seeded.nextUint32())).toEqual(referenceXoshiro(state, 100));
  });

  it('restores a saved state exactly (checkpoints) and survives a JSON round trip', () => {
    const rng = Rng.fromSeed(7);
    for (let i = 0; i < 37; i++) rng.nextUint32();
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = Array.from({ length: 50 }, () => rng.nextFloat());
    const restored = Rng.fromState(saved);
    expect(Array.from({ length: 50 }, () => restored.nextFloat())).toEqual(expected);
    expect(() => Rng.fromState({ algorithm: 'mulberry32', state: [1] } as never)).toThrow(/xoshiro128/);
  });

  it('is deterministic per seed and differs between nearby seeds', () => {
    const a = Array.from(
      { length: 8 },
      (
        (r) => () =>
          r.nextUint32()
      )(Rng.fromSeed(1)),
    );
    const b = Array.from(
      { length: 8 },
      (
        (r) => () =>
          r.nextUint32()
      )(Rng.fromSeed(1)),
    );
    const c = Array.from(
      { length: 8 },
      (
        (r) => () =>
          r.nextUint32()
      )(Rng.fromSeed(2)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(deriveSeed(1, 2)).not.toBe(deriveSeed(2, 1));
    expect(deriveSeed(3, 2 ** 32)).not.toBe(deriveSeed(3, 0));
  });

  it('nextInt is uniform (chi-square over 10 bins, 100k draws) and nextFloat is in [0, 1)', () => {
    const rng = Rng.fromSeed(123);
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) bins[rng.nextInt(10)]!++;
    const chi2 = bins.reduce((s, k) => s + (k - 10_000) ** 2 / 10_000, 0);
    // 9 degrees of freedom: P(chi2 > 27.9) = 0.001.
    expect(chi2).toBeLessThan(27.9);
    for (let i = 0; i < 10_000; i++) {
      const f = rng.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(() => rng.nextInt(0)).toThrow(RangeError);
  });

  it('permutation is a permutation, with every position equally likely for an element', () => {
    const rng = Rng.fromSeed(9);
    const firstPlace = new Array<number>(5).fill(0);
    for (let t = 0; t < 20_000; t++) {
      const p = rng.permutation(5);
      expect([...p].sort()).toEqual([0, 1, 2, 3, 4]);
      firstPlace[p[0]!]!++;
    }
    for (const k of firstPlace) expect(Math.abs(k - 4000)).toBeLessThan(250);
  });
});
