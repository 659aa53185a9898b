import { fileError } from '../errors.js';

/**
 * CIFAR binary records: `labelBytes` label bytes (CIFAR-10: 1, the class; CIFAR-100: 2, coarse then
 * fine), then 3072 pixel bytes as three planes R, G, B, each a row-major 32x32 image.
 */
export const CIFAR_SIDE = 32;
export const CIFAR_PIXELS = CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR_IMAGE_BYTES = 3 * CIFAR_PIXELS;

export interface CifarParseOptions {
  path: string;
  fix: string;
  /** Class count of each label byte, in record order: CIFAR-10 [10]; CIFAR-100 [20 coarse, 100 fine]. */
  labelClasses: number[];
  /** Which label byte to keep (CIFAR-100: 0 coarse, 1 fine). */
  keep: number;
}

export interface CifarRecords {
  /** count x 32 x 32 x 3, NHWC. */
  images: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** Parses a whole .bin file of records into NHWC images and labels. */
export function parseCifarRecords(bytes: Uint8Array, options: CifarParseOptions): CifarRecords {
  const { path, fix, labelClasses, keep } = options;
  const labelBytes = labelClasses.length;
  const recordSize = labelBytes + CIFAR_IMAGE_BYTES;
  if (bytes.length === 0 || bytes.length % recordSize !== 0) {
    const whole = Math.floor(bytes.length / recordSize);
    throw fileError(
      path,
      `a whole number of ${recordSize}-byte records (${labelBytes} label byte${labelBytes > 1 ? 's' : ''} + 3072 pixels)`,
      `${bytes.length} bytes = ${whole} records + ${bytes.length - whole * recordSize} bytes (truncated or not a CIFAR binary file)`,
      fix,
    );
  }
  const count = bytes.length / recordSize;
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const record = i * recordSize;
    for (let b = 0; b < labelBytes; b++) {
      const label = bytes[record + b]!;
      const classes = labelClasses[b]!;
      if (label >= classes) {
        throw fileError(path, `label byte ${b} in 0..${classes - 1}`, `${label} in record ${i}`, fix);
      }
    }
    labels[i] = bytes[record + keep]!;
    const planes = record + labelBytes;
    const out = i * CIFAR_IMAGE_BYTES;
    // Planar CHW (R plane, G plane, B plane) to interleaved HWC.
    for (let p = 0; p < CIFAR_PIXELS; p++) {
      images[out + 3 * p] = bytes[planes + p]!;
      images[out + 3 * p + 1] = bytes[planes + CIFAR_PIXELS + p]!;
      images[out + 3 * p + 2] = bytes[planes + 2 * CIFAR_PIXELS + p]!;
    }
  }
  return { images, labels, count };
}

/** Class names from a CIFAR names file (one per line, blank lines ignored). */
export function parseNamesFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}
