import * as tf from '@tensorflow/tfjs';
import { gradientWithoutInput } from './fused_conv_gradient.js';

/**
 * `tf.variableGrads` with the memory of the backward pass released as it goes.
 *
 * tfjs 4.22's `Engine.gradients` keeps every gradient tensor of the backward pass (the running
 * ∂y/∂t of each intermediate t) and every tensor saved for it until the pass ends, inside one
 * tidy. The live set at the end is the whole backward graph: for VGG-11 with batch norm at batch
 * 128 a plain step peaked at 1.78 GB, and the Fisher penalty's outer backward (over the forward pass
 * AND the inner backward pass that forms ḡ) at batch 32 peaked at 2.0 GB, which put batch 128 past
 * the wasm heap's 4 GB.
 *
 * In reverse topological order, once a tape node's gradient has been computed, the gradients
 * flowing into its outputs and the tensors saved for it are never read again. This walk frees
 * them right there. It does so only in the outermost backward pass (no tape recording it): when a
 * gradient is itself being differentiated (the inner ḡ of the penalty), those tensors belong to
 * the outer graph and the walk frees nothing, exactly like the stock one.
 *
 * The walk mirrors tfjs-core's `getFilteredNodesXToY` and `backpropagateGradients` (tape.ts),
 * which are not exported; it uses the engine's tape state, a private API of the pinned tfjs
 * version. If that state is not where this expects it (another tfjs version), `leanVariableGrads`
 * falls back to `tf.variableGrads` (reported by `leanGradientsAvailable`).
 */

interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

function engineInternals(): EngineInternals | null {
  const engine = tf.engine() as unknown as Partial<EngineInternals>;
  const state = engine.state as Partial<EngineInternals['state']> | undefined;
  const usable =
    typeof engine.scopedRun === 'function' &&
    typeof engine.startTape === 'function' &&
    typeof engine.endTape === 'function' &&
    typeof engine.tidy === 'function' &&
    state !== undefined &&
    typeof state.gradientDepth === 'number';
  return usable ? (engine as EngineInternals) : null;
}

/** The id the engine gives the next tensor (ids only grow); +∞ when unknown, so nothing looks new. */
function nextTensorId(): number {
  const counter = (tf.engine().constructor as { nextTensorId?: unknown }).nextTensorId;
  return typeof counter === 'number' ? counter : Number.POSITIVE_INFINITY;
}

/** Whether this tfjs exposes the tape state the lean backward pass needs (tfjs 4.22 does). */
export function leanGradientsAvailable(): boolean {
  return engineInternals() !== null;
}

/** The nodes on a path from some x to y, inputs not depending on any x pruned (tape.ts's filter). */
function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((input) => fromX.has(input.id))) {
      for (const output of node.outputs) fromX.add(output.id);
      nodesFromX.add(node.id);
    }
  }
  const leadsToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i] as TapeNode;
    if (node.outputs.some((output) => leadsToY.has(output.id))) {
      for (const input of Object.values(node.inputs)) leadsToY.add(input.id);
      nodesToY.add(node.id);
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, input] of Object.entries(node.inputs)) if (fromX.has(input.id)) inputs[name] = input;
    filtered.push({ ...node, inputs });
  }
  return filtered;
}

/**
 * Backpropagates through `nodes` (tape.ts's walk) and, when `release` is set, disposes each node's
 * output gradients and saved tensors once the node is done. Every tensor this walk stores in the
 * map is its own (made in the walk, or a clone), so disposing one never frees a caller's tensor.
 */
function backpropagate(
  gradients: Map<number, tf.Tensor>,
  nodes: TapeNode[],
  engine: EngineInternals,
  release: boolean,
  keepIds: Set<number>,
): void {
  const owned = new Set<tf.Tensor>(gradients.values());
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i] as TapeNode;
    const dys = node.outputs.map((output) => gradients.get(output.id) ?? null);
    if (node.gradient == null) {
      throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    }
    const firstNewId = nextTensorId();
    const names = Object.keys(node.inputs);
    // One scope per node: what its gradient function computes eagerly for all inputs at once (a
    // kernel with several outputs) and no input takes is freed when the node is done.
    const computed = engine.tidy('leanNode', () => {
      // A fused conv whose input needs no gradient (a network's first layer): only filter and bias.
      const inputGradients =
        gradientWithoutInput(node, dys) ?? (node.gradient as NonNullable<TapeNode['gradient']>)(dys);
      return names.map((inputName) => {
        const gradientOf = inputGradients[inputName];
        if (gradientOf === undefined) {
          throw new Error(
            `Cannot backprop through input ${inputName}. Available gradients found: ${Object.keys(inputGradients)}.`,
          );
        }
        return engine.tidy('leanBackward', gradientOf);
      });
    });
    for (const [index, inputName] of names.entries()) {
      const x = node.inputs[inputName] as tf.Tensor;
      let dx = computed[index] as tf.Tensor;
      if (dx.dtype !== 'float32') {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input ${inputName} must have 'float32' dtype, but has '${dx.dtype}'`,
        );
      }
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input '${inputName}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
        );
      }
      // A gradient function may hand back a tensor it did not make (dy itself, a saved tensor, one
      // from its closure); a clone shares its data but is ours to dispose.
      if (dx.id < firstNewId || owned.has(dx)) dx = tf.clone(dx);
      const current = gradients.get(x.id);
      if (current === undefined) {
        gradients.set(x.id, dx);
        owned.add(dx);
      } else {
        const sum = tf.add(current, dx);
        gradients.set(x.id, sum);
        owned.add(sum);
        owned.delete(current);
        current.dispose();
        if (release) dx.dispose();
      }
    }
    if (!release) continue;
    for (const output of node.outputs) {
      const dy = gradients.get(output.id);
      if (dy === undefined || keepIds.has(output.id)) continue;
      gradients.delete(output.id);
      owned.delete(dy);
      dy.dispose();
    }
    for (const tensor of node.saved ?? []) tensor.dispose();
  }
}

/**
 * Same contract as `tf.variableGrads(f, varList)`: the value of f and its gradient with respect to
 * each variable it depends on (by name), with the backward pass's memory freed as it goes (see
 * the file comment). Variables f does not depend on get no entry, as in tfjs.
 */
export function leanVariableGrads(
  f: () => tf.Scalar,
  varList: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const engine = engineInternals();
  if (engine === null) return tf.variableGrads(f, varList);
  if (varList.length === 0) throw new Error('leanVariableGrads: expected at least one variable, found none');
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor) || y.rank !== 0) {
    throw new Error(`leanVariableGrads: f must return a scalar tensor, found ${String(y)}`);
  }
  const tape = engine.state.activeTape ?? [];
  const nodes = nodesFromXsToY(tape, varList, y);
  const release = engine.state.gradientDepth === 0;
  const grads = engine.tidy('backward', () => {
    const gradients = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
    backpropagate(gradients, nodes, engine, release, new Set(varList.map((v) => v.id)));
    const named: tf.NamedTensorMap = {};
    for (const v of varList) {
      const g = gradients.get(v.id);
      if (g !== undefined) named[v.name] = g;
    }
    if (release) {
      // Stock cleanup of the outermost pass: every saved tensor of the tape, the unreached too.
      for (const node of engine.state.activeTape ?? []) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
    }
    return named;
  });
  return { value: y, grads };
}
