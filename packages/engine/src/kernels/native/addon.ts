import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The native CPU tier's addon (packages/engine/native/build/fisherlab_native.node, built by
 * native/build.mjs where g++ and oneDNN exist). Every function computes synchronously, in place,
 * on the Float32Arrays it is given.
 */
export interface NativeAddon {
  // The convolution and matmul entry points return false, computing nothing, when oneDNN has no
  // implementation for the shape other than its jit gemm (which corrupts the heap in oneDNN 2.6.3)
  // or its reference one: the caller then runs the wasm kernel.
  /** y = conv(x, filter) (+ bias) (then relu); shape is {@link nativeConvShape}. */
  conv2d(
    shape: number[],
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    relu: boolean,
    y: Float32Array,
  ): boolean;
  conv2dBackpropFilter(shape: number[], x: Float32Array, dy: Float32Array, dw: Float32Array): boolean;
  conv2dBackpropInput(shape: number[], dy: Float32Array, filter: Float32Array, dx: Float32Array): boolean;
  /** out[n] = ‖filter gradient of example n alone‖² (what conv2dBackpropFilter gives for batch 1). */
  perExampleConv2dFilterSquaredNorms(
    shape: number[],
    x: Float32Array,
    dy: Float32Array,
    out: Float32Array,
  ): boolean;
  /**
   * c[i] = act(op(a[i]) · op(b[i]) + bias), op(a): [m, k], op(b): [k, n] (transposed when asked);
   * an operand with batch 1 is broadcast; act is relu or the identity.
   */
  matmul(
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    a: Float32Array,
    b: Float32Array,
    bias: Float32Array | null,
    relu: boolean,
    c: Float32Array,
  ): boolean;
  /** dx of a max pool: each dy entry added at its window's first maximum; shape as for conv2d. */
  maxPoolGrad(shape: number[], x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** y = max over each window (clipped to the image); shape as for conv2d with Cout = Cin. */
  maxPool(shape: number[], x: Float32Array, y: Float32Array): void;
  /** ddy[window] = ddx at the window's argmax (as maxPoolGrad picks it): the adjoint of maxPoolGrad. */
  maxPoolSelect(shape: number[], x: Float32Array, ddx: Float32Array, ddy: Float32Array): void;
  /** y[i, c] = (x[i, c] − mean[c]) · scale[c] / √(variance[c] + epsilon) + offset[c] over [rows, channels]. */
  batchNorm(
    rows: number,
    channels: number,
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    epsilon: number,
    y: Float32Array,
  ): void;
  /**
   * Training-mode batch norm over [rows, channels]: the batch's mean and (biased) variance per
   * channel, and y = (x − mean) · scale / √(variance + epsilon) + offset.
   */
  batchNormTraining(
    rows: number,
    channels: number,
    x: Float32Array,
    scale: Float32Array,
    offset: Float32Array,
    epsilon: number,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
  ): void;
  /** batchNormTraining's backward: dx, dscale, doffset from dy and the gradients of its mean and variance outputs. */
  batchNormTrainingGrad(
    rows: number,
    channels: number,
    dy: Float32Array,
    x: Float32Array,
    scale: Float32Array,
    dmean: Float32Array,
    dvariance: Float32Array,
    epsilon: number,
    dx: Float32Array,
    dscale: Float32Array,
    doffset: Float32Array,
  ): void;
  /**
   * The derivatives of batchNormTrainingGrad's outputs (dx, dscale, doffset), paired with the
   * adjoints ddx, ddscale, ddoffset, with respect to its inputs dy, x, scale, dmean, dvariance.
   */
  batchNormTrainingGradGrad(
    rows: number,
    channels: number,
    dy: Float32Array,
    x: Float32Array,
    scale: Float32Array,
    dvariance: Float32Array,
    ddx: Float32Array,
    ddscale: Float32Array,
    ddoffset: Float32Array,
    epsilon: number,
    ddy: Float32Array,
    dx: Float32Array,
    dscale: Float32Array,
    ddmean: Float32Array,
    ddvariance: Float32Array,
  ): void;
  /** out[o, c] = scale · Σ_i x[o, i, c] over a row-major [outer, rows, cols] x, accumulated in float64. */
  columnSums(
    outer: number,
    rows: number,
    cols: number,
    x: Float32Array,
    scale: number,
    out: Float32Array,
  ): void;
  /**
   * out = a op b over row-major `shape`, a and b read at their per-dim element strides (0 along a
   * broadcast dim); op is a code from {@link NativeAddon.binaryOps}. The same floats as tfjs's cpu kernels, which
   * compute in JS numbers and round once.
   */
  binary(
    op: number,
    shape: number[],
    aStrides: number[],
    bStrides: number[],
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
  ): void;
  /** y[i] = op(x[i]), op a code from {@link NativeAddon.unaryOps}; alpha is Step's value where x ≤ 0. */
  unary(op: number, x: Float32Array, alpha: number, y: Float32Array): void;
  /** The op codes of `binary()` by name, as the addon's header defines them. */
  readonly binaryOps: Readonly<Record<BinaryOpName, number>>;
  /** The op codes of `unary()` by name, as the addon's header defines them. */
  readonly unaryOps: Readonly<Record<UnaryOpName, number>>;
  /** Sets the OpenMP threads oneDNN computes with; returns the count in effect. */
  setThreads(threads: number): number;
  /** The oneDNN version and instruction set the addon runs on. */
  library(): string;
  /** Frees the addon's cached oneDNN primitives. */
  releaseScratch(): void;
  /**
   * On glibc, keeps freed memory of any size in the process for reuse (unless the environment sets
   * glibc's malloc); says what it did. The native backend calls it when it starts.
   */
  keepFreedMemory(): string;
}

// src/kernels/native/ and dist/kernels/native/ are both three levels below the package root.
export const NATIVE_ADDON_PATH = fileURLToPath(
  new URL('../../../native/build/fisherlab_native.node', import.meta.url),
);

/** How to (re)build the addon: from a source checkout, or in an app that installed the package. */
const REBUILD =
  'rebuild it: pnpm --filter @fisherlab/engine build in the FisherLab repository, npm rebuild @fisherlab/engine in an app';

export type AddonLoad = { addon: NativeAddon } | { reason: string };

let loaded: AddonLoad | undefined;

/** Loads the addon once; when it cannot, says why in words a user can act on. */
export function loadNativeAddon(): AddonLoad {
  if (loaded) return loaded;
  if (!existsSync(NATIVE_ADDON_PATH)) {
    loaded = {
      reason:
        `the native addon is not built (${NATIVE_ADDON_PATH} is missing: install g++ and libdnnl-dev, ` +
        `e.g. apt-get install -y g++ libdnnl-dev, then ${REBUILD})`,
    };
    return loaded;
  }
  try {
    const require = createRequire(import.meta.url);
    loaded = { addon: require(NATIVE_ADDON_PATH) as NativeAddon };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    loaded = {
      reason: `the native addon at ${NATIVE_ADDON_PATH} failed to load (${message.split('\n')[0]}); ${REBUILD}`,
    };
  }
  return loaded;
}

/** The binary ops of `binary()` (FISHERLAB_BINARY_OPS in native/src/fisherlab_native.h). */
export type BinaryOpName =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'squaredDifference'
  | 'maximum'
  | 'minimum'
  /** a · step(b): Relu's gradient, dy where x > 0. */
  | 'reluGrad';

/** The unary ops of `unary()` (FISHERLAB_UNARY_OPS in native/src/fisherlab_native.h). */
export type UnaryOpName =
  | 'relu'
  | 'step'
  | 'neg'
  | 'square'
  | 'sqrt'
  | 'rsqrt'
  | 'exp'
  | 'log'
  | 'abs'
  | 'reciprocal'
  | 'sigmoid';
