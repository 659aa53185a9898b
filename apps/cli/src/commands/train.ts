import { existsSync } from 'node:fs';
import path from 'node:path';
import { type ConfigChange, latestCheckpoint, parseRunConfig, type RunConfig } from '@fisherlab/training';
import type { Command } from 'commander';
import { overridesFromFlags, trainOptions } from '../config/flags.js';
import { mergeConfig, readConfigFile } from '../config/load.js';
import { describePreset, loadPreset, PRESET_NAMES } from '../config/presets.js';
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

/** Keys a resumed run may change: more (or fewer remaining) epochs leave every step so far valid. */
export const RESUME_SAFE_KEYS = ['epochs'] as const;

/** Every leaf of a config as a dotted key and its JSON text, for comparing two configs. */
function leaves(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

/** The keys whose values differ between two configs. */
export function configDifferences(before: RunConfig, after: RunConfig): Omit<ConfigChange, 'step' | 'at'>[] {
  const a = leaves(before);
  const b = leaves(after);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys
    .filter((k) => a.get(k) !== b.get(k))
    .map((k) => ({
      key: k,
      from: a.has(k) ? JSON.parse(a.get(k)!) : undefined,
      to: b.has(k) ? JSON.parse(b.get(k)!) : undefined,
    }));
}

/**
 * The config of a run to resume: its config.json, with the flags applied. With a checkpoint only
 * RESUME_SAFE_KEYS may change (any other change is refused, listing the keys); without one the run
 * starts at step 0 anyway, so every flag applies.
 */
export function resolveResumeConfig(options: TrainCommandOptions): {
  config: RunConfig;
  changes: ConfigChange[];
} {
  const runDir = options.resume!;
  if (options.config || options.preset) {
    throw new UserError(
      `--resume continues ${runDir} with its own config.json; drop --config/--preset (flags for keys that may change, such as --epochs, are allowed)`,
    );
  }
  const file = path.join(runDir, 'config.json');
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
  const before = parseRunConfig(stored, file);
  const config = parseRunConfig(mergeConfig(stored, flags), `${file} + flags`);
  const differences = configDifferences(before, config);
  if (differences.length === 0 || latestCheckpoint(runDir) === undefined) return { config, changes: [] };
  const unsafe = differences.filter((d) => !(RESUME_SAFE_KEYS as readonly string[]).includes(d.key));
  if (unsafe.length > 0) {
    throw new UserError(
      `cannot resume ${runDir} with changed settings: ${unsafe
        .map((d) => `${d.key} ${JSON.stringify(d.from)} → ${JSON.stringify(d.to)}`)
        .join(
          ', ',
        )}. A run continues with the config it started with (only ${RESUME_SAFE_KEYS.join(', ')} may change); to train with other settings, start a new run with another --output`,
    );
  }
  const at = new Date().toISOString();
  return { config, changes: differences.map((d) => ({ ...d, step: 0, at })) };
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
    let changes: ConfigChange[] = [];
    if (options.resume) {
      ({ config, changes } = resolveResumeConfig(options));
      for (const c of changes)
        console.error(
          `resuming with ${c.key} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)} (recorded in meta.json)`,
        );
    } else {
      config = resolveTrainConfig(options);
    }
    if (options.dryRun) {
      const { dryRun } = await import('../run/dry-run.js');
      console.log(await dryRun(config));
      return;
    }
    const { trainRun } = await import('../run/trainer.js');
    const outcome = await trainRun(config, {
      resume: Boolean(options.resume),
      ...(changes.length > 0 ? { configChanges: changes } : {}),
    });
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
