// Builds FisherLab's native CPU tier (build/fisherlab_native.node) with g++ against Node's own
// headers and OpenBLAS. Never fails the package build: when the compiler or OpenBLAS is missing it
// prints one line saying what and how to install it, and exits 0 (the engine then runs on wasm).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.join(here, 'src', 'fisherlab_native.cc');
const outDir = path.join(here, 'build');
const output = path.join(outDir, 'fisherlab_native.node');
const nodeHeaders = path.join(path.dirname(process.execPath), '..', 'include', 'node');
const skip = (what) => {
  console.log(
    `fisherlab native tier not built: ${what}; the engine runs on wasm alone (install with: apt-get install -y g++ libopenblas-dev, then rebuild)`,
  );
  process.exit(0);
};

if (process.env.FISHERLAB_NATIVE === 'off') {
  console.log('fisherlab native tier not built: FISHERLAB_NATIVE=off');
  process.exit(0);
}
const compiler = process.env.CXX || 'g++';
if (spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status !== 0)
  skip(`no C++ compiler (${compiler})`);
if (!existsSync(path.join(nodeHeaders, 'node_api.h'))) skip(`Node's headers are not at ${nodeHeaders}`);
const blasInclude = [
  '/usr/include/x86_64-linux-gnu',
  '/usr/include/aarch64-linux-gnu',
  '/usr/include/openblas',
  '/usr/include',
].find((dir) => existsSync(path.join(dir, 'cblas.h')) && existsSync(path.join(dir, 'openblas_config.h')));
if (!blasInclude) skip('OpenBLAS headers (cblas.h) not found');

mkdirSync(outDir, { recursive: true });
const args = [
  '-O3',
  '-std=c++17',
  '-shared',
  '-fPIC',
  '-fopenmp',
  '-DNODE_GYP_MODULE_NAME=fisherlab_native',
  `-I${nodeHeaders}`,
  `-I${blasInclude}`,
  source,
  '-o',
  output,
  '-lopenblas',
];
const started = Date.now();
const result = spawnSync(compiler, args, { encoding: 'utf8' });
if (result.status !== 0) {
  rmSync(output, { force: true });
  const firstError = (result.stderr || '').split('\n').find((line) => /error/i.test(line)) ?? result.stderr;
  if (/cannot find -lopenblas/.test(result.stderr ?? '')) skip('libopenblas.so not found by the linker');
  skip(`the compile failed (${firstError.trim()})`);
}
// Load it once, so a build that links but cannot load (missing runtime library) is reported here.
try {
  const library = execFileSync(
    process.execPath,
    ['-e', `console.log(require(${JSON.stringify(output)}).library())`],
    {
      encoding: 'utf8',
    },
  ).trim();
  console.log(
    `fisherlab native tier built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${output} (${library})`,
  );
} catch (error) {
  rmSync(output, { force: true });
  skip(`the addon built but does not load (${String(error).split('\n')[0]})`);
}
