import os from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/** tfjs's name of FisherLab's native backend. */
export const NATIVE_BACKEND_NAME = 'native';

/** Outputs at least this large are reused after disposal; smaller ones are cheap to allocate. */
const POOLED_MIN_FLOATS = 16 * 1024;

/**
 * The `native` backend: tfjs's cpu backend (tensors are ordinary Float32Arrays in JS memory, so a
 * run is limited by RAM, not by a 4 GiB wasm heap) with the addon's kernels registered over the
 * hot ones. The addon computes in place on the tensors' own arrays, so no data is copied.
 *
 * Outputs of the native kernels are recycled: a fresh ArrayBuffer costs page faults and zeroing on
 * first touch (about 6 ms per 16 MB here, several seconds per VGG-11 step at batch 128), so the
 * arrays of disposed outputs wait in a pool, by length, for the next output of that length. Reading
 * a recycled array out (dataSync, data) gives a copy, as the wasm backend does, where the cpu
 * backend gives the array itself; an array leaves the recycling for good when a cpu kernel returns
 * a view of it (a simple Slice does).
 */
export class NativeBackend extends MathBackendCPU {
  /** Arrays made by makeFloatOutput that nothing outside this backend holds. */
  private readonly recyclable = new WeakSet<Float32Array>();
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  private readonly poolCapBytes = Math.min(2 * 2 ** 30, os.totalmem() / 8);

  constructor() {
    super();
    // The cpu backend's first write prints advice to install tfjs-node; it does not apply here.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /**
   * The tensor's float32 values, in place: the addon reads and writes them there. A float32 tensor
   * cast from bool or int32 shares the original's Uint8Array / Int32Array on the cpu backend (the
   * cast copies nothing); such an input is read through a float32 copy.
   */
  floats(info: tf.TensorInfo): Float32Array {
    const values = this.data.get(info.dataId).values;
    if (values instanceof Float32Array) return values;
    if (values === undefined || typeof (values as ArrayLike<unknown>)[0] === 'object') {
      throw new Error(
        `native backend: a native kernel was given a ${info.dtype} tensor of shape [${info.shape}] without numeric values`,
      );
    }
    return Float32Array.from(values as ArrayLike<number>);
  }

  /**
   * A float32 output of `shape` for a native kernel, which must write every element: a recycled
   * array holds an earlier tensor's values.
   */
  makeFloatOutput(shape: number[]): tf.TensorInfo {
    const size = shape.reduce((a, b) => a * b, 1);
    let values = this.pool.get(size)?.pop();
    if (values) this.pooledBytes -= values.byteLength;
    else {
      values = new Float32Array(size);
      if (size >= POOLED_MIN_FLOATS) this.recyclable.add(values);
    }
    return this.makeTensorInfo(shape, 'float32', values);
  }

  /** Bytes of disposed outputs kept for reuse. */
  pooledByteCount(): number {
    return this.pooledBytes;
  }

  /** Drops a recyclable array from the recycling: something outside the backend may hold it. */
  release(values: unknown): void {
    if (values instanceof Float32Array) this.recyclable.delete(values);
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const freed = super.disposeData(dataId, force);
    if (
      freed &&
      values instanceof Float32Array &&
      this.recyclable.has(values) &&
      !this.data.has(dataId) &&
      this.pooledBytes + values.byteLength <= this.poolCapBytes
    ) {
      const list = this.pool.get(values.length) ?? [];
      list.push(values);
      this.pool.set(values.length, list);
      this.pooledBytes += values.byteLength;
    }
    return freed;
  }

  override readSync(dataId: object): ReturnType<MathBackendCPU['readSync']> {
    const values = super.readSync(dataId);
    return values instanceof Float32Array && this.recyclable.has(values) ? values.slice() : values;
  }

  override async read(dataId: object): ReturnType<MathBackendCPU['read']> {
    return this.readSync(dataId);
  }

  override dispose(): void {
    this.pool.clear();
    this.pooledBytes = 0;
    super.dispose();
  }
}

/**
 * Wraps a cpu kernel for the native backend: an output with its own data that shares an input's
 * array (a view, as a simple Slice returns) takes that array out of the recycling, or reusing it
 * would change the output.
 */
export function guardAliasing(kernelFunc: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const result = kernelFunc(args);
    const backend = args.backend;
    if (!(backend instanceof NativeBackend)) return result;
    const outputs = Array.isArray(result) ? result : [result];
    for (const input of Object.values(args.inputs)) {
      if (!input || !backend.data.has(input.dataId)) continue;
      const inValues = backend.data.get(input.dataId).values;
      if (!(inValues instanceof Float32Array)) continue;
      for (const output of outputs) {
        // The same data (Reshape, Identity): reference-counted, freed only when both are disposed.
        if (output.dataId === input.dataId) continue;
        const outValues = backend.data.has(output.dataId)
          ? backend.data.get(output.dataId).values
          : undefined;
        if (ArrayBuffer.isView(outValues) && outValues.buffer === inValues.buffer) backend.release(inValues);
      }
    }
    return result;
  };
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
      reason: `tensors are ArrayBuffers in process memory, limited by this process's cgroup memory limit (RAM ${gib(total)})`,
    };
  }
  return { bytes: total, reason: 'tensors are ArrayBuffers in process memory, limited by RAM' };
}
