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
    } else if (channels === 3) {
      for (let k = 0; k < size; k += 3) {
        out[to + k] = table[source[from + k]!]!;
        out[to + k + 1] = table[256 + source[from + k + 1]!]!;
        out[to + k + 2] = table[512 + source[from + k + 2]!]!;
      }
    } else {
      for (let k = 0; k < size; k += channels) {
        for (let c = 0; c < channels; c++) out[to + k + c] = table[c * 256 + source[from + k + c]!]!;
      }
    }
    return;
  }
  const { dx, dy, flip, padding } = cropFlip;
  const rowStride = width * channels;
  const shift = dx - padding;
  // Output columns whose source column lies inside the image; the rest are padding.
  const xStart = Math.max(0, flip ? shift : -shift);
  const xEnd = Math.min(width, flip ? width + shift : width - shift);
  for (let y = 0; y < height; y++) {
    const sy = y + dy - padding;
    const outRow = to + y * rowStride;
    if (sy < 0 || sy >= height || xStart >= xEnd) {
      fillPadding(out, outRow, width, channels, table);
      continue;
    }
    fillPadding(out, outRow, xStart, channels, table);
    fillPadding(out, outRow + xEnd * channels, width - xEnd, channels, table);
    const sourceRow = from + sy * rowStride;
    // Source column of output column x: x + shift, or (width - 1 - x) + shift when flipped.
    const step = flip ? -channels : channels;
    let s = sourceRow + (flip ? width - 1 - xStart + shift : xStart + shift) * channels;
    let o = outRow + xStart * channels;
    if (channels === 3) {
      for (let x = xStart; x < xEnd; x++, s += step, o += 3) {
        out[o] = table[source[s]!]!;
        out[o + 1] = table[256 + source[s + 1]!]!;
        out[o + 2] = table[512 + source[s + 2]!]!;
      }
    } else if (channels === 1) {
      for (let x = xStart; x < xEnd; x++, s += step, o++) out[o] = table[source[s]!]!;
    } else {
      for (let x = xStart; x < xEnd; x++, s += step, o += channels) {
        for (let c = 0; c < channels; c++) out[o + c] = table[c * 256 + source[s + c]!]!;
      }
    }
  }
}

/** Writes `pixels` padding pixels (raw value 0, through the table) starting at `at`. */
function fillPadding(
  out: Float32Array,
  at: number,
  pixels: number,
  channels: number,
  table: Float32Array,
): void {
  for (let x = 0; x < pixels; x++) {
    for (let c = 0; c < channels; c++) out[at + x * channels + c] = table[c * 256]!;
  }
}
