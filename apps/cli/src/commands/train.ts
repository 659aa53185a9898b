import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { overridesFromFlags, trainOptions } from '../config/flags.js';
import { mergeConfig, parseRunConfig, readConfigFile } from '../config/load.js';
import { describePreset, loadPreset, PRESET_NAMES } from '../config/presets.js';
import type { RunConfig } from '../config/schema.js';
import { UserError } from '../errors.js';

export interface TrainCommandOptions extends Record<string, unknown> {
  config?: string;
  preset?: string;
  describe?: boolean;
  resume?: string;
  dryRun?: boolean;
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
    .option('--dry-run', 'validate config, data, model and output path without training');
  for (const option of trainOptions()) command.addOption(option);
  command.action(async (options: TrainCommandOptions) => {
    if (options.describe) {
      if (!options.preset) throw new UserError('--describe needs --preset NAME');
      console.log(describePreset(options.preset));
      return;
    }
    let config: RunConfig;
    if (options.resume) {
      const file = path.join(options.resume, 'config.json');
      if (!existsSync(file))
        throw new UserError(`cannot resume: ${file} not found; is ${options.resume} a run directory?`);
      config = parseRunConfig({ ...JSON.parse(readFileSync(file, 'utf8')), output: options.resume }, file);
    } else {
      config = resolveTrainConfig(options);
    }
    if (options.dryRun) {
      const { dryRun } = await import('../run/dry-run.js');
      console.log(await dryRun(config));
      return;
    }
    const { trainRun } = await import('../run/trainer.js');
    const outcome = await trainRun(config, { resume: Boolean(options.resume) });
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
