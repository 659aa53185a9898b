// Builds FisherLab's native CPU tier (build/fisherlab_native.node) with g++ against Node's own
// headers and oneDNN (Debian's libdnnl-dev). Runs from `pnpm build` in the repository and, with
// --install, as the published package's install script. Never fails either: when the compiler or
// oneDNN is missing, or anything else goes wrong, it prints one line saying what (and how to fix
// it) and exits 0; the engine then runs on wasm alone.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.on('uncaughtException', (error) => {
  console.log(
    `fisherlab native tier not built: ${String(error).split('\n')[0]}; the engine runs on wasm alone`,
  );
  process.exit(0);
});

const here = path.dirname(fileURLToPath(import.meta.url));
// One file per kernel family, declared in src/fisherlab_native.h.
const sources = readdirSync(path.join(here, 'src'))
  .filter((name) => name.endsWith('.cc'))
  .sort()
  .map((name) => path.join(here, 'src', name));
const outDir = path.join(here, 'build');
const output = path.join(outDir, 'fisherlab_native.node');
const nodeHeaders = path.join(path.dirname(process.execPath), '..', 'include', 'node');
const skip = (what) => {
  console.log(
    `fisherlab native tier not built: ${what}; the engine runs on wasm alone (install with: apt-get install -y g++ libdnnl-dev, then rebuild: pnpm build in the FisherLab repository, npm rebuild @fisherlab/engine in an app)`,
  );
  process.exit(0);
};

// In a source checkout (src/ next to native/) `pnpm build` compiles the addon; the install hook is
// for the published package, which ships native/src but not src/.
if (process.argv.includes('--install') && existsSync(path.join(here, '..', 'src'))) process.exit(0);
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
  ...sources,
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
