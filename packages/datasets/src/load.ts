import { CATALOG, type DatasetName, resolveDatasetName } from './catalog.js';
import { EMBEDDED_DATA_DIR } from './embedded.js';
import { type Cifar100LabelKind, loadCifar10, loadCifar100 } from './loaders/cifar.js';
import { loadIdxDataset } from './loaders/idx.js';
import { loadTinyImageNet, type TinyImageNetOptions } from './loaders/tinyimagenet.js';
import { type LocateOptions, type LocateResult, locateDataset, notFoundError } from './locate.js';
import type { Dataset } from './types.js';

export interface LoadOptions extends LocateOptions, TinyImageNetOptions {
  /** CIFAR-100 only: which label byte to use (default 'fine', 100 classes; 'coarse' has 20). */
  labels?: Cifar100LabelKind;
}

/** Where a dataset would be loaded from (the embedded subset is always found, inside the package). */
export function findDataset(name: string, options: LocateOptions = {}): LocateResult {
  const canonical = resolveDatasetName(name);
  if (canonical === 'fashion-mnist-embedded' && options.dir === undefined) {
    return {
      dir: EMBEDDED_DATA_DIR,
      source: 'embedded',
      searched: [{ path: EMBEDDED_DATA_DIR, source: 'embedded' }],
    };
  }
  return locateDataset(canonical, options);
}

/**
 * Loads a dataset by name ('default' = the embedded Fashion-MNIST subset): uint8 NHWC images, int32
 * labels, class names and metadata for train and test. Throws an InputError naming the file for
 * damaged data, and an Error listing every place searched when the data is not found.
 */
export async function loadDataset(name: string, options: LoadOptions = {}): Promise<Dataset> {
  const canonical: DatasetName = resolveDatasetName(name);
  const descriptor = CATALOG[canonical];
  const found = findDataset(canonical, options);
  if (found.dir === null) throw notFoundError(canonical, found);
  switch (canonical) {
    case 'fashion-mnist-embedded':
    case 'fashion-mnist':
    case 'mnist':
      return loadIdxDataset(found.dir, descriptor);
    case 'cifar10':
      return loadCifar10(found.dir, descriptor);
    case 'cifar100':
      return loadCifar100(found.dir, descriptor, options.labels ?? 'fine');
    case 'tinyimagenet':
      return loadTinyImageNet(found.dir, descriptor, options);
  }
}
