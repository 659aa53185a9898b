import { accessSync, constants, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { tf } from '@fisherlab/engine';
import { startBackend } from './backend-settings.js';
import { prepareData } from './data.js';
import { TrainingError } from './errors.js';
import { runLength } from './events.js';
import { buildRunModel } from './model.js';
import { checkRunDirectory } from './run-directory.js';
import type { RunConfig } from './spec.js';

/** The first existing ancestor of a path (where a new directory would be created). */
function existingAncestor(dir: string): string {
  let current = path.resolve(dir);
  while (!existsSync(current)) current = path.dirname(current);
  return current;
}

/**
 * Checks everything a run needs without training: the config (already validated), the backend,
 * the data (loaded, noise applied), the model (built, one forward pass), the output directory
 * (writable, not holding another run). Creates nothing that stays behind.
 */
export async function dryRun(
  config: RunConfig,
  options: { resume?: boolean; overwrite?: boolean } = {},
): Promise<string> {
  const lines: string[] = ['config: valid'];
  const backend = await startBackend(config.backend);
  lines.push(`backend: ${backend.choice}`);
  const data = await prepareData(config);
  lines.push(`data: ${data.describe()}`);
  const runModel = buildRunModel(config, data);
  const params = runModel.model.countParams();
  const probe = data.trainBatch(0, 1);
  const logits = runModel.model.predict(probe.x) as tf.Tensor;
  lines.push(
    `model: ${config.model.arch}, ${params.toLocaleString('en-US')} parameters, logits ${JSON.stringify(logits.shape)}`,
  );
  tf.dispose([logits, probe.x, probe.y]);
  runModel.dispose();
  data.dispose();
  const { stepsPerEpoch, totalSteps } = runLength(config, data.train.count);
  lines.push(`length: ${totalSteps} steps (${stepsPerEpoch} per epoch)`);
  const runDir = path.resolve(config.output);
  // what train() would refuse: a finished run, records without resume, a changed spec on resume
  checkRunDirectory(config, options);
  const ancestor = existingAncestor(runDir);
  try {
    accessSync(ancestor, constants.W_OK);
    const probeDir = path.join(ancestor, `.fisherlab-dry-run-${process.pid}`);
    mkdirSync(probeDir);
    rmSync(probeDir, { recursive: true });
  } catch (error) {
    throw new TrainingError(
      `output ${runDir} is not writable (${ancestor}: ${(error as Error).message}); choose a writable directory as the spec's output`,
    );
  }
  lines.push(`output: ${runDir} (writable)`);
  return lines.join('\n');
}
