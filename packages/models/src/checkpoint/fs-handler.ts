import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '@fisherlab/engine';
import { writeFileAtomic } from './atomic.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** Files written before model.json, whose hashes model.json records (e.g. optimizer state). */
export type Sidecars = Record<string, Uint8Array>;

/** FisherLab's own key in model.json: hashes that let a load detect a torn (interrupted) save. */
interface IntegrityRecord {
  sha256: Record<string, string>;
}
type ModelJsonOnDisk = tf.io.ModelJSON & { fisherlab?: IntegrityRecord };

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const toBytes = (data: tf.io.WeightData): Uint8Array =>
  new Uint8Array(tf.io.CompositeArrayBuffer.join(data as ArrayBuffer | ArrayBuffer[]));

/**
 * A tfjs IOHandler on a local directory (no tfjs-node needed): `model.save(handler)` writes
 * weights.bin, any sidecars, then model.json last, each atomically; model.json records their
 * SHA-256 so `load()` rejects a checkpoint whose files do not belong together. `load()` also reads
 * any tfjs Layers model.json directory (sharded weights included), e.g. one a user brings.
 */
export function fileSystemIOHandler(dir: string, sidecars: Sidecars = {}): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error(
          `${dir}: binary (GraphDef) model topologies are not supported; save a tfjs LayersModel`,
        );
      }
      await mkdir(dir, { recursive: true });
      const weights = artifacts.weightData === undefined ? new Uint8Array() : toBytes(artifacts.weightData);
      const hashes: Record<string, string> = { [WEIGHTS_BIN]: sha256(weights) };
      await writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
      for (const [file, bytes] of Object.entries(sidecars)) {
        await writeFileAtomic(join(dir, file), bytes);
        hashes[file] = sha256(bytes);
      }
      const modelJson: ModelJsonOnDisk = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        fisherlab: { sha256: hashes },
      };
      await writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const modelJson = await readModelJson(dir);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const buffers: Uint8Array[] = [];
        const specs: tf.io.WeightsManifestEntry[] = [];
        for (const group of manifest) {
          for (const path of group.paths) buffers.push(await readChecked(dir, path, modelJson.fisherlab));
          specs.push(...group.weights);
        }
        const total = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
        let offset = 0;
        for (const b of buffers) {
          total.set(b, offset);
          offset += b.byteLength;
        }
        return [specs, total.buffer];
      });
    },
  };
}

export async function readModelJson(dir: string): Promise<ModelJsonOnDisk> {
  const path = join(dir, MODEL_JSON);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(
      `${path}: cannot read the model (${(error as Error).message}); expected a directory saved by saveCheckpointModel or a tfjs model.json + weights`,
    );
  }
  let parsed: ModelJsonOnDisk;
  try {
    parsed = JSON.parse(text) as ModelJsonOnDisk;
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message}); the file is damaged, re-save it`);
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !parsed.modelTopology ||
    !Array.isArray(parsed.weightsManifest)
  ) {
    throw new Error(
      `${path}: expected a tfjs model.json with 'modelTopology' and 'weightsManifest', found keys ${Object.keys(parsed ?? {}).join(', ') || '(none)'}; save the model with tfjs (model.save) or saveCheckpointModel`,
    );
  }
  return parsed;
}

/** Reads `file` from `dir` and, when model.json recorded its hash, checks it. */
export async function readChecked(
  dir: string,
  file: string,
  integrity: IntegrityRecord | undefined,
): Promise<Uint8Array> {
  const path = join(dir, file);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new Error(
      `${path}: cannot read it (${(error as Error).message}); model.json lists it, so the checkpoint is incomplete`,
    );
  }
  const expected = integrity?.sha256[file.replace(/^\.\//, '')];
  if (expected !== undefined && sha256(bytes) !== expected) {
    throw new Error(
      `${path}: SHA-256 differs from the one model.json recorded; the checkpoint was torn by an interrupted save or edited. Use an earlier checkpoint or save again`,
    );
  }
  return bytes;
}
