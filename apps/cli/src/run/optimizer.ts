import { tf } from '@fisherlab/engine';

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
  name: 'sgd' | 'adam';
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

export interface OptimizerState {
  step: number;
  /** Per-weight buffers, keyed `<index in trainableWeights>/<slot>` (names change between processes). */
  slots: Record<string, { shape: number[]; values: number[] | Float32Array }>;
}

export class Optimizer {
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
      for (const [index, weight] of weights.entries()) {
        const grad = grads[(weight.read() as tf.Variable).name] ?? grads[weight.name];
        if (!grad) continue;
        const w = weight.read();
        const decays = weightDecay > 0 && this.decayable.has((weight.read() as tf.Variable).name);
        const g = decays ? grad.add(w.mul(weightDecay)) : grad;
        let update: tf.Tensor;
        if (this.settings.name === 'sgd') {
          if (mu > 0) {
            const buffer = this.slots.get(`${index}/momentum`);
            if (buffer) buffer.assign(buffer.mul(mu).add(g));
            const b = buffer ?? this.slot(index, 'momentum', () => g);
            update = nesterov ? g.add(b.mul(mu)) : b;
          } else {
            update = g;
          }
        } else {
          const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
          const m = this.slot(index, 'm', () => tf.zerosLike(g));
          const v = this.slot(index, 'v', () => tf.zerosLike(g));
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

  private slot(index: number, name: string, init: () => tf.Tensor): tf.Variable {
    const key = `${index}/${name}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = tf.variable(init(), false, `opt/${key}/${this.slots.size}`);
      this.slots.set(key, slot);
    }
    return slot;
  }

  get step(): number {
    return this.stepCount;
  }

  async getState(): Promise<OptimizerState> {
    const slots: OptimizerState['slots'] = {};
    for (const [key, variable] of this.slots) {
      slots[key] = { shape: variable.shape, values: (await variable.data()) as Float32Array };
    }
    return { step: this.stepCount, slots };
  }

  setState(state: OptimizerState): void {
    this.dispose();
    this.stepCount = state.step;
    for (const [key, { shape, values }] of Object.entries(state.slots)) {
      this.slots.set(
        key,
        tf.variable(tf.tensor(Float32Array.from(values), shape), false, `opt/${key}/${this.slots.size}`),
      );
    }
  }

  dispose(): void {
    for (const variable of this.slots.values()) variable.dispose();
    this.slots.clear();
  }
}
