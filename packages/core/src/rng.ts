/**
 * xoshiro128** (Blackman and Vigna, 2018), a small, fast 32-bit generator with a 128-bit state, seeded
 * through SplitMix32 so that nearby integer seeds give unrelated streams. Its state is four uint32
 * words, so a checkpoint can store it as JSON and resume the exact stream. It is FisherLab's one
 * random generator family: every seeded draw in every package (shuffles, augmentation, label noise,
 * subsets, the penalty's ŷ, Tr(F)'s ŷ, curvature probes) comes from a stream Rng.fromSeed(deriveSeed(...))
 * names; the streams are listed in this package's README.
 */
export interface RngState {
  algorithm: 'xoshiro128**';
  state: [number, number, number, number];
}

/** SplitMix32 step: returns [output, next state]. */
function splitMix32(x: number): [number, number] {
  const next = (x + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [(z ^ (z >>> 16)) >>> 0, next];
}

/**
 * Mixes integer parts (seed, epoch, salt, ...) into one 32-bit seed, so independent streams can be
 * named instead of threaded through the code (e.g. deriveSeed(seed, epoch) for an epoch's shuffle).
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    if (!Number.isSafeInteger(part)) throw new RangeError(`deriveSeed: parts must be integers, got ${part}`);
    // Fold both 32-bit halves of the integer in, so seeds above 2^32 stay distinct.
    const lo = part >>> 0;
    const hi = Math.floor(part / 0x100000000) >>> 0;
    h = splitMix32((h ^ lo) >>> 0)[0];
    h = splitMix32((h ^ hi) >>> 0)[0];
  }
  return h;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(state: readonly number[]) {
    this.s0 = state[0]! >>> 0;
    this.s1 = state[1]! >>> 0;
    this.s2 = state[2]! >>> 0;
    this.s3 = state[3]! >>> 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0)
      throw new RangeError('xoshiro128** state must not be all zero');
  }

  /** A generator seeded from an integer (any safe integer; it is mixed through deriveSeed). */
  static fromSeed(seed: number): Rng {
    let x = deriveSeed(seed);
    const state: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [out, next] = splitMix32(x);
      state.push(out);
      x = next;
    }
    return new Rng(state);
  }

  /** Restores a generator saved with getState(). */
  static fromState(saved: RngState): Rng {
    if (saved?.algorithm !== 'xoshiro128**' || !Array.isArray(saved.state) || saved.state.length !== 4) {
      throw new TypeError(
        `Rng.fromState: expected { algorithm: 'xoshiro128**', state: [4 uint32] }, found ${JSON.stringify(saved)}`,
      );
    }
    return new Rng(saved.state);
  }

  getState(): RngState {
    return { algorithm: 'xoshiro128**', state: [this.s0, this.s1, this.s2, this.s3] };
  }

  /** Next uint32. */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    // result = rotl(s1 * 5, 7) * 9
    const t5 = Math.imul(s1, 5);
    const result = Math.imul((t5 << 7) | (t5 >>> 25), 9) >>> 0;
    const t = s1 << 9;
    let n2 = s2 ^ s0;
    let n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    n2 ^= t;
    n3 = (n3 << 11) | (n3 >>> 21);
    this.s0 = n0 >>> 0;
    this.s1 = n1 >>> 0;
    this.s2 = n2 >>> 0;
    this.s3 = n3 >>> 0;
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** Uniform integer in [0, n), unbiased (rejection of the short last range), n <= 2^32. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) {
      throw new RangeError(`Rng.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 0x100000000 - (0x100000000 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Shuffles in place (Fisher-Yates) and returns the array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}

/**
 * A uniform [0, 1) source on the stream named by `parts` (seed, stream id, step, ...):
 * Rng.fromSeed(deriveSeed(...parts)).nextFloat, for code that only needs floats.
 */
export function seededUniform(...parts: number[]): () => number {
  const rng = Rng.fromSeed(deriveSeed(...parts));
  return () => rng.nextFloat();
}
