#!/usr/bin/env node
// Installs FisherLab the way a user outside this repository does, and runs the READMEs' examples:
// packs the eight library packages (pnpm pack: workspace ranges become versions), installs the
// tarballs with npm into a scratch project that has no overrides, from npm's cache where it can
// (--offline, or --prefer-offline when the cache lacks something: the registry only for that), compiles each package README's
// first TypeScript example and the root README's library example with tsc, and runs them. Fails
// when a tarball lacks its LICENSE, README, types or (engine) the addon's sources, when a packed
// manifest still says workspace:, when the app ends up with two copies of tfjs-core, when tfjs
// prints "already registered", or when an example fails. Needs `pnpm build` first.
// FISHERLAB_KEEP_SCRATCH=1 keeps the scratch folder.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['storage', 'engine', 'datasets', 'models', 'fisher', 'training', 'analysis', 'sweeps'];
const started = Date.now();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-packed-'));
const tarballs = path.join(scratch, 'tarballs');
const app = path.join(scratch, 'app');
const failures = [];
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const log = (line) => console.log(`[packed install ${elapsed()}] ${line}`);

function run(command, args, cwd, options = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...options });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) exited ${result.status}:\n${output.slice(-4000)}`,
    );
  }
  return output;
}

/** The first ```ts block after `heading` (or the first in the file), as the user would copy it. */
function example(readme, heading) {
  const text = readFileSync(readme, 'utf8');
  const from = heading ? text.indexOf(heading) : 0;
  if (from < 0) throw new Error(`${readme}: no '${heading}' section`);
  const match = /```ts\n([\s\S]*?)```/.exec(text.slice(from));
  if (!match) throw new Error(`${readme}: no \`\`\`ts example${heading ? ` under '${heading}'` : ''}`);
  return match[1];
}

try {
  // 1. Pack.
  mkdirSync(tarballs, { recursive: true });
  const files = {};
  for (const name of PACKAGES) {
    const dir = path.join(repo, 'packages', name);
    if (!existsSync(path.join(dir, 'dist', 'index.js')))
      throw new Error(`packages/${name}/dist is missing: run pnpm build first`);
    run('pnpm', ['pack', '--pack-destination', tarballs], dir);
    const tarball = readdirSync(tarballs).find((f) => f.startsWith(`fisherlab-${name}-`));
    files[name] = tarball;
    const listing = run('tar', ['tzf', path.join(tarballs, tarball)], scratch).split('\n');
    const manifest = run('tar', ['xzf', path.join(tarballs, tarball), '-O', 'package/package.json'], scratch);
    const need = ['package/LICENSE', 'package/README.md', 'package/dist/index.js', 'package/dist/index.d.ts'];
    if (name === 'engine') need.push('package/native/build.mjs', 'package/native/src/fisherlab_native.cc');
    for (const file of need) if (!listing.includes(file)) failures.push(`${tarball}: ${file} is missing`);
    if (manifest.includes('workspace:'))
      failures.push(`${tarball}: package.json still has a workspace: range`);
    if (/"source"/.test(manifest))
      failures.push(`${tarball}: exports still name the source condition (src/ is not packed)`);
    if (listing.some((f) => /\.test\.|\/fixtures\//.test(f)))
      failures.push(`${tarball}: contains tests or fixtures`);
  }
  log(`packed ${Object.values(files).join(', ')}`);

  // 2. Install into an app that knows nothing of the monorepo: no overrides, no workspace.
  mkdirSync(path.join(app, 'src'), { recursive: true });
  const dependencies = Object.fromEntries(
    PACKAGES.map((name) => [`@fisherlab/${name}`, `file:../tarballs/${files[name]}`]),
  );
  Object.assign(dependencies, { '@tensorflow/tfjs': '^4.22.0', '@tensorflow/tfjs-backend-wasm': '^4.22.0' });
  writeFileSync(
    path.join(app, 'package.json'),
    `${JSON.stringify({ name: 'fisherlab-outside-app', private: true, type: 'module', dependencies }, null, 2)}\n`,
  );
  const npmInstall = (mode) =>
    run('npm', ['install', mode, '--no-audit', '--no-fund', '--foreground-scripts', '--loglevel=error'], app);
  let install;
  try {
    install = npmInstall('--offline');
    log("npm install --offline: everything came from npm's cache");
  } catch {
    log("npm's cache lacks some packages: npm install --prefer-offline (the registry for the rest)");
    rmSync(path.join(app, 'node_modules'), { recursive: true, force: true });
    install = npmInstall('--prefer-offline');
  }
  const nativeLine = install.split('\n').find((l) => l.startsWith('fisherlab native tier'));
  log(`npm install done; engine install script: ${nativeLine ?? '(printed nothing)'}`);
  if (!nativeLine) failures.push('the engine install script printed no line saying which tier runs');
  const canBuildNative =
    spawnSync('g++', ['--version']).status === 0 && existsSync('/usr/include/oneapi/dnnl/dnnl.hpp');
  if (canBuildNative && !nativeLine?.startsWith('fisherlab native tier built')) {
    failures.push(`g++ and oneDNN are here but the native tier was not built at install: ${nativeLine}`);
  }
  const cores = run('npm', ['ls', '@tensorflow/tfjs-core', '--all', '--parseable'], app)
    .split('\n')
    .filter((l) => l.endsWith(path.join('@tensorflow', 'tfjs-core')));
  log(`@tensorflow/tfjs-core copies in the app: ${cores.length}`);
  if (cores.length !== 1)
    failures.push(
      `expected one @tensorflow/tfjs-core in the app, found ${cores.length}: ${cores.join(', ')}`,
    );

  // 3. The examples, compiled with tsc (strict) against the installed packages' own types.
  const examples = {
    ...Object.fromEntries(
      PACKAGES.map((name) => [name, example(path.join(repo, 'packages', name, 'README.md'))]),
    ),
    'root-readme': example(path.join(repo, 'README.md'), '## Use as a library'),
  };
  for (const [name, code] of Object.entries(examples))
    writeFileSync(path.join(app, 'src', `${name}.ts`), code);
  writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022', 'DOM'],
        strict: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [path.join(repo, 'node_modules', '@types')],
        outDir: 'dist',
        rootDir: 'src',
      },
      include: ['src'],
    }),
  );
  run(
    process.execPath,
    [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
    app,
  );
  log(`compiled ${Object.keys(examples).length} examples with tsc`);

  // The analysis example reads run directories: make one the way users do, with `fisherlab train`.
  run(
    process.execPath,
    [
      path.join(repo, 'apps', 'cli', 'dist', 'bin.js'),
      'train',
      ...[
        '--train-subset',
        '100',
        '--test-subset',
        '50',
        '--arch',
        'mlp',
        '--model-options',
        '{"hiddenUnits":[16]}',
      ],
      ...[
        '--batch-size',
        '50',
        '--lr',
        '0.1',
        '--epochs',
        '1',
        '--output',
        path.join(app, 'fisherlab-runs', 'lr-0.1'),
      ],
    ],
    repo,
  );

  const outputs = {};
  for (const name of Object.keys(examples)) {
    const result = spawnSync(process.execPath, [path.join('dist', `${name}.js`)], {
      cwd: app,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    outputs[name] = output;
    const printed = output
      .split('\n')
      .filter((l) => l.trim() && !/TensorFlow\.js in Node|tfjs-node|={5,}|^Hi,|speed things up/.test(l))
      .join(' | ');
    log(`example ${name}: exit ${result.status}${printed ? `: ${printed.slice(0, 300)}` : ''}`);
    if (result.status !== 0)
      failures.push(`example ${name} failed (exit ${result.status}):\n${output.slice(-3000)}`);
    if (/already registered/.test(output))
      failures.push(`example ${name}: tfjs printed "already registered" (two copies of tfjs?)`);
  }
  if (canBuildNative && !/native kernels on/.test(outputs.engine ?? '')) {
    failures.push(
      'the engine example does not report the native kernels on, although they were built at install',
    );
  }
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
} finally {
  if (process.env.FISHERLAB_KEEP_SCRATCH === '1') log(`kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`packed install FAILED (${elapsed()}):\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
log('passed: the packed packages install outside the monorepo without overrides and their examples run');
