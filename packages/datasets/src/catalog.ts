import { DatasetError } from './errors.js';
/**
 * What FisherLab knows about each dataset: shape, classes, published counts, where the official
 * archives live and their published md5 checksums, and which folder an archive unpacks to.
 */
export const DATASET_NAMES = [
  'fashion-mnist-embedded',
  'fashion-mnist',
  'mnist',
  'cifar10',
  'cifar100',
  'tinyimagenet',
] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface DownloadResource {
  url: string;
  /** File name the resource is saved under. */
  filename: string;
  /** Published md5 (hex) of the file as served. */
  md5: string;
  /** How it is installed: unpacked (tar.gz, zip) or copied as is. */
  kind: 'tar.gz' | 'zip' | 'file';
}

export interface DatasetDescriptor {
  name: DatasetName;
  title: string;
  homepage: string;
  license: string;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  /** Published example counts ("test" is TinyImageNet's labeled val split). */
  counts: { train: number; test: number };
  /** Sub-folders, relative to a candidate directory, where the files may sit ('' = the directory itself). */
  folders: string[];
  /** A dataset directory holds one of these files (checked in order). */
  markerFiles: string[];
  /** Directories a system package installs the dataset to (searched last). */
  systemDirs: string[];
  resources: DownloadResource[];
}

const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const idxResources = (base: string, md5s: [string, string, string, string]): DownloadResource[] =>
  [IDX_FILES.trainImages, IDX_FILES.trainLabels, IDX_FILES.testImages, IDX_FILES.testLabels].map(
    (file, i) => ({
      url: `${base}${file}.gz`,
      filename: `${file}.gz`,
      md5: md5s[i]!,
      kind: 'file' as const,
    }),
  );

const idxMarkers = [`${IDX_FILES.trainImages}.gz`, IDX_FILES.trainImages];

export const CATALOG: Record<DatasetName, DatasetDescriptor> = {
  'fashion-mnist-embedded': {
    name: 'fashion-mnist-embedded',
    title:
      'Fashion-MNIST, class-balanced 10,000 train / 2,000 test subset shipped inside @fisherlab/datasets',
    homepage: 'https://github.com/zalandoresearch/fashion-mnist',
    license: 'MIT (Copyright 2017 Zalando SE)',
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    counts: { train: 10_000, test: 2_000 },
    folders: [''],
    markerFiles: idxMarkers,
    systemDirs: [],
    resources: [],
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST (Zalando), 28x28 grayscale, 10 classes',
    homepage: 'https://github.com/zalandoresearch/fashion-mnist',
    license: 'MIT (Copyright 2017 Zalando SE)',
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    counts: { train: 60_000, test: 10_000 },
    folders: ['', 'FashionMNIST/raw'],
    markerFiles: idxMarkers,
    systemDirs: ['/usr/share/datasets/fashion-mnist'],
    resources: idxResources('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/', [
      '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      '25c81989df183df01b3e8a0aad5dffbe',
      'bef4ecab320f06d8554ea6380940ec79',
      'bb300cfdad3c16e7a12a480ee83cd310',
    ]),
  },
  mnist: {
    name: 'mnist',
    title: 'MNIST handwritten digits, 28x28 grayscale, 10 classes',
    homepage: 'http://yann.lecun.com/exdb/mnist/',
    license: 'CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)',
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    counts: { train: 60_000, test: 10_000 },
    folders: ['', 'MNIST/raw'],
    markerFiles: idxMarkers,
    systemDirs: [],
    // The mirror torchvision uses; yann.lecun.com itself often refuses downloads.
    resources: idxResources('https://ossci-datasets.s3.amazonaws.com/mnist/', [
      'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      'd53e105ee54ea40749a09fcbcd1e9432',
      '9fb629c4189551a2d022fa330f9573f3',
      'ec29112dd5afa0611ce80d1b7f02629c',
    ]),
  },
  cifar10: {
    name: 'cifar10',
    title: 'CIFAR-10 (binary version), 32x32 RGB, 10 classes',
    homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    license: 'no explicit license; cite Krizhevsky (2009)',
    height: 32,
    width: 32,
    channels: 3,
    numClasses: 10,
    counts: { train: 50_000, test: 10_000 },
    folders: ['', 'cifar-10-batches-bin'],
    markerFiles: ['data_batch_1.bin'],
    systemDirs: [],
    resources: [
      {
        url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
        filename: 'cifar-10-binary.tar.gz',
        md5: 'c32a1d4ab5d03f1284b67883e8d87530',
        kind: 'tar.gz',
      },
    ],
  },
  cifar100: {
    name: 'cifar100',
    title: 'CIFAR-100 (binary version), 32x32 RGB, 100 fine / 20 coarse classes',
    homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    license: 'no explicit license; cite Krizhevsky (2009)',
    height: 32,
    width: 32,
    channels: 3,
    numClasses: 100,
    counts: { train: 50_000, test: 10_000 },
    folders: ['', 'cifar-100-binary'],
    markerFiles: ['train.bin'],
    systemDirs: [],
    resources: [
      {
        url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
        filename: 'cifar-100-binary.tar.gz',
        md5: '03b5dce01913d631647c71ecec9e9cb8',
        kind: 'tar.gz',
      },
    ],
  },
  tinyimagenet: {
    name: 'tinyimagenet',
    title: 'TinyImageNet-200, 64x64 RGB, 200 classes (the labeled val split serves as test)',
    homepage: 'http://cs231n.stanford.edu/',
    license: 'ImageNet terms of access (non-commercial research)',
    height: 64,
    width: 64,
    channels: 3,
    numClasses: 200,
    counts: { train: 100_000, test: 10_000 },
    folders: ['', 'tiny-imagenet-200'],
    markerFiles: ['wnids.txt'],
    systemDirs: [],
    resources: [
      {
        url: 'http://cs231n.stanford.edu/tiny-imagenet-200.zip',
        filename: 'tiny-imagenet-200.zip',
        md5: '90528d7ca1a48142e341f4ef8d21d0de',
        kind: 'zip',
      },
    ],
  },
};

export const FASHION_MNIST_CLASS_NAMES: readonly string[] = FASHION_MNIST_CLASSES;
export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

const ALIASES: Record<string, DatasetName> = {
  default: 'fashion-mnist-embedded',
  embedded: 'fashion-mnist-embedded',
  fashionmnist: 'fashion-mnist',
  'fashion-mnist': 'fashion-mnist',
  'cifar-10': 'cifar10',
  'cifar-100': 'cifar100',
  'tiny-imagenet': 'tinyimagenet',
  'tiny-imagenet-200': 'tinyimagenet',
  tinyimagenet200: 'tinyimagenet',
};

/** The canonical name for a dataset name or alias ('default' is the embedded Fashion-MNIST subset). */
export function resolveDatasetName(name: string): DatasetName {
  const key = name.trim().toLowerCase();
  if ((DATASET_NAMES as readonly string[]).includes(key)) return key as DatasetName;
  const alias = ALIASES[key];
  if (alias) return alias;
  throw new DatasetError(
    'dataset name',
    `one of ${[...DATASET_NAMES, 'default'].join(', ')}`,
    `'${name}'`,
    'use one of those names (`fisherlab data info` lists them).',
  );
}

export function describeDataset(name: string): DatasetDescriptor {
  return CATALOG[resolveDatasetName(name)];
}
