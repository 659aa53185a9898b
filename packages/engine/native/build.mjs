// Builds FisherLab's native CPU tier (build/fisherlab_native.node) with g++ against Node's own
// headers and oneDNN (Debian's libdnnl-dev). Never fails the package build: when the compiler or
// oneDNN is missing it prints one line saying what and how to install it, and exits 0 (the engine
// then runs on wasm alone).
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
    `fisherlab native tier not built: ${what}; the engine runs on wasm alone (install with: apt-get install -y g++ libdnnl-dev, then rebuild)`,
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
if (!existsSync('/usr/include/oneapi/dnnl/dnnl.hpp'))
  skip('oneDNN headers (/usr/include/oneapi/dnnl/dnnl.hpp) not found');

mkdirSync(outDir, { recursive: true });
const args = [
  '-O3',
  '-std=c++17',
  '-shared',
  '-fPIC',
  '-fopenmp',
  '-DNODE_GYP_MODULE_NAME=fisherlab_native',
  `-I${nodeHeaders}`,
  source,
  '-o',
  output,
  '-ldnnl',
];
const started = Date.now();
const result = spawnSync(compiler, args, { encoding: 'utf8' });
if (result.status !== 0) {
  rmSync(output, { force: true });
  if (/cannot find -ldnnl/.test(result.stderr ?? '')) skip('libdnnl.so not found by the linker');
  const firstError = (result.stderr || '').split('\n').find((line) => /error/i.test(line)) ?? result.stderr;
  skip(`the compile failed (${firstError.trim()})`);
}
// Load it once, so a build that links but cannot load (a missing runtime library) is reported here.
try {
  const library = execFileSync(
    process.execPath,
    ['-e', `console.log(require(${JSON.stringify(output)}).library())`],
    { encoding: 'utf8' },
  ).trim();
  console.log(
    `fisherlab native tier built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${output} (${library})`,
  );
} catch (error) {
  rmSync(output, { force: true });
  skip(`the addon built but does not load (${String(error).split('\n')[0]})`);
}
