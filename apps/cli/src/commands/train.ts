import { existsSync } from 'node:fs';
import path from 'node:path';
import { runFile } from '@fisherlab/storage';
import { mergeConfig, parseRunConfig, type RunConfig, readConfigFile } from '@fisherlab/training';
import type { Command } from 'commander';
import { overridesFromFlags, trainOptions } from '../config/flags.js';
import { describePreset, loadPreset, PRESET_NAMES } from '../config/presets.js';
import { UserError } from '../errors.js';

export interface TrainCommandOptions extends Record<string, unknown> {
  config?: string;
  preset?: string;
  describe?: boolean;
  resume?: string;
  dryRun?: boolean;
  overwrite?: boolean;
}

/** Resolves preset ← file ← flags into one validated config (later sources win). */
export function resolveTrainConfig(options: TrainCommandOptions): RunConfig {
  let raw: Record<string, unknown> = {};
  const sources: string[] = [];
  if (options.preset) {
    raw = mergeConfig(raw, loadPreset(options.preset));
    sources.push(`preset ${options.preset}`);
  }
  if (options.config) {
    raw = mergeConfig(raw, readConfigFile(options.config));
    sources.push(options.config);
  }
  const flags = overridesFromFlags(options);
  if (Object.keys(flags).length) sources.push('flags');
  raw = mergeConfig(raw, flags);
  return parseRunConfig(raw, sources.join(' + ') || 'flags');
}

/**
 * The config of a run to resume: its config.json, with the flags applied. Whether the changes are
 * allowed is the library's resume policy (train() refuses a change to any key but RESUME_SAFE_KEYS
 * once the run has a checkpoint, and records the allowed ones in meta.json).
 */
export function resolveResumeConfig(options: TrainCommandOptions): RunConfig {
  const runDir = options.resume!;
  if (options.config || options.preset) {
    throw new UserError(
      `--resume continues ${runDir} with its own config.json; drop --config/--preset (flags for keys that may change, such as --epochs, are allowed)`,
    );
  }
  const file = runFile(runDir, 'config');
  if (!existsSync(file))
    throw new UserError(`cannot resume: ${file} not found; is ${runDir} a run directory?`);
  const stored = { ...readConfigFile(file), output: runDir };
  const flags = overridesFromFlags(options);
  if (flags['output'] !== undefined && path.resolve(String(flags['output'])) !== path.resolve(runDir)) {
    throw new UserError(
      `--resume ${runDir} writes into ${runDir}; drop --output ${String(flags['output'])}, or start a new run there without --resume`,
    );
  }
  delete flags['output'];
  return parseRunConfig(mergeConfig(stored, flags), `${file} + flags`);
}

export function registerTrain(program: Command): void {
  const command = program
    .command('train')
    .description(
      'train one run: a dataset, a model, an optimizer, optionally the Fisher penalty, with Tr(F) tracked',
    )
    .option('-c, --config <file>', 'run config (JSON or YAML); flags override it')
    .option('--preset <name>', `start from a shipped config: ${PRESET_NAMES.join(', ')}`)
    .option('--describe', "print the preset's description (what is known, what is a guess) and exit")
    .option('--resume <runDir>', 'continue an interrupted run from its latest checkpoint')
    .option(
      '--overwrite',
      "replace an earlier attempt's records in --output (with --resume: start over at step 0 when no checkpoint verifies)",
    )
    .option('--dry-run', 'validate config, data, model and output path without training');
  for (const option of trainOptions()) command.addOption(option);
  command.action(async (options: TrainCommandOptions) => {
    if (options.describe) {
      if (!options.preset) throw new UserError('--describe needs --preset NAME');
      console.log(describePreset(options.preset));
      return;
    }
    const config = options.resume ? resolveResumeConfig(options) : resolveTrainConfig(options);
    const runOptions = { resume: Boolean(options.resume), overwrite: Boolean(options.overwrite) };
    const { inCommandTerms, trainRun } = await import('../run/trainer.js');
    if (options.dryRun) {
      const { dryRun } = await import('@fisherlab/training');
      console.log(await dryRun(config, runOptions).catch((error) => Promise.reject(inCommandTerms(error))));
      return;
    }
    const outcome = await trainRun(config, runOptions);
    const e = outcome.last.eval;
    console.log(
      `${outcome.status}: ${outcome.steps} steps in ${outcome.runDir}` +
        (e?.testAccuracy !== undefined ? `; test accuracy ${(100 * e.testAccuracy).toFixed(2)}%` : '') +
        (outcome.error ? `; ${outcome.error.message}` : '') +
        (outcome.status === 'interrupted' ? `; resume with: fisherlab train --resume ${outcome.runDir}` : ''),
    );
    process.exitCode = outcome.exitCode;
  });
}
