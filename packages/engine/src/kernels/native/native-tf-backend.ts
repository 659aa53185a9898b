import os from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/** tfjs's name of FisherLab's native backend. */
export const NATIVE_BACKEND_NAME = 'native';

/**
 * The `native` backend: tfjs's cpu backend (tensors are ordinary Float32Arrays in JS memory, so a
 * run is limited by RAM, not by a 4 GiB wasm heap) with the addon's kernels registered over the
 * hot ones. The addon computes in place on the tensors' own arrays, so no data is copied.
 */
export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // The cpu backend's first write prints advice to install tfjs-node; it does not apply here.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** The tensor's own float32 array: the addon reads and writes it in place. */
  floats(info: tf.TensorInfo): Float32Array {
    const data = this.data.get(info.dataId);
    const values = data.values;
    if (values instanceof Float32Array) return values;
    if (values === undefined || data.dtype !== 'float32') {
      throw new Error(
        `native backend: a native kernel was given a ${data.dtype} tensor of shape [${info.shape}] without float32 values`,
      );
    }
    // A float32 tensor written from another array type (tf.tensor keeps what it is given when the
    // dtype already matches its class): store it as a Float32Array once, so later calls share it.
    const converted = Float32Array.from(values as ArrayLike<number>);
    data.values = converted;
    return converted;
  }

  /** A zero-filled float32 output of `shape` for a native kernel to fill. */
  makeFloatOutput(shape: number[]): tf.TensorInfo {
    const size = shape.reduce((a, b) => a * b, 1);
    return this.makeTensorInfo(shape, 'float32', new Float32Array(size));
  }
}

/** The most memory a run can use and what sets that limit, as `fisherlab doctor` prints it. */
export interface MemoryCeiling {
  /** null where the backend cannot tell (a GPU's memory under libtensorflow). */
  bytes: number | null;
  reason: string;
}

const GiB = 2 ** 30;
const gib = (bytes: number): string => `${(bytes / GiB).toFixed(1)} GiB`;

/**
 * The native backend's ceiling: its tensors are ArrayBuffers outside V8's heap, so the machine's
 * memory bounds them (or the cgroup limit the process runs under, when lower).
 */
export function nativeMemoryCeiling(): MemoryCeiling {
  const total = os.totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  if (constrained > 0 && constrained < total) {
    return {
      bytes: constrained,
      reason: `tensors are ArrayBuffers in process memory, limited by this process's cgroup memory limit (${gib(constrained)}; RAM ${gib(total)})`,
    };
  }
  return {
    bytes: total,
    reason: `tensors are ArrayBuffers in process memory, limited by RAM (${gib(total)})`,
  };
}
