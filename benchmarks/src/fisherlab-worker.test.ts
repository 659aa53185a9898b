import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { PrepareReply, TimeReply } from './tasks.js';
import { WorkerClient } from './worker-client.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('the FisherLab worker, driven over its line protocol (cpu backend, tiny inputs)', () => {
  const worker = new WorkerClient(
    'fisherlab cpu',
    process.execPath,
    ['--import', 'tsx', '--conditions=source', join(here, 'fisherlab-worker.ts')],
    { ...process.env, FISHERLAB_BACKEND: 'cpu' },
  );
  afterAll(() => worker.close());

  it('says which backend it runs', async () => {
    expect(await worker.request('hello')).toMatchObject({ name: 'fisherlab', backend: 'cpu' });
  });

  it("refuses 'time' before 'prepare' with an error naming the order", async () => {
    await expect(worker.request('time')).rejects.toThrow(/'time' before 'prepare'/);
  });

  it('builds SimpleCNN with the parameter count worked out by hand, times it, and frees every tensor', async () => {
    const request = { task: 'trace-mc', model: 'simplecnn', classes: 10, batch: 4, n: 8, side: 8 };
    const before = await worker.request<{ numTensors: number }>('release');
    const prepared = await worker.request<PrepareReply>('prepare', request);
    // conv1 3·9·32+32, conv2 32·9·64+64, fc1 (2·2·64)·128+128, fc2 128·10+10
    expect(prepared.params).toBe(896 + 18_496 + 32_896 + 1_290);
    const timed = await worker.request<TimeReply>('time');
    expect(timed.wallMs).toBeGreaterThan(0);
    const [trace, standardError] = timed.value as [number, number];
    expect(trace).toBeGreaterThan(0);
    expect(standardError).toBeGreaterThan(0);
    const after = await worker.request<{ numTensors: number }>('release');
    expect(after.numTensors).toBe(before.numTensors);
  });

  it('kills a worker whose request outlasts its timeout and says so', async () => {
    const slow = new WorkerClient(
      'fisherlab cpu',
      process.execPath,
      ['--import', 'tsx', '--conditions=source', join(here, 'fisherlab-worker.ts')],
      { ...process.env, FISHERLAB_BACKEND: 'cpu' },
    );
    await expect(slow.request('hello', {}, 1)).rejects.toThrow(/took longer than 0.001 s/);
    expect(slow.hasExited()).toBe(true);
  });
});
