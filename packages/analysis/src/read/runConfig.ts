import { RunDataError } from './errors.js';
/**
 * The parts of a run's resolved config.json the analyses rely on. Missing keys read as null (older
 * or hand-written configs); a key present with the wrong type is an error naming file and key.
 */
export interface RunConfigView {
  name: string | null;
  tags: string[];
  seed: number | null;
  datasetName: string | null;
  /** Label noise: null for clean labels. */
  noise: { fraction: number; mode: string } | null;
  arch: string | null;
  optimizerName: string | null;
  lr: number | null;
  penaltyKind: 'none' | 'fisher' | 'gradnorm';
  penaltyAlpha: number | null;
  penaltyEvery: number | null;
  epochs: number | null;
}

export type JsonObject = Record<string, unknown>;

export function readConfigView(config: JsonObject | null, file: string): RunConfigView {
  const c = config ?? {};
  const get = (keyPath: string): unknown =>
    keyPath.split('.').reduce<unknown>((obj, key) => (isObject(obj) ? obj[key] : undefined), c);
  const typed = <T>(keyPath: string, type: 'string' | 'number', example: string): T | null => {
    const value = get(keyPath);
    if (value === undefined || value === null) return null;
    if (typeof value !== type) {
      throw new RunDataError(
        `${file}: key "${keyPath}": expected a ${type} (e.g. ${example}), found ${JSON.stringify(value)}. Fix: correct that key in config.json.`,
      );
    }
    return value as T;
  };

  const tags = get('tags');
  if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) {
    throw new RunDataError(
      `${file}: key "tags": expected an array of strings, found ${JSON.stringify(tags)}. Fix: write tags as ["a", "b"].`,
    );
  }

  const noiseValue = get('dataset.noise');
  let noise: RunConfigView['noise'] = null;
  if (noiseValue !== undefined && noiseValue !== null) {
    if (!isObject(noiseValue) || typeof noiseValue.fraction !== 'number') {
      throw new RunDataError(
        `${file}: key "dataset.noise": expected null or { "fraction": number, "mode": string }, found ${JSON.stringify(noiseValue)}. Fix: set it to null for clean labels.`,
      );
    }
    noise =
      noiseValue.fraction > 0
        ? { fraction: noiseValue.fraction, mode: String(noiseValue.mode ?? 'unknown') }
        : null;
  }

  const kind = typed<string>('penalty.kind', 'string', '"fisher"') ?? 'none';
  if (kind !== 'none' && kind !== 'fisher' && kind !== 'gradnorm') {
    throw new RunDataError(
      `${file}: key "penalty.kind": expected 'none' | 'fisher' | 'gradnorm', found ${JSON.stringify(kind)}. Fix: use one of those.`,
    );
  }

  return {
    name: typed('name', 'string', '"lr0.1-seed1"'),
    tags: (tags as string[] | undefined) ?? [],
    seed: typed('seed', 'number', '1'),
    datasetName: typed('dataset.name', 'string', '"fashion-mnist"'),
    noise,
    arch: typed('model.arch', 'string', '"simplecnn"'),
    optimizerName: typed('optimizer.name', 'string', '"sgd"'),
    lr: typed('optimizer.lr', 'number', '0.1'),
    penaltyKind: kind,
    penaltyAlpha: typed('penalty.alpha', 'number', '0.1'),
    penaltyEvery: typed('penalty.every', 'number', '1'),
    epochs: typed('epochs', 'number', '12'),
  };
}

/**
 * A dataset's name for readers: FisherLab's config names ('default' is the Fashion-MNIST subset
 * embedded in FisherLab) turned into what the data is. Unknown names are returned as they are.
 */
export function datasetDisplayName(name: string | null): string {
  const known: Record<string, string> = {
    default: 'Fashion-MNIST (embedded subset)',
    'fashion-mnist-embedded': 'Fashion-MNIST (embedded subset)',
    'fashion-mnist': 'Fashion-MNIST',
    mnist: 'MNIST',
    cifar10: 'CIFAR-10',
    cifar100: 'CIFAR-100',
    tinyimagenet: 'TinyImageNet-200',
  };
  return name === null ? 'data' : (known[name] ?? name);
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
