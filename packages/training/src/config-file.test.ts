import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeConfig, readConfigFile, setPath } from './config-file.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-config-file-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const at = path.join(scratch, name);
  writeFileSync(at, text);
  return at;
};

describe('config files', () => {
  it('reads JSON and YAML into the same object', () => {
    const json = file('a.json', '{"optimizer": {"lr": 0.1}, "epochs": 2}');
    const yaml = file('a.yaml', 'optimizer:\n  lr: 0.1\nepochs: 2\n');
    expect(readConfigFile(json)).toEqual({ optimizer: { lr: 0.1 }, epochs: 2 });
    expect(readConfigFile(yaml)).toEqual(readConfigFile(json));
  });

  it('names the file and what is wrong: missing, not parseable, not an object', () => {
    expect(() => readConfigFile(path.join(scratch, 'none.json'))).toThrow(
      /cannot read config file .*none\.json.*Check the path/,
    );
    expect(() => readConfigFile(file('bad.json', '{"lr": '))).toThrow(/bad\.json is not valid JSON/);
    expect(() => readConfigFile(file('bad.yml', 'a: [1, 2'))).toThrow(/bad\.yml is not valid YAML/);
    expect(() => readConfigFile(file('list.json', '[1, 2]'))).toThrow(
      /must hold an object of settings, found a list/,
    );
    const error = (() => {
      try {
        readConfigFile(file('empty.yaml', ''));
      } catch (thrown) {
        return thrown as Error;
      }
    })();
    expect(error?.message).toMatch(/empty\.yaml must hold an object of settings/);
    expect(error?.name).toBe('TrainingError'); // an input error: the CLI exits 2
  });

  it('merges layers: objects merge key by key, everything else (lists too) replaces', () => {
    const base = { optimizer: { name: 'sgd', lr: 0.1 }, tags: ['a'], epochs: 2 };
    const merged = mergeConfig(base, { optimizer: { lr: 0.01 }, tags: ['b'] });
    expect(merged).toEqual({ optimizer: { name: 'sgd', lr: 0.01 }, tags: ['b'], epochs: 2 });
    expect(base.optimizer.lr).toBe(0.1); // the base is left as it was
  });

  it('sets a dotted key, creating the objects on its path', () => {
    const target: Record<string, unknown> = { penalty: 'none' };
    setPath(target, 'penalty.alpha', 0.1);
    setPath(target, 'optimizer.lr', 0.01);
    expect(target).toEqual({ penalty: { alpha: 0.1 }, optimizer: { lr: 0.01 } });
  });
});
