import type { tf } from '@fisherlab/engine';

/**
 * Floating-point operations of one example's forward pass, counted as 2 x multiply-adds of every
 * Conv2D (H_out·W_out·C_out·k_h·k_w·C_in/groups) and Dense (in·out) layer; BatchNorm, activations,
 * pooling and biases are left out (a few percent at most here). PyTorch's reference counts the
 * same way, so the two sides can be checked to run the same architecture.
 */
export function forwardFlopsPerExample(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'Conv2D') {
      const kernel = layer.getWeights()[0]!.shape as [number, number, number, number];
      const out = layer.outputShape as (number | null)[];
      const [kh, kw, cin, cout] = kernel;
      flops += 2 * (out[1] ?? 0) * (out[2] ?? 0) * cout * kh * kw * cin;
    } else if (className === 'Dense') {
      const [units, inputs] = [...(layer.getWeights()[0]!.shape as [number, number])].reverse() as [
        number,
        number,
      ];
      flops += 2 * inputs * units;
    }
  }
  return flops;
}
