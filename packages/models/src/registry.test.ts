import { initBackend, type tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { countTrainableParams } from './params.js';
import { ARCHITECTURES, createModel, type ModelSpec } from './registry.js';

/**
 * Parameter counts walked independently from the reference PyTorch definitions' layer shapes
 * (Conv2d: in·out·k² (+out with bias); BatchNorm2d: 2c; Linear: in·out + out).
 */
const conv = (cin: number, cout: number, k: number, bias = false) => cin * cout * k * k + (bias ? cout : 0);
const bn = (c: number) => 2 * c;
const linear = (cin: number, cout: number) => cin * cout + cout;

/** kuangliu/pytorch-cifar models/vgg.py VGG('VGG11'), numClasses generalised. */
function referenceVgg11(numClasses: number, batchNorm = true): number {
  let total = 0;
  let cin = 3;
  for (const width of [64, 128, 256, 256, 512, 512, 512, 512]) {
    total += conv(cin, width, 3, true) + (batchNorm ? bn(width) : 0);
    cin = width;
  }
  return total + linear(512, numClasses);
}

/** kuangliu/pytorch-cifar models/resnet.py ResNet18(). */
function referenceResnet18(numClasses: number): number {
  let total = conv(3, 64, 3) + bn(64);
  let cin = 64;
  for (const [planes, stride] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ] as const) {
    for (const s of [stride, 1]) {
      total += conv(cin, planes, 3) + bn(planes) + conv(planes, planes, 3) + bn(planes);
      if (s !== 1 || cin !== planes) total += conv(cin, planes, 1) + bn(planes);
      cin = planes;
    }
  }
  return total + linear(512, numClasses);
}

/** xternalz/WideResNet-pytorch wideresnet.py WideResNet(depth, numClasses, width). */
function referenceWrn(depth: number, k: number, numClasses: number): number {
  const n = (depth - 4) / 6;
  const channels = [16, 16 * k, 32 * k, 64 * k];
  let total = conv(3, 16, 3);
  for (let g = 0; g < 3; g++) {
    for (let i = 0; i < n; i++) {
      const cin = i === 0 ? channels[g]! : channels[g + 1]!;
      const cout = channels[g + 1]!;
      total +=
        bn(cin) +
        conv(cin, cout, 3) +
        bn(cout) +
        conv(cout, cout, 3) +
        (cin !== cout ? conv(cin, cout, 1) : 0);
    }
  }
  return total + bn(channels[3]!) + linear(channels[3]!, numClasses);
}

/** andreasveit/densenet-pytorch densenet.py DenseNet3(depth, numClasses, growth, reduction, bottleneck). */
function referenceDenseNet(
  depth: number,
  growth: number,
  numClasses: number,
  reduction = 0.5,
  bottleneck = true,
) {
  const n = bottleneck ? (depth - 4) / 6 : (depth - 4) / 3;
  let c = 2 * growth;
  let total = conv(3, c, 3);
  for (let block = 0; block < 3; block++) {
    for (let i = 0; i < n; i++) {
      total += bottleneck
        ? bn(c) + conv(c, 4 * growth, 1) + bn(4 * growth) + conv(4 * growth, growth, 3)
        : bn(c) + conv(c, growth, 3);
      c += growth;
    }
    if (block < 2) {
      const out = Math.floor(c * reduction);
      total += bn(c) + conv(c, out, 1);
      c = out;
    }
  }
  return total + bn(c) + linear(c, numClasses);
}

const built = (spec: ModelSpec): number => {
  const model = createModel(spec);
  const count = countTrainableParams(model);
  model.dispose();
  return count;
};

/** Cheap settings for the heavy families where a test only needs the wiring. */
const SMALL: Partial<Record<string, object>> = {
  wrn: { depth: 10, width: 1 },
  densenet: { depth: 16, growthRate: 4 },
};

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('parameter counts equal the reference PyTorch definitions', () => {
  const cifar = { inputShape: [32, 32, 3], seed: 0 };

  it('the independent walks reproduce the published figures', () => {
    // Published: kuangliu VGG11 9.23M, ResNet18 11.17M; WRN paper 36.5M (28-10), 2.7M (16-4);
    // DenseNet paper 0.8M (BC, L=100, k=12), 1.0M (L=40, k=12).
    expect(referenceVgg11(10)).toBe(9_231_114);
    expect(referenceResnet18(10)).toBe(11_173_962);
    expect(referenceWrn(28, 10, 10)).toBe(36_479_194);
    expect(referenceWrn(16, 4, 10)).toBe(2_748_890);
    expect(referenceDenseNet(100, 12, 10)).toBe(769_162);
    expect(referenceDenseNet(40, 12, 10, 1, false)).toBe(1_059_298);
  });

  it('vgg11 (kuangliu VGG11): 9,231,114 on CIFAR-10, 9,277,284 on CIFAR-100', () => {
    expect(built({ arch: 'vgg11', numClasses: 10, ...cifar })).toBe(9_231_114);
    expect(built({ arch: 'vgg11', numClasses: 100, ...cifar })).toBe(referenceVgg11(100));
    expect(built({ arch: 'vgg11', numClasses: 100, batchNorm: false, ...cifar })).toBe(
      referenceVgg11(100, false),
    );
  });

  it('resnet18 (kuangliu ResNet18): 11,173,962 on CIFAR-10', () => {
    expect(built({ arch: 'resnet18', numClasses: 10, ...cifar })).toBe(11_173_962);
    expect(built({ arch: 'resnet18', numClasses: 200, inputShape: [64, 64, 3] })).toBe(
      referenceResnet18(200),
    );
  });

  it('wrn (xternalz WideResNet): 36,479,194 for WRN-28-10 and 2,748,890 for WRN-16-4', () => {
    expect(built({ arch: 'wrn', depth: 28, width: 10, numClasses: 10, ...cifar })).toBe(36_479_194);
    expect(built({ arch: 'wrn', depth: 16, width: 4, numClasses: 10, ...cifar })).toBe(2_748_890);
    expect(built({ arch: 'wrn', depth: 16, width: 4, numClasses: 200, inputShape: [64, 64, 3] })).toBe(
      referenceWrn(16, 4, 200),
    );
  });

  it('densenet (andreasveit DenseNet3): 769,162 for DenseNet-BC-100 k=12; plain DenseNet-40 1,059,298', () => {
    expect(built({ arch: 'densenet', depth: 100, growthRate: 12, numClasses: 10, ...cifar })).toBe(769_162);
    expect(built({ arch: 'densenet', numClasses: 100, ...cifar })).toBe(referenceDenseNet(100, 12, 100));
    expect(
      built({ arch: 'densenet', depth: 40, bottleneck: false, compression: 1, numClasses: 10, ...cifar }),
    ).toBe(1_059_298);
  });

  it('simplecnn and mlp match their closed forms', () => {
    // conv(1→32) + conv(32→64) + Linear(7·7·64→128) + Linear(128→10)
    const simple = conv(1, 32, 3, true) + conv(32, 64, 3, true) + linear(7 * 7 * 64, 128) + linear(128, 10);
    expect(simple).toBe(421_642);
    expect(built({ arch: 'simplecnn', inputShape: [28, 28, 1], numClasses: 10 })).toBe(simple);
    expect(built({ arch: 'mlp', inputShape: [28, 28, 1], numClasses: 10, hiddenUnits: [100] })).toBe(
      linear(784, 100) + linear(100, 10),
    );
  });
});

describe('every architecture accepts 28x28x1, 32x32x3 and 64x64x3', () => {
  // Shapes only (cheap); forward and training on these inputs run in training.test.ts on wasm.
  for (const arch of ARCHITECTURES) {
    it(`${arch} builds a [batch, numClasses] logits head for each input shape`, () => {
      for (const inputShape of [
        [28, 28, 1],
        [32, 32, 3],
        [64, 64, 3],
      ]) {
        const model = createModel({ arch, inputShape, numClasses: 7, ...SMALL[arch] } as ModelSpec);
        expect(model.outputs[0]!.shape).toEqual([null, 7]);
        // The last layer is the linear head itself: no softmax (or any activation) after it.
        const head = model.layers.at(-1)!;
        expect(head.getClassName()).toBe('Dense');
        expect((head.getConfig() as { activation: string }).activation).toBe('linear');
        model.dispose();
      }
    });
  }

  it('vgg11 keeps a 1x1 map on 28x28 (ceil-mode pools) and flattens 2x2x512 on 64x64', () => {
    const at = (inputShape: number[]) => {
      const model = createModel({ arch: 'vgg11', inputShape, numClasses: 10 });
      const features = model.getLayer('classifier').input as tf.SymbolicTensor;
      model.dispose();
      return features.shape;
    };
    expect(at([28, 28, 1])).toEqual([null, 512]);
    expect(at([32, 32, 3])).toEqual([null, 512]);
    expect(at([64, 64, 3])).toEqual([null, 2048]);
  });
});

describe('options are validated with errors that name the key and the fix', () => {
  const bad = (spec: unknown) => () => createModel(spec as ModelSpec);

  it('an unknown arch lists the known ones', () => {
    expect(bad({ arch: 'resnet50', inputShape: [32, 32, 3], numClasses: 10 })).toThrow(
      /option 'arch' must be one of mlp, simplecnn, vgg11, resnet18, wrn, densenet, found "resnet50"/,
    );
  });

  it('a misspelt option names itself and the options the arch has', () => {
    expect(bad({ arch: 'wrn', inputShape: [32, 32, 3], numClasses: 10, widht: 4 })).toThrow(
      /option 'widht' is not known for arch 'wrn'; its options are .*depth, width, dropout/,
    );
  });

  it('shapes, counts, depths and rates are checked', () => {
    const base = { inputShape: [32, 32, 3], numClasses: 10 };
    expect(bad({ arch: 'vgg11', inputShape: [3, 32, 32], numClasses: 10 })).toThrow(
      /'inputShape' must be channels last \(NHWC\), found \[3,32,32\]; use \[32, 32, 3\]/,
    );
    expect(bad({ arch: 'resnet18', inputShape: [32, 32], numClasses: 10 })).toThrow(
      /\[height, width, channels\]/,
    );
    expect(bad({ arch: 'simplecnn', inputShape: [2, 2, 1], numClasses: 10 })).toThrow(/at least 4x4/);
    expect(bad({ arch: 'mlp', inputShape: [784], numClasses: 0 })).toThrow(
      /'numClasses' must be a positive integer, found 0/,
    );
    expect(bad({ arch: 'wrn', depth: 20, ...base })).toThrow(
      /'depth' must be of the form 6n \+ 4 .*found 20/,
    );
    expect(bad({ arch: 'densenet', depth: 43, ...base })).toThrow(/6n \+ 4 with bottlenecks/);
    expect(() =>
      createModel({ arch: 'densenet', depth: 43, bottleneck: false, ...base }).dispose(),
    ).not.toThrow();
    expect(bad({ arch: 'wrn', dropout: 1, ...base })).toThrow(
      /'dropout' must be a rate in \[0, 1\), found 1/,
    );
    expect(bad({ arch: 'vgg11', init: 'he', ...base })).toThrow(
      /'init' must be one of pytorch, tfjs, reference, found "he"/,
    );
    expect(bad({ arch: 'vgg11', batchNorm: 'yes', ...base })).toThrow(/'batchNorm' must be true or false/);
    expect(bad({ arch: 'densenet', compression: 0, ...base })).toThrow(
      /'compression' must be a number in \(0, 1\]/,
    );
  });
});
