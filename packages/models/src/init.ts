import { tf } from '@fisherlab/engine';

/**
 * How weights start.
 * - 'pytorch' (default): what torch.nn gives a freshly built Conv2d/Linear, so runs compare with
 *   PyTorch ones. Kernels use kaiming_uniform_(a=√5), i.e. gain² = 2/(1+a²) = 1/3 and
 *   bound = gain·√(3/fan_in) = 1/√fan_in, so W ~ U(−1/√fan_in, 1/√fan_in); biases
 *   b ~ U(−1/√fan_in, 1/√fan_in); BatchNorm γ = 1, β = 0. fan_in = in_channels·kh·kw.
 * - 'tfjs': TensorFlow.js layer defaults (Glorot-uniform kernels, zero biases).
 * - 'reference': what the reference code does after construction. xternalz's WRN and andreasveit's
 *   DenseNet redraw conv kernels W ~ N(0, 2/(kh·kw·out_channels)) and zero Linear biases (Linear
 *   kernels keep the torch default); kuangliu's VGG/ResNet keep the torch defaults ('pytorch').
 */
export type InitScheme = 'pytorch' | 'tfjs' | 'reference';
export const INIT_SCHEMES: readonly InitScheme[] = ['pytorch', 'tfjs', 'reference'];

/** A scheme resolved for one architecture ('reference' becomes one of these). */
export type ResolvedInit = 'pytorch' | 'tfjs' | 'kaimingNormalFanOut';

export interface InitContext {
  scheme: ResolvedInit;
  /** Base seed; each weight gets its own seed derived from this and its layer name. */
  seed: number | undefined;
}

/** FNV-1a over `${seed}/${name}`: a per-weight seed independent of construction order. */
export function weightSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5;
  const text = `${seed}/${name}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

const seedFor = (ctx: InitContext, name: string): number | undefined =>
  ctx.seed === undefined ? undefined : weightSeed(ctx.seed, name);

/** The shape facts an initializer needs: conv kernels know their window and output channels. */
export type KernelShape = { type: 'conv'; kernelSize: number; filters: number } | { type: 'dense' };

/** What tf.initializers.* return (a type tfjs exports only from a deep path, so it is named this way). */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** Initializer for a conv or dense kernel of a layer named `layerName`. */
export function kernelInitializer(ctx: InitContext, layerName: string, shape: KernelShape): Initializer {
  const seed = seedFor(ctx, `${layerName}/kernel`);
  if (ctx.scheme === 'kaimingNormalFanOut' && shape.type === 'conv') {
    // W ~ N(0, 2/n), n = kh·kw·out_channels (kaiming normal, fan_out, ReLU gain), not truncated.
    const stddev = Math.sqrt(2 / (shape.kernelSize * shape.kernelSize * shape.filters));
    return tf.initializers.randomNormal({ mean: 0, stddev, seed });
  }
  if (ctx.scheme === 'pytorch' || ctx.scheme === 'kaimingNormalFanOut') {
    // varianceScaling(uniform) draws U(−√(3·scale/fan_in), +…); scale = 1/3 gives ±1/√fan_in.
    return tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed });
  }
  return tf.initializers.glorotUniform({ seed });
}

/** Initializer for the bias of a conv or dense layer whose kernel has `fanIn` inputs per output. */
export function biasInitializer(ctx: InitContext, layerName: string, fanIn: number): Initializer {
  if (ctx.scheme === 'pytorch') {
    const bound = 1 / Math.sqrt(fanIn);
    return tf.initializers.randomUniform({
      minval: -bound,
      maxval: bound,
      seed: seedFor(ctx, `${layerName}/bias`),
    });
  }
  return tf.initializers.zeros();
}
