import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { tf } from '@fisherlab/engine';
import { prepareData } from './data.js';
import { TrainingError } from './errors.js';
import { runLength } from './events.js';
import { buildRunModel } from './model.js';
import type { RunConfig } from './spec.js';
import { startBackend } from './train.js';

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
export async function dryRun(config: RunConfig): Promise<string> {
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
  if (existsSync(path.join(runDir, 'checkpoint.json'))) {
    throw new TrainingError(
      `${runDir} already holds a run with a checkpoint; choose another --output or use --resume`,
    );
  }
  let status: string | undefined;
  try {
    status = (JSON.parse(readFileSync(path.join(runDir, 'meta.json'), 'utf8')) as { status?: string }).status;
  } catch {
    // no meta.json (or an unreadable one): nothing finished to protect
  }
  if (status === 'completed' || status === 'diverged') {
    throw new TrainingError(
      `${runDir} holds a ${status} run; choose another --output (a finished run is never overwritten)`,
    );
  }
  const ancestor = existingAncestor(runDir);
  try {
    accessSync(ancestor, constants.W_OK);
    const probeDir = path.join(ancestor, `.fisherlab-dry-run-${process.pid}`);
    mkdirSync(probeDir);
    rmSync(probeDir, { recursive: true });
  } catch (error) {
    throw new TrainingError(
      `output ${runDir} is not writable (${ancestor}: ${(error as Error).message}); choose a writable --output`,
    );
  }
  lines.push(`output: ${runDir} (writable)`);
  return lines.join('\n');
}
