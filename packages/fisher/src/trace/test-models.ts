import { tf } from '@fisherlab/engine';

/**
 * Small models the trace tests share. Weights are seeded and BatchNorm moving statistics are set
 * to non-trivial values so that inference-mode BatchNorm is really exercised.
 */

const seeded = (seed: number) => tf.initializers.glorotNormal({ seed });

export function softmaxRegression(features: number, classes: number, seed = 1): tf.Sequential {
  return tf.sequential({
    layers: [tf.layers.dense({ inputShape: [features], units: classes, kernelInitializer: seeded(seed) })],
  });
}

/** conv+relu+maxpool, conv with stride and 'same' padding, dense+relu, dense logits. */
export function smallConvNet(seed = 1): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: seeded(seed),
        biasInitializer: tf.initializers.randomNormal({ stddev: 0.1, seed: seed + 1 }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({
        filters: 5,
        kernelSize: 2,
        strides: 2,
        padding: 'same',
        activation: 'tanh',
        kernelInitializer: seeded(seed + 2),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 6, activation: 'relu', kernelInitializer: seeded(seed + 3) }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 4, kernelInitializer: seeded(seed + 4) }),
    ],
  });
}

/** conv + batch norm + relu + avg pool + dense, with moving statistics set away from (0, 1). */
export function batchNormConvNet(seed = 1): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, kernelInitializer: seeded(seed) }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, kernelInitializer: seeded(seed + 1) }),
    ],
  });
  setBatchNormStatistics(model, seed);
  return model;
}

/** Functional residual net: conv → bn → relu, a second conv added back (Add), a concat branch, dense. */
export function residualConvNet(seed = 1): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2] });
  const stem = tf.layers
    .conv2d({ filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: seeded(seed) })
    .apply(input) as tf.SymbolicTensor;
  const normalized = tf.layers.batchNormalization().apply(stem) as tf.SymbolicTensor;
  const relu = tf.layers.activation({ activation: 'relu' }).apply(normalized) as tf.SymbolicTensor;
  const branch = tf.layers
    .conv2d({
      filters: 3,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: seeded(seed + 1),
    })
    .apply(relu) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([relu, branch]) as tf.SymbolicTensor;
  const side = tf.layers
    .depthwiseConv2d({ kernelSize: 1, depthwiseInitializer: seeded(seed + 2) })
    .apply(relu) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([sum, side]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(joined) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({ units: 4, kernelInitializer: seeded(seed + 3) })
    .apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: logits });
  setBatchNormStatistics(model, seed);
  return model;
}

function setBatchNormStatistics(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const n = layer.getWeights()[0]!.shape[0]!;
    const values = [
      tf.randomUniform([n], 0.5, 1.5, 'float32', seed),
      tf.randomNormal([n], 0, 0.2, 'float32', seed + 1),
      tf.randomNormal([n], 0, 0.3, 'float32', seed + 2),
      tf.randomUniform([n], 0.5, 2, 'float32', seed + 3),
    ];
    layer.setWeights(values);
    tf.dispose(values);
  }
}

export function randomImages(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}
