import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batchNormalizationRouted, initBackend, routeBatchNormalization, tf } from '@fisherlab/engine';
import { penaltyValueAndGradient } from '@fisherlab/fisher';
import { createModel } from '@fisherlab/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The penalty gradient ∇θ‖ḡ‖² of VGG-11-BN (the zoo's, in training mode: batch norm on the batch's
 * statistics, on the native backend's fused batch-norm kernels) against PyTorch's double backprop
 * of the same weights, input and labels (reference/penalty_crosscheck.py, with
 * packages/models/scripts/torch_crosscheck.py's VGG11). Runs where python3-torch and the native
 * addon are installed.
 */

const here = dirname(fileURLToPath(import.meta.url));
const python = process.env['FISHERLAB_PYTHON'] ?? '/usr/bin/python3';

function torchInstalled(): boolean {
  try {
    execFileSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let native = false;
const folder = mkdtempSync(join(tmpdir(), 'fisherlab-penalty-crosscheck-'));

beforeAll(async () => {
  native = (await initBackend({ backend: 'auto' })).choice === 'native';
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe.skipIf(!torchInstalled())('the penalty gradient of VGG-11-BN against PyTorch', () => {
  it('∇θ‖ḡ‖² and ‖ḡ‖² agree to float32 precision (fused batch norm on the native backend)', {
    timeout: 600_000,
  }, (context) => {
    if (!native) context.skip();
    expect(batchNormalizationRouted()).toBe(true);
    const classes = 10;
    const model = createModel({
      arch: 'vgg11',
      batchNorm: true,
      inputShape: [32, 32, 3],
      numClasses: classes,
      seed: 5,
    });
    // Non-trivial γ and β, so the normalization's scale and shift are exercised.
    for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      const [gamma, beta, mean, variance] = layer.getWeights() as tf.Tensor[];
      const seed = layer.name.length * 7 + (gamma?.size ?? 0);
      layer.setWeights([
        tf.randomUniform(gamma!.shape, 0.5, 1.5, 'float32', seed),
        tf.randomUniform(beta!.shape, -0.3, 0.3, 'float32', seed + 1),
        mean!,
        variance!,
      ]);
    }
    const x = tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', 3);
    const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
    const weights = model.weights.map((w) => ({
      name: w.originalName,
      shape: w.shape,
      values: w.read().dataSync(),
    }));
    const { value, grads } = penaltyValueAndGradient(model, x, labels);
    const ours = grads.map((g) => g.dataSync() as Float32Array);
    // tfjs's own batch-norm layer code on the same backend: how far float32 alone takes it.
    routeBatchNormalization(false);
    const unfused = penaltyValueAndGradient(model, x, labels);
    routeBatchNormalization(true);
    const stock = unfused.grads.map((g) => g.dataSync() as Float32Array);

    const total = weights.reduce((n, w) => n + w.values.length, 0) + x.size;
    const buffer = new Float32Array(total);
    let offset = 0;
    for (const w of weights) {
      buffer.set(w.values, offset);
      offset += w.values.length;
    }
    buffer.set(x.dataSync(), offset);
    writeFileSync(join(folder, 'dump.bin'), Buffer.from(buffer.buffer));
    writeFileSync(
      join(folder, 'dump.json'),
      JSON.stringify({
        classes,
        weights: weights.map(({ name, shape }) => ({ name, shape })),
        input: x.shape,
        labels: [...labels.dataSync()],
      }),
    );
    execFileSync(python, [join(here, '..', 'reference', 'penalty_crosscheck.py'), folder], {
      stdio: 'inherit',
    });
    const reference = JSON.parse(readFileSync(join(folder, 'torch.json'), 'utf8')) as {
      penalty: number;
      weights: string[];
    };
    const raw = readFileSync(join(folder, 'torch.bin'));
    const theirs = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    expect(reference.weights).toHaveLength(model.trainableWeights.length);

    expect(Math.abs(value - reference.penalty) / reference.penalty).toBeLessThan(1e-4);
    const errorAgainstTorch = (gradients: Float32Array[]) => {
      let at = 0;
      let diff = 0;
      let norm = 0;
      for (const [i, w] of model.trainableWeights.entries()) {
        const g = gradients[i] as Float32Array;
        expect(g.length, w.originalName).toBe(tf.util.sizeFromShape(w.shape as number[]));
        for (let k = 0; k < g.length; k++) {
          const d = (g[k] as number) - (theirs[at + k] as number);
          diff += d * d;
          norm += (theirs[at + k] as number) ** 2;
        }
        at += g.length;
      }
      expect(at).toBe(theirs.length);
      expect(Math.sqrt(norm)).toBeGreaterThan(1e-3);
      return Math.sqrt(diff / norm);
    };
    const fusedError = errorAgainstTorch(ours);
    const stockError = errorAgainstTorch(stock);
    console.log(
      `relative L2 error against PyTorch: fused ${fusedError.toExponential(2)}, tfjs's layer ${stockError.toExponential(2)}`,
    );
    // Measured: 3.0e-3 for both (float32 through eight batch norms, the last ones over 8 values per
    // channel): the fused kernels are as close to PyTorch as tfjs's own layer code.
    expect(fusedError).toBeLessThan(1e-2);
    expect(fusedError).toBeLessThan(1.2 * stockError + 1e-4);
    tf.dispose([x, labels, ...grads, ...unfused.grads]);
    model.dispose();
  });
});
