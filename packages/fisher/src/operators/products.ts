import { leanVariableGrads, tf } from '@fisherlab/engine';
import { trainableVariables } from '../hvp/parameters.js';

/**
 * Jacobian-vector products J v for a batch, [B, C], with Jᵢ = ∂f(xᵢ)/∂θ, by the double-vjp trick
 * (tfjs has no forward mode): u ↦ Jᵀu = ∇θ⟨f(x), u⟩ is linear in u, so ∇_u⟨Jᵀu, v⟩ = J v, whatever
 * u is (zeros here). One forward and two backward passes for the whole batch, no per-example loop.
 * Returns the outputs f(x) of the same forward pass too. Inference mode (BatchNorm moving statistics).
 */
export function jacobianVectorProduct(
  model: tf.LayersModel,
  x: tf.Tensor,
  v: tf.Tensor[],
): { outputs: tf.Tensor2D; jv: tf.Tensor2D } {
  const vars = trainableVariables(model);
  let outputs: tf.Tensor2D | undefined;
  const jv = tf.tidy(() => {
    const width = (model.outputs[0]?.shape[1] as number | null) ?? 1;
    const u = tf.zeros([x.shape[0] ?? 0, width]);
    return tf.grad((dual: tf.Tensor) => {
      const { grads } = leanVariableGrads(() => {
        const f = model.apply(x, { training: false }) as tf.Tensor2D;
        outputs = tf.keep(tf.clone(f));
        return tf.sum(tf.mul(f, dual));
      }, vars);
      return tf.addN(vars.map((w, i) => tf.sum(tf.mul(grads[w.name] as tf.Tensor, v[i] as tf.Tensor))));
    })(u) as tf.Tensor2D;
  });
  return { outputs: outputs as tf.Tensor2D, jv };
}

/** Σᵢ Jᵢᵀ uᵢ for a batch (one forward and one backward pass), one tensor per trainable weight. */
export function vectorJacobianProduct(model: tf.LayersModel, x: tf.Tensor, u: tf.Tensor2D): tf.Tensor[] {
  const vars = trainableVariables(model);
  return tf.tidy(() => {
    const { grads } = leanVariableGrads(
      () => tf.sum(tf.mul(model.apply(x, { training: false }) as tf.Tensor, u)),
      vars,
    );
    return vars.map((w) => grads[w.name] as tf.Tensor);
  });
}

/**
 * Σᵢ Jᵢᵀ M(fᵢ, Jᵢ v) for a batch: the shape of every GGN and Fisher product, with M the loss
 * Hessian (GGN, exact Fisher) or r rᵀ for sampled or true-label output gradients r (Monte Carlo and
 * empirical Fisher). J v, then M in output space, then one vjp: three backward passes per batch.
 */
export function outputSpaceProduct(
  model: tf.LayersModel,
  x: tf.Tensor,
  v: tf.Tensor[],
  middle: (outputs: tf.Tensor2D, jv: tf.Tensor2D) => tf.Tensor2D,
): tf.Tensor[] {
  const { outputs, jv } = jacobianVectorProduct(model, x, v);
  try {
    const m = middle(outputs, jv);
    try {
      return vectorJacobianProduct(model, x, m);
    } finally {
      m.dispose();
    }
  } finally {
    tf.dispose([outputs, jv]);
  }
}

/** M = (1/S) Σₛ rₛ rₛᵀ (J v) per example, for output gradients rₛ [B, C]. */
export function outerProductTimes(gradients: tf.Tensor2D[], jv: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() =>
    tf.div(tf.addN(gradients.map((r) => tf.mul(r, tf.sum(tf.mul(r, jv), 1, true)))), gradients.length),
  );
}
