/**
 * @fisherlab/datasets: the paper's datasets as uint8 NHWC images + int32 labels, with label noise,
 * splits, augmentation and seeded, resumable batching. No TensorFlow.js here: batches are
 * Float32Array + shape, which the caller wraps in tensors.
 */

export type { RngState } from '@fisherlab/core';
export { deriveSeed, InputError, Rng } from '@fisherlab/core';
export type { AugmentOptions, CropFlip, Normalization } from './augment.js';
export { normalizationTable, writeExample } from './augment.js';
export type { Batch, BatchIteratorOptions, BatchPosition } from './batches.js';
export { BatchIterator, createBatchIterator } from './batches.js';
export type { DatasetDescriptor, DatasetName, DownloadResource } from './catalog.js';
export { CATALOG, DATASET_NAMES, describeDataset, resolveDatasetName } from './catalog.js';
export type {
  DownloadedFile,
  DownloadOptions,
  DownloadProgress,
  DownloadResult,
  InstallMarker,
} from './download.js';
export { downloadDataset, INSTALL_MARKER } from './download.js';
export { EMBEDDED_DATA_DIR } from './embedded.js';
export { parseCifarRecords } from './formats/cifar.js';
export { encodeIdxImages, encodeIdxLabels, parseIdxImages, parseIdxLabels } from './formats/idx.js';
export type { DataDerivation, DataIdentity } from './identity.js';
export { dataIdentity } from './identity.js';
export type { DatasetInfo, VerifyCheck, VerifyOptions, VerifyReport } from './info.js';
export { datasetInfo, locateAllDatasets, verifyDataset } from './info.js';
export type { LoadOptions } from './load.js';
export { findDataset, loadDataset } from './load.js';
export type { Cifar100LabelKind } from './loaders/cifar.js';
export type { TinyImageNetOptions, TinyImageNetProgress } from './loaders/tinyimagenet.js';
export type { DataCandidate, DataSource, LocateOptions, LocateResult } from './locate.js';
export { DATA_ENV_VAR, defaultDataRoot, homeCacheRoot } from './locate.js';
export type { LabelNoiseResult, LabelNoiseSpec } from './noise.js';
export { applyLabelNoise, formatNoiseSpec, parseNoiseSpec, RANDOM_NOISE_MODES } from './noise.js';
export { channelStats } from './stats.js';
export type { ValidationSplit, ValidationSplitOptions } from './subsets.js';
export {
  classBalancedIndices,
  classBalancedSubset,
  firstN,
  selectExamples,
  validationSplit,
} from './subsets.js';
export type { Dataset, DatasetMeta, ImageSplit } from './types.js';
