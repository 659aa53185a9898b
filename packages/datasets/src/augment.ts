/**
 * The CIFAR-standard training augmentation, fused with the uint8 -> float32 conversion and the
 * per-channel normalization so each pixel is touched once:
 *   padded = zero-pad the image by `padding` pixels on every side (0 = black, in raw pixel values),
 *   crop   = the h x w window at offset (dy, dx), dx, dy uniform in 0..2*padding,
 *   out    = crop flipped left-right with probability 1/2,
 *   value  = (pixel / 255 - mean[c]) / std[c]   (or pixel / 255 without normalization),
 * i.e. torchvision's RandomCrop(size, padding) + RandomHorizontalFlip() + ToTensor() + Normalize().
 */
export interface AugmentOptions {
  /** Zero padding before the random crop (default 4; 0 disables the crop). */
  padding?: number;
  /** Random horizontal flip (default true). */
  flip?: boolean;
}

export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/** Where one augmented example is cut from: crop offsets in 0..2*padding, and the flip. */
export interface CropFlip {
  dx: number;
  dy: number;
  flip: boolean;
  padding: number;
}

/** value = lut[c * 256 + pixel]: (pixel / 255 - mean[c]) / std[c], precomputed per channel. */
export function normalizationTable(
  channels: number,
  normalization: Normalization | null | undefined,
): Float32Array {
  if (normalization) {
    const { mean, std } = normalization;
    if (mean.length !== channels || std.length !== channels) {
      throw new RangeError(
        `normalization: expected mean and std with ${channels} value(s) (one per channel), found ${mean.length} and ${std.length}`,
      );
    }
    for (const s of std) {
      if (!(s > 0)) throw new RangeError(`normalization: expected every std > 0, found ${std.join(', ')}`);
    }
  }
  const table = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    const mean = normalization ? normalization.mean[c]! : 0;
    const std = normalization ? normalization.std[c]! : 1;
    for (let v = 0; v < 256; v++) table[c * 256 + v] = (v / 255 - mean) / std;
  }
  return table;
}

/**
 * Writes one h x w x c uint8 image (at `from` in `source`) into `out` (at `to`) as float32 through
 * `table`, optionally cropped and flipped.
 */
export function writeExample(
  source: Uint8Array,
  from: number,
  height: number,
  width: number,
  channels: number,
  out: Float32Array,
  to: number,
  table: Float32Array,
  cropFlip: CropFlip | null,
): void {
  const size = height * width * channels;
  if (cropFlip === null || (cropFlip.padding === 0 && !cropFlip.flip)) {
    if (channels === 1) {
      for (let k = 0; k < size; k++) out[to + k] = table[source[from + k]!]!;
    } else {
      for (let k = 0; k < size; k += channels) {
        for (let c = 0; c < channels; c++) out[to + k + c] = table[c * 256 + source[from + k + c]!]!;
      }
    }
    return;
  }
  const { dx, dy, flip, padding } = cropFlip;
  const rowStride = width * channels;
  for (let y = 0; y < height; y++) {
    const sy = y + dy - padding;
    const outRow = to + y * rowStride;
    if (sy < 0 || sy >= height) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) out[outRow + x * channels + c] = table[c * 256]!;
      }
      continue;
    }
    const sourceRow = from + sy * rowStride;
    for (let x = 0; x < width; x++) {
      const sx = (flip ? width - 1 - x : x) + dx - padding;
      const o = outRow + x * channels;
      if (sx < 0 || sx >= width) {
        for (let c = 0; c < channels; c++) out[o + c] = table[c * 256]!;
      } else {
        const s = sourceRow + sx * channels;
        for (let c = 0; c < channels; c++) out[o + c] = table[c * 256 + source[s + c]!]!;
      }
    }
  }
}
