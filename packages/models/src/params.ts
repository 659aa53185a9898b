import type { tf } from '@fisherlab/engine';

/** What a weight is, as far as weight decay and the Fisher penalty care. */
export type WeightKind =
  | 'kernel'
  | 'bias'
  | 'batchNormGamma'
  | 'batchNormBeta'
  | 'batchNormMovingStat'
  | 'other';

export interface WeightRole {
  /** Stable name `${layer}/${weight}` (e.g. 'layer1.0.conv1/kernel'), the same after save and load. */
  name: string;
  layer: string;
  /** tfjs class of the layer ('Conv2D', 'Dense', 'BatchNormalization', …). */
  layerClass: string;
  kind: WeightKind;
  shape: number[];
  size: number;
  trainable: boolean;
  /** Weight decay applies: kernels (conv, dense, depthwise, embeddings) only, never biases or BatchNorm. */
  decayable: boolean;
  /** The Fisher penalty and Tr(F) see it: every trainable weight, minus BatchNorm's if excluded. */
  fisherVisible: boolean;
  /** The backing tfjs variable (its `name` may carry a `_1` suffix when several models share a process). */
  variable: tf.Variable;
}

export interface WeightRoleOptions {
  /** Hide BatchNorm γ and β from the Fisher penalty, as some reference implementations do. Default false. */
  fisherExcludesBatchNorm?: boolean;
}

const KERNEL_NAMES = new Set([
  'kernel',
  'depthwise_kernel',
  'pointwise_kernel',
  'recurrent_kernel',
  'embeddings',
]);

function kindOf(layerClass: string, weightName: string): WeightKind {
  if (layerClass === 'BatchNormalization') {
    if (weightName === 'gamma') return 'batchNormGamma';
    if (weightName === 'beta') return 'batchNormBeta';
    if (weightName.startsWith('moving_')) return 'batchNormMovingStat';
    return 'other';
  }
  if (KERNEL_NAMES.has(weightName)) return 'kernel';
  if (weightName === 'bias') return 'bias';
  return 'other';
}

type AnyLayer = tf.layers.Layer;

function* leafLayers(layers: AnyLayer[]): Generator<AnyLayer> {
  for (const layer of layers) {
    const nested = (layer as unknown as { layers?: AnyLayer[] }).layers;
    if (Array.isArray(nested)) yield* leafLayers(nested);
    else yield layer;
  }
}

/**
 * Every weight of `model` with its role, in the order of `model.weights` per layer (trainable ones
 * in `model.trainableWeights` order). Works for any tfjs LayersModel, nested models included.
 */
export function weightRoles(model: tf.LayersModel, options: WeightRoleOptions = {}): WeightRole[] {
  const roles: WeightRole[] = [];
  for (const layer of leafLayers(model.layers)) {
    const layerClass = layer.getClassName();
    for (const weight of layer.weights) {
      const shape = weight.shape as number[];
      const short = weight.originalName.slice(weight.originalName.lastIndexOf('/') + 1);
      const kind = kindOf(layerClass, short);
      const isNorm = kind === 'batchNormGamma' || kind === 'batchNormBeta';
      roles.push({
        name: `${layer.name}/${short}`,
        layer: layer.name,
        layerClass,
        kind,
        shape: [...shape],
        size: shape.reduce((a, b) => a * b, 1),
        trainable: weight.trainable,
        decayable: weight.trainable && kind === 'kernel',
        fisherVisible: weight.trainable && !(isNorm && options.fisherExcludesBatchNorm),
        variable: weight.read() as tf.Variable,
      });
    }
  }
  return roles;
}

/** Variables weight decay applies to (kernels only). */
export function decayableVariables(model: tf.LayersModel): tf.Variable[] {
  return weightRoles(model)
    .filter((r) => r.decayable)
    .map((r) => r.variable);
}

/** Variables the Fisher penalty (and Tr(F)) differentiates with respect to. */
export function fisherPenaltyVariables(
  model: tf.LayersModel,
  options: WeightRoleOptions = {},
): tf.Variable[] {
  return weightRoles(model, options)
    .filter((r) => r.fisherVisible)
    .map((r) => r.variable);
}

/** Trainable parameters: what PyTorch's `sum(p.numel() for p in model.parameters())` counts. */
export function countTrainableParams(model: tf.LayersModel): number {
  return weightRoles(model)
    .filter((r) => r.trainable)
    .reduce((sum, r) => sum + r.size, 0);
}
