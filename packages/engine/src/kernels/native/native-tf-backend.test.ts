import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend, WASM_HEAP_BYTES } from '../../backend.js';
import { normals, relativeErrors } from '../wasm/fixtures/against-cpu.js';
import { broadcastLayout } from './elementwise.js';
import {
  nativeAddonForTests,
  nativeMissingReason,
  runKernelOnTier,
  skipNote,
  useTier,
} from './fixtures/native-tier.js';
import { NATIVE_KERNEL_CONFIGS, NATIVE_ONLY_KERNEL_CONFIGS } from './index.js';
import { NATIVE_BACKEND_NAME, type NativeBackend } from './native-tf-backend.js';

const missing = (pkg: string) => async () => {
  const error = new Error(`Cannot find package '${pkg}' imported from engine`) as Error & { code: string };
  error.code = 'ERR_MODULE_NOT_FOUND';
  throw error;
};
const noLibtensorflow = {
  'tensorflow-gpu': missing('@tensorflow/tfjs-node-gpu'),
  tensorflow: missing('@tensorflow/tfjs-node'),
};

describe('broadcastLayout', () => {
  it('collapses what both operands step through as one', () => {
    expect(broadcastLayout([2, 3, 4], [2, 3, 4])).toEqual({
      outShape: [2, 3, 4],
      shape: [24],
      aStrides: [1],
      bStrides: [1],
    });
    // A per-channel vector: [N·H·W, C] with the vector's stride 0 along the rows.
    expect(broadcastLayout([8, 5, 5, 16], [16])).toMatchObject({
      shape: [200, 16],
      aStrides: [16, 1],
      bStrides: [0, 1],
    });
    expect(broadcastLayout([], [3, 4])).toMatchObject({
      outShape: [3, 4],
      shape: [12],
      aStrides: [0],
      bStrides: [1],
    });
    // [N, 1, 1, C] against [N, H, W, C]: three dims remain.
    expect(broadcastLayout([2, 1, 1, 3], [2, 4, 5, 3])).toMatchObject({
      shape: [2, 20, 3],
      aStrides: [3, 0, 1],
      bStrides: [60, 3, 1],
    });
    expect(broadcastLayout([1], [1])).toMatchObject({ outShape: [1], shape: [1] });
    expect(() => broadcastLayout([2, 3], [4])).toThrow(/broadcast/i);
  });
});

/** Shapes of a op b, as the zoo, the penalty and the optimizers make them. */
const BINARY_SHAPES: [number[], number[]][] = [
  [
    [4, 6, 6, 8],
    [4, 6, 6, 8],
  ],
  [[4, 6, 6, 8], [8]],
  [[8], [4, 6, 6, 8]],
  [[4, 6, 6, 8], []],
  [[], [4, 6, 6, 8]],
  [
    [4, 6, 6, 8],
    [1, 1, 1, 8],
  ],
  [
    [4, 1, 1, 8],
    [4, 6, 6, 8],
  ],
  [
    [4, 6, 6, 8],
    [4, 6, 6, 1],
  ],
  [
    [5, 1],
    [1, 7],
  ],
  [
    [3, 1, 5],
    [1, 4, 1],
  ],
  [[130000], [130000]],
  [[1], [1]],
];

describe.skipIf(!nativeAddonForTests)(`element-wise kernels on the native backend${skipNote}`, () => {
  const binaryKernels = [
    tf.Add,
    tf.Sub,
    tf.Multiply,
    tf.RealDiv,
    tf.SquaredDifference,
    tf.Maximum,
    tf.Minimum,
  ];
  const cases = binaryKernels.flatMap((kernel) =>
    BINARY_SHAPES.map(([a, b]) => [`${kernel} [${a}] with [${b}]`, kernel, a, b] as const),
  );
  it.each(cases)('%s equals the cpu backend exactly', async (_name, kernel, aShape, bShape) => {
    const a = normals(tf.util.sizeFromShape(aShape), 1);
    const b = normals(tf.util.sizeFromShape(bShape), 2);
    // Ties and NaN for Maximum / Minimum.
    if (a.length > 3 && b.length > 3) {
      b[1] = a[1] as number;
      a[2] = Number.NaN;
    }
    const inputs = { a: { shape: aShape, values: a }, b: { shape: bShape, values: b } };
    const native = await runKernelOnTier('native-backend', kernel, inputs, {});
    const cpu = await runKernelOnTier('cpu', kernel, inputs, {});
    expect(native.shape).toEqual(cpu.shape);
    expect(Array.from(native.values)).toEqual(Array.from(cpu.values));
  });

  const unaryKernels = [
    tf.Relu,
    tf.Step,
    tf.Neg,
    tf.Square,
    tf.Sqrt,
    tf.Rsqrt,
    tf.Exp,
    tf.Log,
    tf.Abs,
    tf.Reciprocal,
    tf.Sigmoid,
  ];
  it.each(unaryKernels)(
    '%s matches the cpu backend (exact except for exp and log roundings)',
    async (kernel) => {
      const x = normals(70000, 3).map((v, i) => (i % 7 === 0 ? 0 : v * 3));
      x[5] = Number.NaN;
      x[6] = Number.POSITIVE_INFINITY;
      x[8] = Number.NEGATIVE_INFINITY;
      const inputs = { x: { shape: [70, 1000], values: x } };
      const attrSets: tf.NamedAttrMap[] = kernel === tf.Step ? [{ alpha: 0 }, { alpha: 0.25 }] : [{}];
      for (const attrs of attrSets) {
        const native = await runKernelOnTier('native-backend', kernel, inputs, attrs);
        const cpu = await runKernelOnTier('cpu', kernel, inputs, attrs);
        if ([tf.Exp, tf.Log, tf.Sigmoid].includes(kernel)) {
          const finite = (v: Float32Array | Int32Array) =>
            Float32Array.from(v, (e) => (Number.isFinite(e) ? e : 0));
          expect(relativeErrors(finite(native.values), finite(cpu.values)).max).toBeLessThan(1e-6);
          expect(Array.from(native.values, Number.isNaN)).toEqual(Array.from(cpu.values, Number.isNaN));
        } else {
          expect(Array.from(native.values)).toEqual(Array.from(cpu.values));
        }
      }
    },
  );

  it("fills recycled arrays: Fill, ZerosLike and OnesLike give the cpu backend's values", async () => {
    await useTier('native-backend');
    const size = 70000;
    const x = tf.tensor1d(normals(size, 5));
    // Dirty a recycled array of that length first: the fills must overwrite all of it.
    tf.dispose(tf.mul(x, x));
    const made = [tf.fill([size], 2.5), tf.zerosLike(x), tf.onesLike(x)];
    const values = made.map((t) => Array.from(new Set(t.dataSync())));
    expect(values).toEqual([[2.5], [0], [1]]);
    tf.dispose([x, ...made]);
  });

  it('leaves int32 and bool tensors to the cpu kernels, and reads a float cast of them', async () => {
    await useTier('native-backend');
    const sums = tf.tidy(() => {
      const ints = tf.tensor1d([1, 2, 3], 'int32');
      const asFloat = tf.cast(tf.tensor1d([true, false, true], 'bool'), 'float32');
      return [tf.add(ints, ints).arraySync(), tf.mul(asFloat, tf.scalar(2.5)).arraySync()];
    });
    expect(sums).toEqual([
      [2, 4, 6],
      [2.5, 0, 2.5],
    ]);
  });
});

describe.skipIf(!nativeAddonForTests)(`Slice and PadV2 on the native backend${skipNote}`, () => {
  const shape = [3, 5, 6, 4];
  const x = normals(3 * 5 * 6 * 4, 9);
  const slices: [number[], number[]][] = [
    [
      [0, 0, 0, 0],
      [3, 5, 6, 4],
    ],
    [
      [1, 0, 0, 0],
      [1, 5, 6, 4],
    ],
    [
      [0, 1, 1, 0],
      [3, 3, 4, 4],
    ],
    [
      [2, 4, 5, 3],
      [1, 1, 1, 1],
    ],
    [
      [0, 2, 0, 1],
      [2, -1, 6, 2],
    ],
  ];
  it.each(slices)('Slice at %j of size %j equals the cpu backend', async (begin, size) => {
    const inputs = { x: { shape, values: x } };
    const native = await runKernelOnTier('native-backend', tf.Slice, inputs, { begin, size });
    const cpu = await runKernelOnTier('cpu', tf.Slice, inputs, { begin, size });
    expect(native.shape).toEqual(cpu.shape);
    expect(Array.from(native.values)).toEqual(Array.from(cpu.values));
  });

  const paddings: number[][][] = [
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    [
      [1, 0],
      [0, 2],
      [3, 1],
      [2, 2],
    ],
    [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ],
  ];
  it.each(paddings)('PadV2 by %j equals the cpu backend', async (...pads) => {
    const inputs = { x: { shape, values: x } };
    for (const constantValue of [0, -1.5]) {
      const attrs = { paddings: pads, constantValue };
      const native = await runKernelOnTier('native-backend', tf.PadV2, inputs, attrs);
      const cpu = await runKernelOnTier('cpu', tf.PadV2, inputs, attrs);
      expect(native.shape).toEqual(cpu.shape);
      expect(Array.from(native.values)).toEqual(Array.from(cpu.values));
    }
  });
});

describe.skipIf(!nativeAddonForTests)(`the native backend's recycled outputs${skipNote}`, () => {
  const size = 64 * 1024;

  it('reuses a disposed output, and what was read out before stays as it was', async () => {
    await useTier('native-backend');
    const backend = tf.backend() as NativeBackend;
    const x = tf.fill([size], 2);
    const first = tf.mul(x, x);
    const read = first.dataSync();
    const before = backend.pooledByteCount();
    first.dispose();
    expect(backend.pooledByteCount()).toBe(before + size * 4);
    const second = tf.add(x, x);
    expect(backend.pooledByteCount()).toBe(before);
    expect(read[0]).toBe(4);
    expect(second.dataSync()[0]).toBe(4);
    tf.dispose([x, second]);
  });

  it("keeps a cpu kernel's view of an output valid after the output is disposed", async () => {
    await useTier('native-backend');
    const x = tf.fill([4, size / 4], 3);
    const product = tf.mul(x, x);
    // SplitV is a cpu kernel here; its pieces along axis 0 are views of product's array.
    const [firstRow] = tf.split(product, 4, 0) as [tf.Tensor];
    product.dispose();
    const other = tf.add(x, x); // same length: would take product's array if it were recycled
    expect(firstRow.dataSync()[0]).toBe(9);
    tf.dispose([x, firstRow, other]);
  });

  it('runs every cpu kernel, and the native ones over them', async () => {
    await useTier('native-backend');
    const cpuNames = tf.getKernelsForBackend('cpu').map((k) => k.kernelName);
    const nativeNames = new Set(tf.getKernelsForBackend(NATIVE_BACKEND_NAME).map((k) => k.kernelName));
    expect(cpuNames.filter((name) => !nativeNames.has(name))).toEqual([]);
    for (const config of [...NATIVE_KERNEL_CONFIGS, ...NATIVE_ONLY_KERNEL_CONFIGS]) {
      expect(tf.getKernel(config.kernelName, NATIVE_BACKEND_NAME)?.kernelFunc).toBe(config.kernelFunc);
    }
  });
});

describe('choosing the native backend', () => {
  it.runIf(nativeAddonForTests)(
    'auto picks it before wasm, and the report names its memory ceiling',
    async () => {
      const report = await initBackend({ loaders: noLibtensorflow });
      expect(report.choice).toBe('native');
      expect(report.tfBackend).toBe('native');
      expect(report.attempts.map((a) => [a.choice, a.ok])).toEqual([
        ['tensorflow-gpu', false],
        ['tensorflow', false],
        ['native', true],
      ]);
      expect(report.native).toMatchObject({ active: true, library: expect.stringMatching(/oneDNN/) });
      expect(report.memoryCeiling.bytes).toBeGreaterThan(0);
      expect(report.memoryCeiling.reason).toMatch(/limited by (RAM|this process's cgroup)/);
      expect(report.device.kind).toBe('cpu');
    },
  );

  it('auto falls back to wasm when the addon cannot load, saying why, with the 4 GiB ceiling', async () => {
    const report = await initBackend({
      loaders: {
        ...noLibtensorflow,
        native: async () => {
          throw new Error('the native addon is not built (test)');
        },
      },
    });
    expect(report.choice).toBe('wasm');
    expect(report.attempts.find((a) => a.choice === 'native')?.reason).toMatch(
      /the native addon is not built \(test\)/,
    );
    expect(report.memoryCeiling).toEqual({
      bytes: WASM_HEAP_BYTES,
      reason: 'tensors live in the wasm32 heap, which cannot grow past 4 GiB',
    });
  });

  it('an explicit request that fails errors with the reason instead of falling back', async () => {
    await expect(
      initBackend({
        backend: 'native',
        loaders: {
          native: async () => {
            throw new Error('the native addon is not built (test)');
          },
        },
      }),
    ).rejects.toThrow(/backend 'native' was requested but failed: .*the native addon is not built \(test\)/);
    if (!nativeAddonForTests) {
      await expect(initBackend({ backend: 'native' })).rejects.toThrow(nativeMissingReason as string);
    }
  });

  it('FISHERLAB_NATIVE=off keeps auto off the native backend', async () => {
    process.env['FISHERLAB_NATIVE'] = 'off';
    try {
      const report = await initBackend({ loaders: noLibtensorflow });
      expect(report.choice).toBe('wasm');
      expect(report.attempts.find((a) => a.choice === 'native')?.reason).toMatch(/FISHERLAB_NATIVE=off/);
    } finally {
      delete process.env['FISHERLAB_NATIVE'];
    }
  });
});
