import * as tf from '@tensorflow/tfjs';

/**
 * Gradient functions FisherLab registers on top of tfjs-core (every backend, GPU included), one
 * file each, listed here. Filled by the second-order work of the engine issue.
 */
export const GRADIENT_CONFIGS: tf.GradConfig[] = [];

let installed = false;

/** Registers FisherLab's gradients once per process; later calls do nothing. */
export function installGradients(): void {
  if (installed) return;
  for (const config of GRADIENT_CONFIGS) tf.registerGradient(config);
  installed = true;
}
