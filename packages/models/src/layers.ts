import { tf } from '@fisherlab/engine';
import { biasInitializer, type InitContext, kernelInitializer } from './init.js';

type Sym = tf.SymbolicTensor;

/** Channels of an NHWC symbolic tensor (or features of a flat one). */
export const lastDim = (x: Sym): number => {
  const d = x.shape[x.shape.length - 1];
  if (d == null) throw new Error(`tensor ${x.name} has an unknown last dimension`);
  return d;
};

export interface ConvSpec {
  /** Layer name; we use the PyTorch module path (e.g. 'layer1.0.conv1') so weights map one to one. */
  name: string;
  filters: number;
  kernelSize: number;
  stride?: number;
  /** Zero padding on every side, as PyTorch's `padding=` (not TF's 'same'). */
  padding?: number;
  useBias: boolean;
}

/**
 * Layer builders that mirror torch.nn semantics on NHWC tensors: PyTorch padding, BatchNorm with
 * PyTorch's eps (1e-5) and momentum (0.1, i.e. tfjs momentum 0.9), and the chosen initialization.
 */
export class LayerBuilder {
  constructor(readonly init: InitContext) {}

  conv2d(x: Sym, spec: ConvSpec): Sym {
    const { name, filters, kernelSize, stride = 1, padding = 0, useBias } = spec;
    const fanIn = lastDim(x) * kernelSize * kernelSize;
    let input = x;
    let tfPadding: 'same' | 'valid' = 'valid';
    if (padding > 0) {
      // TF 'same' pads asymmetrically when strided (the extra row at the bottom/right), PyTorch
      // symmetrically; they agree only for stride 1 with padding (k−1)/2.
      if (stride === 1 && 2 * padding === kernelSize - 1) tfPadding = 'same';
      else input = tf.layers.zeroPadding2d({ padding, name: `${name}.pad` }).apply(x) as Sym;
    }
    return tf.layers
      .conv2d({
        name,
        filters,
        kernelSize,
        strides: stride,
        padding: tfPadding,
        useBias,
        kernelInitializer: kernelInitializer(this.init, name, { type: 'conv', kernelSize, filters }),
        ...(useBias ? { biasInitializer: biasInitializer(this.init, name, fanIn) } : {}),
      })
      .apply(input) as Sym;
  }

  dense(x: Sym, name: string, units: number): Sym {
    return tf.layers
      .dense({
        name,
        units,
        kernelInitializer: kernelInitializer(this.init, name, { type: 'dense' }),
        biasInitializer: biasInitializer(this.init, name, lastDim(x)),
      })
      .apply(x) as Sym;
  }

  batchNorm(x: Sym, name: string): Sym {
    return tf.layers.batchNormalization({ name, axis: -1, momentum: 0.9, epsilon: 1e-5 }).apply(x) as Sym;
  }

  relu(x: Sym): Sym {
    return tf.layers.reLU().apply(x) as Sym;
  }

  dropout(x: Sym, rate: number): Sym {
    return rate > 0 ? (tf.layers.dropout({ rate }).apply(x) as Sym) : x;
  }

  /** PyTorch MaxPool2d(2, 2, ceil_mode=True): equals the default floor mode on even sizes. */
  maxPoolCeil(x: Sym): Sym {
    return tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(x) as Sym;
  }

  /** PyTorch MaxPool2d(2) / avg_pool2d(2): floor mode. */
  maxPool(x: Sym): Sym {
    return tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid' }).apply(x) as Sym;
  }

  avgPool(x: Sym): Sym {
    return tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid' }).apply(x) as Sym;
  }

  globalAvgPool(x: Sym): Sym {
    return tf.layers.globalAveragePooling2d({}).apply(x) as Sym;
  }

  flatten(x: Sym): Sym {
    return tf.layers.flatten().apply(x) as Sym;
  }

  add(a: Sym, b: Sym): Sym {
    return tf.layers.add().apply([a, b]) as Sym;
  }

  concat(a: Sym, b: Sym): Sym {
    return tf.layers.concatenate({ axis: -1 }).apply([a, b]) as Sym;
  }
}
