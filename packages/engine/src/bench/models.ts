import * as tf from '@tensorflow/tfjs';

/**
 * The two models the engine benchmark trains, built inline with tf.layers (the engine must not
 * depend on @fisherlab/models). Both take 32x32x3 CIFAR images and return logits.
 */

const L = tf.layers;

/** SimpleCNN: conv 32 3x3 relu, max pool 2, conv 64 3x3 relu, max pool 2, dense 128 relu, dense 10. */
export function simpleCnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      L.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.flatten(),
      L.dense({ units: 128, activation: 'relu' }),
      L.dense({ units: 10 }),
    ],
  });
}

/** VGG-11 at CIFAR widths (configuration "A"), optionally with batch norm, 100 classes (CIFAR-100). */
export function vgg11({ batchNorm }: { batchNorm: boolean }): tf.Sequential {
  const widths: (number | 'pool')[] = [
    64,
    'pool',
    128,
    'pool',
    256,
    256,
    'pool',
    512,
    512,
    'pool',
    512,
    512,
    'pool',
  ];
  const model = tf.sequential();
  let first = true;
  for (const width of widths) {
    if (width === 'pool') {
      model.add(L.maxPooling2d({ poolSize: 2 }));
      continue;
    }
    model.add(
      L.conv2d({
        ...(first ? { inputShape: [32, 32, 3] } : {}),
        filters: width,
        kernelSize: 3,
        padding: 'same',
        useBias: !batchNorm,
      }),
    );
    if (batchNorm) model.add(L.batchNormalization());
    model.add(L.activation({ activation: 'relu' }));
    first = false;
  }
  model.add(L.flatten());
  model.add(L.dense({ units: 100 }));
  return model;
}
