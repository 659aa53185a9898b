import { fileError } from '../errors.js';

/**
 * IDX, the (Fashion-)MNIST format: big-endian. Images: magic 0x00000803, count, rows, cols, then
 * count*rows*cols uint8 pixels. Labels: magic 0x00000801, count, then count uint8 labels.
 */
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

function header(bytes: Uint8Array, path: string, fix: string, words: number, magic: number): number[] {
  const need = 4 * words;
  if (bytes.length < need) {
    throw fileError(path, `an IDX header of ${need} bytes`, `a file of ${bytes.length} bytes`, fix);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: number[] = [];
  for (let i = 0; i < words; i++) values.push(view.getUint32(4 * i, false));
  if (values[0] !== magic) {
    const what = magic === IDX_IMAGES_MAGIC ? 'IDX images' : 'IDX labels';
    throw fileError(path, `${what} magic number ${hex(magic)}`, `${hex(values[0]!)}`, fix);
  }
  return values;
}

export interface IdxImages {
  images: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

/** Parses an (already gunzipped) IDX images file. The pixels are a view into `bytes`. */
export function parseIdxImages(bytes: Uint8Array, path: string, fix: string): IdxImages {
  const [, count, rows, cols] = header(bytes, path, fix, 4, IDX_IMAGES_MAGIC) as [
    number,
    number,
    number,
    number,
  ];
  const expected = 16 + count * rows * cols;
  if (bytes.length !== expected) {
    throw fileError(
      path,
      `${expected} bytes (16-byte header + ${count} images of ${rows}x${cols})`,
      `${bytes.length} bytes (${bytes.length < expected ? 'truncated' : 'trailing data'})`,
      fix,
    );
  }
  // A plain Uint8Array view (not a Node Buffer, even when `bytes` is one), so callers see one type.
  const images = new Uint8Array(bytes.buffer, bytes.byteOffset + 16, count * rows * cols);
  return { images, count, rows, cols };
}

/** Parses an (already gunzipped) IDX labels file; each label must be < numClasses. */
export function parseIdxLabels(bytes: Uint8Array, path: string, fix: string, numClasses: number): Int32Array {
  const [, count] = header(bytes, path, fix, 2, IDX_LABELS_MAGIC) as [number, number];
  const expected = 8 + count;
  if (bytes.length !== expected) {
    throw fileError(
      path,
      `${expected} bytes (8-byte header + ${count} labels)`,
      `${bytes.length} bytes (${bytes.length < expected ? 'truncated' : 'trailing data'})`,
      fix,
    );
  }
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = bytes[8 + i]!;
    if (label >= numClasses) {
      throw fileError(path, `labels in 0..${numClasses - 1}`, `label ${label} at index ${i}`, fix);
    }
    labels[i] = label;
  }
  return labels;
}

/** Serializes images (count x rows x cols uint8) as an IDX images file. */
export function encodeIdxImages(images: Uint8Array, count: number, rows: number, cols: number): Uint8Array {
  if (images.length !== count * rows * cols) {
    throw new RangeError(`encodeIdxImages: ${images.length} bytes is not ${count}x${rows}x${cols}`);
  }
  const out = new Uint8Array(16 + images.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IDX_IMAGES_MAGIC, false);
  view.setUint32(4, count, false);
  view.setUint32(8, rows, false);
  view.setUint32(12, cols, false);
  out.set(images, 16);
  return out;
}

/** Serializes labels (each 0..255) as an IDX labels file. */
export function encodeIdxLabels(labels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IDX_LABELS_MAGIC, false);
  view.setUint32(4, labels.length, false);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label > 255) {
      throw new RangeError(`encodeIdxLabels: label ${label} at ${i} does not fit a byte`);
    }
    out[8 + i] = label;
  }
  return out;
}
