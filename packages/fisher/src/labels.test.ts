import { seededUniform } from '@fisherlab/core';
import { tf } from '@fisherlab/engine';
import { describe, expect, it } from 'vitest';
import { LABEL_STREAM, sampleLabels, samplePenaltyLabels, traceUniform } from './labels.js';

describe('samplePenaltyLabels', () => {
  const probabilities = Float32Array.from([0.7, 0.2, 0.1, 0.05, 0.05, 0.9]);

  it('is deterministic in (seed, step) and changes with the step', () => {
    const rows = Float32Array.from(Array.from({ length: 200 }, () => [...probabilities]).flat());
    const a = samplePenaltyLabels(rows, 3, 7, 4);
    expect(samplePenaltyLabels(rows, 3, 7, 4)).toEqual(a);
    expect(samplePenaltyLabels(rows, 3, 7, 5)).not.toEqual(a);
    expect(samplePenaltyLabels(rows, 3, 8, 4)).not.toEqual(a);
  });

  it('draws each class with its probability (within 4 binomial standard errors)', () => {
    const n = 20000;
    const rows = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) rows.set(probabilities.subarray(0, 3), i * 3);
    const labels = samplePenaltyLabels(rows, 3, 1, 0);
    for (const [c, p] of [0.7, 0.2, 0.1].entries()) {
      const frequency = labels.filter((l) => l === c).length / n;
      expect(Math.abs(frequency - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it('never returns a class without mass, even when a row sums to less than one', () => {
    const labels = samplePenaltyLabels(Float32Array.from([0, 0.5, 0.49, 0]), 4, 3, 0);
    expect([1, 2]).toContain(labels[0]);
  });
});

describe('sampleLabels (the one ŷ sampler of the penalty and the Tr(F) estimators)', () => {
  it("draws from a model's own softmax: class frequencies match p(c|x) per row (chi-square)", () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 5 })] });
    model.setWeights([tf.randomNormal([4, 5], 0, 1, 'float32', 1), tf.randomNormal([5], 0, 1, 'float32', 2)]);
    const rows = 3;
    const draws = 6000;
    const x = tf.tile(tf.randomNormal([rows, 4], 0, 1, 'float32', 3), [draws, 1]);
    const probabilities = tf.softmax(model.predict(x) as tf.Tensor2D).dataSync() as Float32Array;
    const labels = sampleLabels(probabilities, 5, traceUniform(11));
    for (let r = 0; r < rows; r++) {
      const counts = new Array<number>(5).fill(0);
      for (let d = 0; d < draws; d++) counts[labels[d * rows + r]!]! += 1;
      let chiSquare = 0;
      for (let c = 0; c < 5; c++) {
        const expected = draws * probabilities[r * 5 + c]!;
        chiSquare += (counts[c]! - expected) ** 2 / expected;
      }
      // 4 degrees of freedom: P(χ² > 23.5) ≈ 1e-4.
      expect(chiSquare).toBeLessThan(23.5);
    }
    x.dispose();
    model.dispose();
  });

  it('the penalty stream is the shared generator on (seed, LABEL_STREAM.penalty, step)', () => {
    const rows = Float32Array.from(Array.from({ length: 50 }, () => [0.3, 0.3, 0.4]).flat());
    expect(samplePenaltyLabels(rows, 3, 9, 2)).toEqual(
      sampleLabels(rows, 3, seededUniform(9, LABEL_STREAM.penalty, 2)),
    );
  });
});
