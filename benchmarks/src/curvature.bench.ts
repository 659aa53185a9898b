/**
 * Curvature operator products, FisherLab beside PyTorch, and their memory over a streamed data set.
 *
 *   pnpm -C benchmarks bench:curvature [-- --reps 3 --batch 128 --memory-n 1000,10000]
 *
 * 1. Time per product over one batch of SimpleCNN (32x32x3, 10 classes, as the suite's models): H·v
 *    (double backprop), GGN·v (J v by the double-vjp trick, Hℓ in output space, one vjp), and the
 *    Monte Carlo Fisher F·v, in FisherLab (HessianOperator, GGNOperator, fisherOperator) and in
 *    PyTorch 1.13 (reference/torch_curvature_bench.py: double backward through torch.autograd.grad,
 *    the same double-vjp trick, which is what torch.autograd.functional.jvp does). Best of --reps,
 *    wall and CPU time, in fresh processes per side.
 * 2. Peak resident memory of one GGN·v and one H·v over N synthetic examples streamed in batches
 *    (an async generator making each batch from a seed, never holding the data set), for each N of
 *    --memory-n, each N in its own process (maxRSS only grows).
 * Results as a markdown table on stdout; record them in results/.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, tf } from '@fisherlab/engine';
import {
  type CurvatureBatch,
  fisherOperator,
  GGNOperator,
  HessianOperator,
  type ModelOperator,
} from '@fisherlab/fisher';
import { createModel } from '@fisherlab/models';

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const PRODUCTS = ['hvp', 'ggn', 'fisher-mc'] as const;
/** The demo's SimpleCNN (Fashion-MNIST), for the memory runs over many examples. */
const DEMO_SIMPLECNN = { arch: 'simplecnn' as const, filters: [16, 32] as [number, number], hiddenUnits: 64 };
type Product = (typeof PRODUCTS)[number];

interface ProductTiming {
  product: Product;
  wallMs: number;
  cpuMs: number;
}

/** A re-iterable stream of `n` synthetic examples in batches; each batch is made from its index. */
function syntheticStream(
  n: number,
  batch: number,
  shape: number[],
  classes: number,
): AsyncIterable<CurvatureBatch> {
  return {
    async *[Symbol.asyncIterator]() {
      for (let start = 0, index = 0; start < n; start += batch, index++) {
        const size = Math.min(batch, n - start);
        const x = tf.randomNormal([size, ...shape], 0, 1, 'float32', index + 1);
        const labels = tf.tidy(() =>
          tf.cast(tf.floor(tf.randomUniform([size], 0, classes, 'float32', index + 7)), 'int32'),
        );
        try {
          yield { x, labels };
        } finally {
          tf.dispose([x, labels]);
        }
      }
    },
  };
}

function operatorFor(
  product: Product,
  model: tf.LayersModel,
  data: AsyncIterable<CurvatureBatch>,
): ModelOperator {
  if (product === 'hvp') return new HessianOperator(model, data);
  if (product === 'ggn') return new GGNOperator(model, data);
  return fisherOperator(model, data, { type: 'mc' });
}

async function timeFisherLab(batch: number, reps: number): Promise<ProductTiming[]> {
  const model = createModel({ arch: 'simplecnn', inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
  const data = syntheticStream(batch, batch, [32, 32, 3], 10);
  const out: ProductTiming[] = [];
  for (const product of PRODUCTS) {
    const operator = operatorFor(product, model, data);
    const v = Float64Array.from({ length: operator.size }, (_, k) => Math.sin(k + 1));
    await operator.apply(v); // warm-up
    let best = { wallMs: Number.POSITIVE_INFINITY, cpuMs: Number.POSITIVE_INFINITY };
    for (let r = 0; r < reps; r++) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      await operator.apply(v);
      const wallMs = performance.now() - start;
      const used = process.cpuUsage(cpu);
      if (wallMs < best.wallMs) best = { wallMs, cpuMs: (used.user + used.system) / 1000 };
    }
    out.push({ product, ...best });
  }
  model.dispose();
  return out;
}

/** One process: one GGN·v and one H·v over `n` streamed examples; prints peak RSS as JSON. */
async function memoryChild(n: number, batch: number): Promise<void> {
  const model = createModel({ ...DEMO_SIMPLECNN, inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const data = syntheticStream(n, batch, [28, 28, 1], 10);
  const start = performance.now();
  for (const product of ['ggn', 'hvp'] as const) {
    const operator = operatorFor(product, model, data);
    await operator.apply(Float64Array.from({ length: operator.size }, (_, k) => Math.cos(k)));
  }
  console.log(
    JSON.stringify({
      n,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      liveTensorMiB: tf.memory().numBytes / 2 ** 20,
      seconds: (performance.now() - start) / 1000,
    }),
  );
}

function runChild(args: string[]): string {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    encoding: 'utf8',
    timeout: 3_600_000,
  });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1) ?? '';
}

function torchTimings(batch: number, reps: number): ProductTiming[] | string {
  const script = path.join(here, '..', 'reference', 'torch_curvature_bench.py');
  const r = spawnSync('/usr/bin/python3', [script, '--batch', String(batch), '--reps', String(reps)], {
    encoding: 'utf8',
  });
  if (r.status !== 0)
    return `PyTorch reference did not run (${r.stderr.trim().split('\n').at(-1)}); install python3-torch`;
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]') as ProductTiming[];
}

async function main(): Promise<void> {
  const batch = Number(flag('batch', '128'));
  const reps = Number(flag('reps', '3'));
  if (process.argv.includes('--memory-child')) {
    await initBackend();
    return memoryChild(Number(flag('n', '1000')), batch);
  }
  const backend = await initBackend();
  const ours = await timeFisherLab(batch, reps);
  const theirs = torchTimings(batch, reps);
  console.log(
    `## Operator products, SimpleCNN 32x32x3, batch ${batch}, best of ${reps} (FisherLab backend: ${backend.tfBackend})\n`,
  );
  console.log(
    '| product | FisherLab wall ms | FisherLab CPU ms | PyTorch wall ms | PyTorch CPU ms | FisherLab / PyTorch (wall) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const t of ours) {
    const p = typeof theirs === 'string' ? undefined : theirs.find((x) => x.product === t.product);
    const cell = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(0));
    console.log(
      `| ${t.product} | ${cell(t.wallMs)} | ${cell(t.cpuMs)} | ${cell(p?.wallMs)} | ${cell(p?.cpuMs)} | ${p ? (t.wallMs / p.wallMs).toFixed(2) : '–'} |`,
    );
  }
  if (typeof theirs === 'string') console.log(`\n${theirs}`);
  const sizes = flag('memory-n', '1000,10000').split(',').map(Number);
  console.log(
    `\n## Peak memory of one GGN·v and one H·v over N streamed examples (the demo's SimpleCNN [16, 32] / 64 on 28x28x1, batch ${batch})\n`,
  );
  console.log('| N | peak RSS MiB | live tensors after MiB | seconds |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const n of sizes) {
    const m = JSON.parse(runChild(['--memory-child', '--n', String(n), '--batch', String(batch)])) as {
      maxRssMiB: number;
      liveTensorMiB: number;
      seconds: number;
    };
    console.log(
      `| ${n} | ${m.maxRssMiB.toFixed(0)} | ${m.liveTensorMiB.toFixed(1)} | ${m.seconds.toFixed(0)} |`,
    );
  }
}

await main();
