import type { tf } from '@fisherlab/engine';
import type { LayerBuilder } from '../layers.js';

type Sym = tf.SymbolicTensor;

/**
 * kuangliu/pytorch-cifar BasicBlock: conv3x3(stride)-BN-ReLU-conv3x3-BN, plus the input (through a
 * 1x1 conv(stride)+BN shortcut when the shape changes), then ReLU.
 */
function basicBlock(x: Sym, b: LayerBuilder, name: string, planes: number, stride: number): Sym {
  const inPlanes = x.shape[3];
  let out = b.conv2d(x, {
    name: `${name}.conv1`,
    filters: planes,
    kernelSize: 3,
    stride,
    padding: 1,
    useBias: false,
  });
  out = b.relu(b.batchNorm(out, `${name}.bn1`));
  out = b.conv2d(out, { name: `${name}.conv2`, filters: planes, kernelSize: 3, padding: 1, useBias: false });
  out = b.batchNorm(out, `${name}.bn2`);
  let shortcut = x;
  if (stride !== 1 || inPlanes !== planes) {
    shortcut = b.conv2d(x, {
      name: `${name}.shortcut.0`,
      filters: planes,
      kernelSize: 1,
      stride,
      useBias: false,
    });
    shortcut = b.batchNorm(shortcut, `${name}.shortcut.1`);
  }
  return b.relu(b.add(out, shortcut));
}

/**
 * kuangliu/pytorch-cifar `ResNet18()`: 3x3 stem conv (64, stride 1, no max-pool), BN, ReLU; four
 * stages of two BasicBlocks (64, 128, 256, 512 channels; strides 1, 2, 2, 2); average pool;
 * `linear` = Linear(512, numClasses). The reference's avg_pool2d(4) is a global pool at 32x32;
 * we pool globally so 28x28 and 64x64 inputs keep the same head.
 */
export function resnet18(x: Sym, b: LayerBuilder, numClasses: number) {
  let h = b.conv2d(x, { name: 'conv1', filters: 64, kernelSize: 3, padding: 1, useBias: false });
  h = b.relu(b.batchNorm(h, 'bn1'));
  const stages: [number, number][] = [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ];
  stages.forEach(([planes, stride], s) => {
    h = basicBlock(h, b, `layer${s + 1}.0`, planes, stride);
    h = basicBlock(h, b, `layer${s + 1}.1`, planes, 1);
  });
  return b.dense(b.globalAvgPool(h), 'linear', numClasses);
}
