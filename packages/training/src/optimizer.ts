import { tf } from '@fisherlab/engine';
import type { OptimizerSnapshot, OptimizerSnapshotValues } from '@fisherlab/models';

export const OPTIMIZER_NAMES = ['sgd', 'adam'] as const;

/**
 * SGD (with momentum, Nesterov, weight decay) and Adam with PyTorch's update rules, written here
 * rather than taken from tf.train because tfjs's momentum optimizer folds the learning rate into
 * its buffer (so a schedule changes past steps' contributions) and exposes no way to change the
 * rate or to read its state by weight name. PyTorch's rules, which users compare against:
 *   SGD:  g ← g + λw;  b ← μb + g (b = g on the first step);  d = nesterov ? g + μb : b;  w ← w − η d
 *   Adam: g ← g + λw;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  w ← w − η m̂ / (√v̂ + ε)
 * Weight decay applies only to the weights named in `decayable` (kernels, not biases or BN).
 */
export interface OptimizerSettings {
  name: (typeof OPTIMIZER_NAMES)[number];
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/** The className an optimizer's state is saved under (one checkpoint format: @fisherlab/models'). */
const CLASS_NAME = { sgd: 'fisherlab.SGD', adam: 'fisherlab.Adam' } as const;

export class Optimizer {
  /** Buffers keyed `<weight's stable name>/<slot>` (variable names change between processes). */
  private slots = new Map<string, tf.Variable>();
  private stepCount = 0;

  constructor(
    readonly settings: OptimizerSettings,
    private readonly decayable: ReadonlySet<string>,
  ) {}

  /** Applies one update with learning rate `lr`; `grads` is keyed by variable name. Disposes nothing it did not create. */
  apply(weights: readonly tf.LayerVariable[], grads: Record<string, tf.Tensor>, lr: number): void {
    this.stepCount += 1;
    const { momentum: mu, nesterov, weightDecay } = this.settings;
    tf.tidy(() => {
      for (const weight of weights) {
        const key = weight.originalName;
        const grad = grads[(weight.read() as tf.Variable).name] ?? grads[weight.name];
        if (!grad) continue;
        const w = weight.read();
        const decays = weightDecay > 0 && this.decayable.has((weight.read() as tf.Variable).name);
        const g = decays ? grad.add(w.mul(weightDecay)) : grad;
        let update: tf.Tensor;
        if (this.settings.name === 'sgd') {
          if (mu > 0) {
            const buffer = this.slots.get(`${key}/momentum`);
            if (buffer) buffer.assign(buffer.mul(mu).add(g));
            const b = buffer ?? this.slot(key, 'momentum', () => g);
            update = nesterov ? g.add(b.mul(mu)) : b;
          } else {
            update = g;
          }
        } else {
          const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
          const m = this.slot(key, 'm', () => tf.zerosLike(g));
          const v = this.slot(key, 'v', () => tf.zerosLike(g));
          m.assign(m.mul(beta1).add(g.mul(1 - beta1)));
          v.assign(v.mul(beta2).add(g.square().mul(1 - beta2)));
          const mHat = m.div(1 - beta1 ** this.stepCount);
          const vHat = v.div(1 - beta2 ** this.stepCount);
          update = mHat.div(vHat.sqrt().add(eps));
        }
        weight.write(w.sub(update.mul(lr)));
      }
    });
  }

  private slot(weight: string, name: string, init: () => tf.Tensor): tf.Variable {
    const key = `${weight}/${name}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = tf.variable(init(), false); // tfjs names it: two optimizers may train copies of one model
      this.slots.set(key, slot);
    }
    return slot;
  }

  get step(): number {
    return this.stepCount;
  }

  /** The state as named slots (the tensors are the optimizer's own: save them before the next apply). */
  snapshot(): OptimizerSnapshot {
    return {
      className: CLASS_NAME[this.settings.name],
      config: { ...this.settings },
      iterations: this.stepCount,
      slots: [...this.slots].map(([key, tensor]) => {
        const cut = key.lastIndexOf('/');
        return { weight: key.slice(0, cut), slot: key.slice(cut + 1), tensor };
      }),
    };
  }

  /** Puts back a state saved by {@link snapshot}; refuses one of another optimizer or model. */
  restore(state: OptimizerSnapshotValues, weights: readonly tf.LayerVariable[], source: string): void {
    if (state.className !== CLASS_NAME[this.settings.name]) {
      throw new Error(
        `${source}: optimizer state of ${state.className}, but this run uses ${CLASS_NAME[this.settings.name]}; resume with the config the checkpoint was made with`,
      );
    }
    const shapes = new Map(weights.map((w) => [w.originalName, w.shape.join('x')]));
    for (const { weight, slot, shape } of state.slots) {
      if (shapes.get(weight) !== shape.join('x'))
        throw new Error(
          `${source}: slot '${slot}' of '${weight}' (shape [${shape}]) has no weight of that name and shape in this model; the optimizer state belongs to another architecture`,
        );
    }
    this.dispose();
    this.stepCount = state.iterations;
    for (const { weight, slot, shape, values } of state.slots) {
      const initial = tf.tensor(values, shape);
      this.slots.set(`${weight}/${slot}`, tf.variable(initial, false));
      initial.dispose();
    }
  }

  dispose(): void {
    for (const variable of this.slots.values()) variable.dispose();
    this.slots.clear();
  }
}
