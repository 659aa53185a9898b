import { initBackend } from '@fisherlab/engine';
import { beforeAll, describe } from 'vitest';
import { zooThroughTheWalker } from './fixtures/zoo-walker.js';

// wasm (with FisherLab's training kernels): VGG-11 and ResNet-18 at full width take minutes on cpu.
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('the model zoo through the walker', zooThroughTheWalker);
