import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NATIVE_ADDON_PATH } from './addon.js';
import {
  nativeAddonForTests,
  nativeMissingReason,
  nativeRequiredHere,
  skipNote,
} from './fixtures/native-tier.js';

describe('native addon', () => {
  it.runIf(nativeRequiredHere)('is built where CI installed g++ and libdnnl-dev', () => {
    expect(nativeMissingReason).toBeUndefined();
  });

  describe.skipIf(!nativeAddonForTests)(`its entry points${skipNote}`, () => {
    it('reports its oneDNN version and takes a thread count', () => {
      const addon = nativeAddonForTests!;
      expect(addon.library()).toMatch(/oneDNN \d+\.\d+/);
      expect(addon.setThreads(1)).toBe(1);
      expect(addon.setThreads(2)).toBe(2);
    });

    it.runIf(process.platform === 'linux')(
      "keeps freed memory for reuse on glibc, unless the environment sets glibc's malloc",
      () => {
        // A fresh process each: the thresholds are process-wide, and the check reads the environment.
        const keep = (env: NodeJS.ProcessEnv) =>
          execFileSync(
            process.execPath,
            ['-e', `process.stdout.write(require(${JSON.stringify(NATIVE_ADDON_PATH)}).keepFreedMemory())`],
            { encoding: 'utf8', env },
          );
        const { MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES, ...plain } = process.env;
        expect(keep(plain)).toBe('glibc malloc keeps freed memory for reuse');
        expect(keep({ ...plain, MALLOC_TRIM_THRESHOLD_: '131072' })).toBe(
          'glibc malloc as the environment sets it',
        );
        expect(keep({ ...plain, GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' })).toBe(
          'glibc malloc as the environment sets it',
        );
      },
    );

    it('multiplies batched matrices with transposes, broadcast, bias and relu like a loop does', () => {
      const addon = nativeAddonForTests!;
      const [batch, m, n, k] = [3, 4, 5, 6];
      const a = Float32Array.from({ length: batch * k * m }, (_, i) => Math.sin(i));
      const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.7));
      const bias = Float32Array.from({ length: n }, (_, i) => i - 2);
      const c = new Float32Array(batch * m * n);
      // a stored transposed ([batch, k, m]), b a single [k, n] matrix broadcast over the batch.
      addon.matmul(batch, 1, m, n, k, true, false, a, b, bias, true, c);
      for (let t = 0; t < batch; t++) {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = bias[j] as number;
            for (let p = 0; p < k; p++)
              sum += (a[t * k * m + p * m + i] as number) * (b[p * n + j] as number);
            expect(c[(t * m + i) * n + j]).toBeCloseTo(Math.max(sum, 0), 5);
          }
        }
      }
    });

    it('exports the op codes of its header by name, and binary/unary compute the op named', () => {
      const addon = nativeAddonForTests!;
      expect(Object.keys(addon.binaryOps).sort()).toEqual(
        ['add', 'div', 'maximum', 'minimum', 'mul', 'reluGrad', 'squaredDifference', 'sub'].sort(),
      );
      expect(Object.keys(addon.unaryOps)).toHaveLength(11);
      expect(new Set(Object.values(addon.unaryOps)).size).toBe(11);
      const a = Float32Array.from([5, -2, 3]);
      const b = Float32Array.from([1, 4, 3]);
      const out = new Float32Array(3);
      addon.binary(addon.binaryOps.sub, [3], [1], [1], a, b, out);
      expect([...out]).toEqual([4, -6, 0]);
      addon.unary(addon.unaryOps.relu, Float32Array.from([-1, 2, -3]), 0, out);
      expect([...out]).toEqual([0, 2, 0]);
    });

    it('names the argument and the fix when a buffer does not fit the shape', () => {
      const addon = nativeAddonForTests!;
      const shape = [1, 4, 4, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1];
      expect(() =>
        addon.conv2d(shape, new Float32Array(16), new Float32Array(9), null, false, new Float32Array(15)),
      ).toThrow(/y has 15 elements, the shape needs 16/);
      expect(() =>
        addon.conv2dBackpropFilter(
          shape.slice(0, 5),
          new Float32Array(16),
          new Float32Array(16),
          new Float32Array(9),
        ),
      ).toThrow(/shape must be 13 integers/);
    });
  });
});
