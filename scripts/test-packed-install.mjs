#!/usr/bin/env node
// Installs FisherLab the way a user outside this repository does, and runs the READMEs' examples
// exactly as printed: packs the library packages (pnpm pack: workspace ranges become versions),
// makes a scratch project with `npm init -y` (CommonJS, no overrides) and installs the tarballs and
// tsx into it with npm, from npm's cache where it can (--offline, or --prefer-offline when the
// cache lacks something: the registry only for that). Every ```ts block of README.md and of each
// package's README is written to its own .mts file, type-checked with tsc --strict WITHOUT
// skipLibCheck (an error in an example or in a FisherLab declaration fails; other libraries' own
// declarations are reported, not failed), and run with `npx tsx`, as the READMEs say. Fails when
// a tarball lacks its LICENSE, README, types or (engine) the addon's sources, when a packed
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
const PACKAGES = [
  'core',
  'storage',
  'engine',
  'datasets',
  'models',
  'fisher',
  'training',
  'analysis',
  'sweeps',
];
const TSX_VERSION = '4.23.15'; // the workspace's tsx
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

/** Every ```ts block of a README, as the user would copy it. */
function examples(readme) {
  return [...readFileSync(readme, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
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
    if (name === 'engine')
      need.push(
        'package/native/build.mjs',
        'package/native/src/fisherlab_native.h',
        'package/native/src/napi.cc',
      );
    for (const file of need) if (!listing.includes(file)) failures.push(`${tarball}: ${file} is missing`);
    if (manifest.includes('workspace:'))
      failures.push(`${tarball}: package.json still has a workspace: range`);
    if (/"source"/.test(manifest))
      failures.push(`${tarball}: exports still name the source condition (src/ is not packed)`);
    if (listing.some((f) => /\.test\.|\/fixtures\//.test(f)))
      failures.push(`${tarball}: contains tests or fixtures`);
  }
  log(`packed ${Object.values(files).join(', ')}`);

  // 2. Install into an app that knows nothing of the monorepo: `npm init -y`, no overrides, no workspace.
  mkdirSync(app, { recursive: true });
  run('npm', ['init', '-y'], app);
  const specs = [
    ...PACKAGES.map((name) => path.join(tarballs, files[name])),
    '@tensorflow/tfjs@^4.22.0',
    '@tensorflow/tfjs-backend-wasm@^4.22.0',
    `tsx@${TSX_VERSION}`,
  ];
  const npmInstall = (mode) =>
    run(
      'npm',
      ['install', ...specs, mode, '--no-audit', '--no-fund', '--foreground-scripts', '--loglevel=error'],
      app,
    );
  let install;
  try {
    install = npmInstall('--offline');
    log("npm install --offline: everything came from npm's cache");
  } catch {
    log("npm's cache lacks some packages: npm install --prefer-offline (the registry for the rest)");
    rmSync(path.join(app, 'node_modules'), { recursive: true, force: true });
    install = npmInstall('--prefer-offline');
  }
  const appType = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')).type ?? 'commonjs';
  if (appType !== 'commonjs') failures.push(`npm init -y made a '${appType}' project, expected commonjs`);
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

  // FisherLab's declarations name only what a user's project can resolve: no deep paths into tfjs.
  for (const name of PACKAGES) {
    const dist = path.join(app, 'node_modules', '@fisherlab', name, 'dist');
    for (const file of readdirSync(dist, { recursive: true }).filter((f) => String(f).endsWith('.d.ts'))) {
      const deep = /["']@tensorflow\/[a-z-]+\/dist\/[^"']*["']/.exec(
        readFileSync(path.join(dist, String(file)), 'utf8'),
      );
      if (deep) failures.push(`@fisherlab/${name}/dist/${file} imports a deep path: ${deep[0]}`);
    }
  }

  // 3. Every README example, type-checked with tsc --strict and no skipLibCheck.
  const readmes = [
    ['root-readme', path.join(repo, 'README.md')],
    ...PACKAGES.map((name) => [name, path.join(repo, 'packages', name, 'README.md')]),
  ];
  const exampleFiles = [];
  for (const [name, readme] of readmes) {
    const blocks = examples(readme);
    if (blocks.length === 0) failures.push(`${path.relative(repo, readme)}: no \`\`\`ts example`);
    blocks.forEach((code, i) => {
      const file = `${name}${blocks.length > 1 ? `-${i + 1}` : ''}.mts`;
      writeFileSync(path.join(app, file), code);
      exampleFiles.push(file);
    });
  }
  writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022', 'DOM'],
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
        typeRoots: [path.join(repo, 'node_modules', '@types')],
      },
      files: exampleFiles,
    }),
  );
  const tsc = spawnSync(
    process.execPath,
    [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
    { cwd: app, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  );
  const tscErrors = `${tsc.stdout}${tsc.stderr}`.split('\n').filter((l) => /error TS\d+/.test(l));
  const ours = tscErrors.filter(
    (l) => !l.startsWith('node_modules/') || l.startsWith('node_modules/@fisherlab/'),
  );
  log(
    `tsc --strict (no skipLibCheck) on ${exampleFiles.length} examples: ${ours.length} errors in the examples ` +
      `or FisherLab's declarations, ${tscErrors.length - ours.length} in other libraries' declarations`,
  );
  if (ours.length > 0) failures.push(`tsc --strict on the README examples:\n${ours.join('\n')}`);

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

  // 4. Run each example the way the READMEs say: npx tsx <file>.mts.
  const outputs = {};
  for (const file of exampleFiles) {
    const result = spawnSync('npx', ['--no-install', 'tsx', file], {
      cwd: app,
      encoding: 'utf8',
      timeout: 180_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    outputs[file] = output;
    const printed = output
      .split('\n')
      .filter((l) => l.trim() && !/TensorFlow\.js in Node|tfjs-node|={5,}|^Hi,|speed things up/.test(l))
      .join(' | ');
    log(`example ${file}: exit ${result.status}${printed ? `: ${printed.slice(0, 300)}` : ''}`);
    if (result.status !== 0)
      failures.push(`example ${file} failed (exit ${result.status}):\n${output.slice(-3000)}`);
    if (/already registered/.test(output))
      failures.push(`example ${file}: tfjs printed "already registered" (two copies of tfjs?)`);
  }
  if (canBuildNative && !/native kernels on/.test(outputs['engine.mts'] ?? '')) {
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
