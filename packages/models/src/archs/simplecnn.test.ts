import { initBackend } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { countTrainableParams } from '../params.js';
import { createModel } from '../registry.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('simplecnn widths', () => {
  it('narrows to the given filters and hidden units (parameter count from the layer shapes)', () => {
    const model = createModel({
      arch: 'simplecnn',
      inputShape: [28, 28, 1],
      numClasses: 10,
      filters: [16, 32],
      hiddenUnits: 64,
    });
    // conv1 1·9·16+16, conv2 16·9·32+32, fc1 (7·7·32)·64+64, fc2 64·10+10
    expect(countTrainableParams(model)).toBe(160 + 4640 + 100_416 + 650);
    model.dispose();
  });

  it('refuses malformed widths with the option named', () => {
    expect(() =>
      createModel({
        arch: 'simplecnn',
        inputShape: [28, 28, 1],
        numClasses: 10,
        filters: [16] as unknown as [number, number],
      }),
    ).toThrow(/option 'filters' must be two positive integers/);
  });
});
