import { tf } from '@fisherlab/engine';

export const OPTIMIZER_JSON = 'optimizer.json';
export const OPTIMIZER_BIN = 'optimizer.bin';

/**
 * optimizer.json: enough to rebuild the optimizer and put its slots back on the right weights. One
 * format for every optimizer: tfjs's own (className registered with tfjs serialization) and any
 * other that hands over an {@link OptimizerSnapshot} (e.g. @fisherlab/training's PyTorch-rule ones).
 */
export interface OptimizerStateJson {
  format: 'fisherlab-optimizer-state/1';
  /** tfjs serialization class name ('SGD', 'Momentum', 'Adam', 'RMSProp', …), or another optimizer's name. */
  className: string;
  config: tf.serialization.ConfigDict;
  /** Steps applied so far (Adam's bias correction depends on it). */
  iterations: number;
  /** One entry per slot tensor, in the optimizer's own order, e.g. 'conv1/kernel' + 'momentum'. */
  slots: { weight: string; slot: string; shape: number[]; dtype: string }[];
  weightSpecs: tf.io.WeightsManifestEntry[];
}

/** Maps a variable's process-unique tfjs name to the model weight's stable `${layer}/${weight}` name. */
export function stableNames(model: tf.LayersModel): Map<string, string> {
  const names = new Map<string, string>();
  for (const w of model.weights) names.set((w.read() as tf.Variable).name, w.originalName);
  return names;
}

/** An optimizer's state as named slots: what any optimizer saves and gets back. */
export interface OptimizerSnapshot {
  className: string;
  config: tf.serialization.ConfigDict;
  iterations: number;
  /** `weight` is the model weight's stable name (`layer/weight`, LayerVariable.originalName). */
  slots: { weight: string; slot: string; tensor: tf.Tensor }[];
}

/** A snapshot read back from disk: slot values as Float32Arrays (no tensors are made). */
export interface OptimizerSnapshotValues extends Omit<OptimizerSnapshot, 'slots'> {
  slots: { weight: string; slot: string; shape: number[]; values: Float32Array }[];
}

/** Serializes a snapshot (its tensors are read, not disposed). */
export async function encodeOptimizerSnapshot(
  snapshot: OptimizerSnapshot,
): Promise<{ json: OptimizerStateJson; bin: Uint8Array }> {
  const { data, specs } = await tf.io.encodeWeights(
    snapshot.slots.map((s) => ({ name: `${s.weight}/${s.slot}`, tensor: s.tensor })),
  );
  return {
    json: {
      format: 'fisherlab-optimizer-state/1',
      className: snapshot.className,
      config: snapshot.config,
      iterations: snapshot.iterations,
      slots: snapshot.slots.map((s) => ({
        weight: s.weight,
        slot: s.slot,
        shape: [...s.tensor.shape],
        dtype: s.tensor.dtype,
      })),
      weightSpecs: specs,
    },
    bin: new Uint8Array(data),
  };
}

/** Reads optimizer.json + optimizer.bin back as values, checking the format and that every slot has its data. */
export function decodeOptimizerSnapshot(
  json: OptimizerStateJson,
  bin: Uint8Array,
  source: string,
): OptimizerSnapshotValues {
  checkFormat(json, source);
  const decoded = tf.io.decodeWeights(bin.slice().buffer, json.weightSpecs);
  try {
    const slots = json.slots.map(({ weight, slot, shape }) => {
      const tensor = decoded[`${weight}/${slot}`];
      if (!tensor)
        throw new Error(`${source}: slot data for '${weight}/${slot}' is missing from ${OPTIMIZER_BIN}`);
      return { weight, slot, shape, values: tensor.dataSync() as Float32Array };
    });
    return { className: json.className, config: json.config, iterations: json.iterations, slots };
  } finally {
    tf.dispose(Object.values(decoded));
  }
}

function checkFormat(json: OptimizerStateJson, source: string): void {
  if (json.format !== 'fisherlab-optimizer-state/1') {
    throw new Error(
      `${source}: expected format 'fisherlab-optimizer-state/1', found ${JSON.stringify(json.format)}; it was written by another tool or version`,
    );
  }
}

/**
 * Serializes an optimizer's state. tfjs keeps slots (momentum buffers, Adam moments, …) in
 * arrays indexed by the order variables were first updated, and names them after the variables'
 * process-unique names; we record each slot against the model weight's stable name instead.
 */
export async function encodeOptimizerState(
  optimizer: tf.Optimizer,
  model: tf.LayersModel,
): Promise<{ json: OptimizerStateJson; bin: Uint8Array }> {
  const [iterTensor, ...slotTensors] = await optimizer.getWeights();
  const iterations = iterTensor ? (await iterTensor.tensor.data())[0]! : 0;
  const names = stableNames(model);
  const slots = slotTensors.map(({ name, tensor }) => {
    const cut = name.lastIndexOf('/');
    const variableName = name.slice(0, cut);
    const weight = names.get(variableName);
    if (weight === undefined) {
      throw new Error(
        `optimizer slot '${name}' belongs to variable '${variableName}', which is not a weight of model '${model.name}'; save the optimizer together with the model it trains`,
      );
    }
    return { weight, slot: name.slice(cut + 1), shape: [...tensor.shape], dtype: tensor.dtype };
  });
  const named = slotTensors.map((s, i) => ({
    name: `${slots[i]!.weight}/${slots[i]!.slot}`,
    tensor: s.tensor,
  }));
  const { data, specs } = await tf.io.encodeWeights(named);
  return {
    json: {
      format: 'fisherlab-optimizer-state/1',
      className: optimizer.getClassName(),
      config: optimizer.getConfig(),
      iterations,
      slots,
      weightSpecs: specs,
    },
    bin: new Uint8Array(data),
  };
}

/** Rebuilds the optimizer and its slots for `model` (a freshly loaded copy of the saved one). */
export async function decodeOptimizerState(
  json: OptimizerStateJson,
  bin: Uint8Array,
  model: tf.LayersModel,
  source: string,
): Promise<tf.Optimizer> {
  checkFormat(json, source);
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[json.className];
  if (!registered) {
    throw new Error(
      `${source}: optimizer class '${json.className}' is not registered with tfjs; expected one of SGD, Momentum, Adam, Adamax, RMSProp, Adagrad, Adadelta`,
    );
  }
  const [cls, fromConfig] = registered;
  const optimizer = fromConfig(cls, json.config) as unknown as tf.Optimizer;

  const byStable = new Map<string, tf.LayerVariable>();
  for (const w of model.weights) byStable.set(w.originalName, w);
  const decoded = tf.io.decodeWeights(bin.slice().buffer, json.weightSpecs);
  const restored: { name: string; tensor: tf.Tensor }[] = [
    { name: 'iter', tensor: tf.scalar(json.iterations, 'int32') },
  ];
  for (const { weight, slot, shape } of json.slots) {
    const target = byStable.get(weight);
    if (!target) {
      throw new Error(
        `${source}: slot '${slot}' of weight '${weight}' has no matching weight in the loaded model; the optimizer state belongs to a different architecture`,
      );
    }
    if (target.shape.join('x') !== shape.join('x')) {
      throw new Error(
        `${source}: slot '${slot}' of '${weight}' has shape [${shape}] but the model's weight has [${target.shape}]; the optimizer state belongs to a different model`,
      );
    }
    const tensor = decoded[`${weight}/${slot}`];
    if (!tensor)
      throw new Error(`${source}: slot data for '${weight}/${slot}' is missing from ${OPTIMIZER_BIN}`);
    // tfjs restores slots by position; the names only need to look like its own.
    restored.push({ name: `${(target.read() as tf.Variable).name}/${slot}`, tensor });
  }
  await optimizer.setWeights(restored);
  tf.dispose(restored.map((r) => r.tensor));
  return optimizer;
}
