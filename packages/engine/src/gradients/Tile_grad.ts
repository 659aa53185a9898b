import * as tf from '@tensorflow/tfjs';

/**
 * Tile x [s0..sn] by reps [r0..rn]: dx = Σ over the copies of dy. View dy [r0·s0, ..] as
 * [r0, s0, r1, s1, ..] and sum the r axes: one reshape and one sum, where the stock gradient slices
 * and adds every copy (Π r kernel calls, tens of thousands in double backprop through batch norm).
 */
export const tileGradConfig: tf.GradConfig = {
  kernelName: tf.Tile,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { reps } = attrs as unknown as tf.TileAttrs;
    return {
      x: () => {
        const split: number[] = [];
        const repAxes: number[] = [];
        x.shape.forEach((size, i) => {
          repAxes.push(split.length);
          split.push(reps[i] ?? 1, size);
        });
        return tf.reshape(tf.sum(tf.reshape(dy as tf.Tensor, split), repAxes), x.shape);
      },
    };
  },
};
