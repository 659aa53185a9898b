import { fileURLToPath } from 'node:url';

/**
 * The embedded Fashion-MNIST subset ships in the package's data/ folder. This file sits directly in
 * src/ (tests) or dist/ (built), both one level below the package root, so the same relative URL
 * finds the data from either.
 */
export const EMBEDDED_DATA_DIR: string = fileURLToPath(
  new URL('../data/fashion-mnist-embedded', import.meta.url),
);
