import type { tf } from '@fisherlab/engine';
import type { LayerBuilder } from '../layers.js';

export interface VggOptions {
  /** BatchNorm after every conv, as in kuangliu/pytorch-cifar's VGG (default true). */
  batchNorm?: boolean;
}

/** VGG-11's feature configuration: numbers are 3x3 conv widths, 'M' a 2x2 max-pool. */
export const VGG11_CONFIG = [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'] as const;

/**
 * kuangliu/pytorch-cifar `VGG('VGG11')`: `features` = [Conv2d(3x3, pad 1, bias), BatchNorm2d, ReLU]
 * per width and MaxPool2d(2, 2) per 'M' (then a no-op AvgPool2d(1, 1)), flattened into
 * `classifier` = Linear(features, numClasses). Layer names are the PyTorch module paths
 * ('features.0', 'features.1', …, 'classifier').
 * Pools use ceil mode so 28x28 inputs keep a 1x1 map (28→14→7→4→2→1); on sizes divisible by 32 this is
 * exactly the reference's floor mode. At 64x64 the flattened map is 2x2x512 (NHWC order).
 */
export function vgg11(x: tf.SymbolicTensor, b: LayerBuilder, numClasses: number, options: VggOptions) {
  const batchNorm = options.batchNorm ?? true;
  let h = x;
  let index = 0;
  for (const item of VGG11_CONFIG) {
    if (item === 'M') {
      h = b.maxPoolCeil(h);
      index += 1;
      continue;
    }
    h = b.conv2d(h, { name: `features.${index}`, filters: item, kernelSize: 3, padding: 1, useBias: true });
    index += 1;
    if (batchNorm) {
      h = b.batchNorm(h, `features.${index}`);
      index += 1;
    }
    h = b.relu(h);
    index += 1;
  }
  return b.dense(b.flatten(h), 'classifier', numClasses);
}
