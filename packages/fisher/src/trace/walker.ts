import { tf } from '@fisherlab/engine';
import { preflight } from '../model-output.js';
import { findPerExampleCell, type PerExampleCell } from './cells/index.js';

type Layer = tf.layers.Layer;

/** The slice of tfjs-layers' internal graph node the walker reads (tfjs does not export the type). */
interface GraphNode {
  outboundLayer: Layer;
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
}

/** One call of a layer in the model's graph, in an order where its inputs are already computed. */
interface WalkStep {
  layer: Layer;
  inputIds: number[];
  outputIds: number[];
  /** Set when the layer's per-example gradient norms come from its cell (one backward pass). */
  cell?: PerExampleCell;
  /** Symbolic output shape with the batch dimension left as null. */
  outputShape: (number | null)[];
}

/** A layer whose output the walker exposes: its pre-activation gets a perturbation, its cell input is saved. */
export interface TappedLayer {
  name: string;
  layer: Layer;
  cell: PerExampleCell;
  /** The pre-activation's shape for a batch of `batch` examples. */
  preActivationShape(batch: number): number[];
}

/** What a forward pass can hand back besides the logits. */
export interface WalkTaps {
  /** Added to each tapped layer's pre-activation: zeros whose gradient is dLoss/dPreActivation. */
  perturbations?: ReadonlyMap<string, tf.Tensor>;
  /** Receives each tapped layer's cell input (what its per-example formula needs), in graph order. */
  onCellInput?: (layerName: string, cellInput: tf.Tensor) => void;
}

/**
 * Runs a tf.LayersModel one layer call at a time, the way `model.predict` does (inference mode:
 * BatchNorm uses its moving statistics, dropout is off), so that the input and the
 * pre-activation output of every Dense, Conv2D and BatchNormalization layer can be reached.
 *
 * Works for Sequential and functional models with one input and one output (Add, Concatenate,
 * any branching). Dense, Conv2D and BatchNormalization layers are computed explicitly by their
 * cells (see cells/index.ts for the configurations supported); every other layer, and a layer
 * called more than once (shared weights), runs through its own `apply(..., {training: false})`.
 */
export class ModelWalker {
  readonly model: tf.LayersModel;
  readonly tapped: readonly TappedLayer[];
  private readonly steps: WalkStep[];
  private readonly inputId: number;
  private readonly outputId: number;

  constructor(model: tf.LayersModel) {
    preflight(model, 'ModelWalker');
    this.model = model;
    this.inputId = model.inputs[0]!.id;
    this.outputId = model.outputs[0]!.id;
    this.steps = topologicalSteps(model);
    const calls = new Map<Layer, number>();
    for (const step of this.steps) calls.set(step.layer, (calls.get(step.layer) ?? 0) + 1);
    const tapped: TappedLayer[] = [];
    for (const step of this.steps) {
      if (calls.get(step.layer) !== 1 || step.layer.trainableWeights.length === 0) continue;
      const cell = findPerExampleCell(step.layer);
      // A perturbation needs the pre-activation's shape before the pass: dimensions beyond the
      // batch must be static, or the layer goes to the per-example loop.
      if (!cell || step.outputShape.slice(1).some((d) => d === null)) continue;
      step.cell = cell;
      const shape = step.outputShape;
      tapped.push({
        name: step.layer.name,
        layer: step.layer,
        cell,
        preActivationShape: (batch) => shape.map((d, i) => (i === 0 ? batch : d!)),
      });
    }
    this.tapped = tapped;
  }

  /** Trainable layers (with trainable weights) that no cell covers: their per-example norms need a loop. */
  get untappedTrainableLayers(): Layer[] {
    const tappedNames = new Set(this.tapped.map((t) => t.name));
    return this.model.layers.filter((l) => l.trainableWeights.length > 0 && !tappedNames.has(l.name));
  }

  /** Logits for `x`, computed layer by layer in inference mode (intermediates are left to the caller's tf.tidy). */
  forward(x: tf.Tensor, taps: WalkTaps = {}): tf.Tensor2D {
    const values = new Map<number, tf.Tensor>([[this.inputId, x]]);
    for (const step of this.steps) {
      const inputs = step.inputIds.map((id) => values.get(id)!);
      let outputs: tf.Tensor[];
      if (step.cell) {
        const { preActivation, cellInput } = step.cell.linear(step.layer, inputs[0]!);
        taps.onCellInput?.(step.layer.name, cellInput);
        const perturbation = taps.perturbations?.get(step.layer.name);
        const perturbed = perturbation ? tf.add(preActivation, perturbation) : preActivation;
        outputs = [step.cell.activate(step.layer, perturbed)];
      } else {
        const result = step.layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: false });
        outputs = Array.isArray(result) ? (result as tf.Tensor[]) : [result as tf.Tensor];
      }
      step.outputIds.forEach((id, i) => {
        values.set(id, outputs[i]!);
      });
    }
    const logits = values.get(this.outputId)!;
    if (logits.rank !== 2) {
      throw new Error(
        `model '${this.model.name}': expected logits of shape [batch, classes], found shape [${logits.shape}]; ` +
          'end the model with a Dense layer without softmax',
      );
    }
    return logits as tf.Tensor2D;
  }
}

/** Orders the model's layer calls so every call comes after the calls that produce its inputs. */
function topologicalSteps(model: tf.LayersModel): WalkStep[] {
  const steps: WalkStep[] = [];
  const visited = new Set<GraphNode>();
  const inputIds = new Set(model.inputs.map((s) => s.id));
  const visit = (tensor: tf.SymbolicTensor): void => {
    if (inputIds.has(tensor.id)) return;
    const node = (tensor.sourceLayer as unknown as { inboundNodes: GraphNode[] }).inboundNodes[
      tensor.nodeIndex
    ];
    if (!node) throw new Error(`model '${model.name}': tensor '${tensor.name}' has no producing layer call`);
    if (visited.has(node)) return;
    visited.add(node);
    for (const input of node.inputTensors) visit(input);
    steps.push({
      layer: node.outboundLayer,
      inputIds: node.inputTensors.map((s) => s.id),
      outputIds: node.outputTensors.map((s) => s.id),
      outputShape: [...(node.outputTensors[0]?.shape ?? [])],
    });
  };
  for (const output of model.outputs) visit(output);
  return steps;
}
