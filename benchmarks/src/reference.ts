import { basename, dirname } from 'node:path';

/**
 * What the PyTorch worker reports about what it computes with (its hello's `reference`, collected by
 * benchmarks/reference/blas_probe.py and torch_bench.py): the /proc/self/maps lines of the BLAS,
 * LAPACK and oneDNN libraries it loaded, update-alternatives' libblas.so.3 targets, its build
 * configuration (torch.__config__.show()) and its 1024³ float32 matmul rate.
 */
export interface ReferenceFacts {
  mapsLines: string[];
  blasAlternatives: Record<string, string>;
  ldLibraryPath: string;
  config: string;
  parallelInfo: string;
  mkldnnAvailable: boolean;
  matmulGflops1024: number;
}

export type BlasKind = 'openblas' | 'mkl' | 'blis' | 'atlas' | 'reference' | 'unidentified';

const BLAS_NAMES: Record<BlasKind, string> = {
  openblas: 'OpenBLAS',
  mkl: 'Intel MKL',
  blis: 'BLIS',
  atlas: 'ATLAS',
  reference: 'the reference BLAS (netlib, unoptimized)',
  unidentified: 'an unidentified BLAS',
};

/**
 * A 1024³ float32 matmul below this rate means no optimized BLAS is at work: the reference BLAS
 * measured 3.5-6.1 GFLOP/s on this project's 2-core machines, OpenBLAS 59-200 on the same cores
 * (busy to idle).
 */
export const SLOW_MATMUL_GFLOPS = 10;

/** The build settings of torch.__config__.show() that decide its CPU speed. */
export interface TorchBuild {
  /** BLAS_INFO: 'generic' (Debian: whatever provides libblas.so.3), 'mkl', 'open', ... */
  blasInfo?: string;
  lapackInfo?: string;
  useMkldnn?: boolean;
  /** The oneDNN (MKL-DNN) version it was built with, e.g. 'v2.6.3'. */
  mkldnnVersion?: string;
  /** The widest SIMD its own kernels use, e.g. 'AVX2'. */
  cpuCapability?: string;
}

export function parseTorchConfig(show: string): TorchBuild {
  const setting = (key: string) => new RegExp(`\\b${key}=([^,\\s]+)`).exec(show)?.[1];
  const build: TorchBuild = {};
  const blasInfo = setting('BLAS_INFO');
  if (blasInfo) build.blasInfo = blasInfo;
  const lapackInfo = setting('LAPACK_INFO');
  if (lapackInfo) build.lapackInfo = lapackInfo;
  const useMkldnn = setting('USE_MKLDNN');
  if (useMkldnn) build.useMkldnn = useMkldnn === 'ON';
  const mkldnn = /(?:MKL-DNN|oneDNN) (v\d+(?:\.\d+)*)/.exec(show)?.[1];
  if (mkldnn) build.mkldnnVersion = mkldnn;
  const capability = /CPU capability usage: (\S+)/.exec(show)?.[1];
  if (capability) build.cpuCapability = capability;
  return build;
}

/** The files mapped by /proc/<pid>/maps lines, each once, in order of first appearance. */
export function mappedFiles(mapsLines: string[]): string[] {
  const files: string[] = [];
  for (const line of mapsLines) {
    // address perms offset dev inode pathname (the pathname may hold spaces)
    const path = /^\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\/.*)$/
      .exec(line.trim())?.[1]
      ?.replace(/ \(deleted\)$/, '');
    if (path && !files.includes(path)) files.push(path);
  }
  return files;
}

/** Which implementation a BLAS library file is, from its path. */
export function blasKindOf(path: string): BlasKind {
  const lower = path.toLowerCase();
  if (lower.includes('openblas')) return 'openblas';
  if (lower.includes('mkl')) return 'mkl';
  if (lower.includes('blis')) return 'blis';
  if (lower.includes('atlas')) return 'atlas';
  // Debian and Ubuntu install netlib's reference BLAS (package libblas3) as <libdir>/blas/libblas.so.3.
  if (/\/blas\/libblas\.so/.test(lower) || lower.includes('netlib') || lower.includes('refblas'))
    return 'reference';
  return 'unidentified';
}

/** The generic names a BLAS answers to when torch is built with BLAS_INFO=generic (Debian's). */
const isGenericBlas = (path: string) => /^libc?blas\.so/.test(basename(path));
const isVendorBlas = (path: string) => /^lib(?:openblas|blis|mkl_rt|[st]?atlas)/.test(basename(path));

export interface IdentifiedBlas {
  kind: BlasKind;
  /** The library file that does the work, when one is loaded; absent when linked into torch itself. */
  library?: string;
  /** How it was found. */
  source: 'process map' | 'torch build (BLAS_INFO)' | 'nowhere';
}

/** BLAS_INFO values of torch builds that call a named BLAS rather than whatever libblas.so.3 is. */
const BUILT_FOR: Record<string, BlasKind> = {
  mkl: 'mkl',
  open: 'openblas',
  openblas: 'openblas',
  blis: 'blis',
};

/**
 * The BLAS torch really computes with. A torch built for a named BLAS (BLAS_INFO=mkl in pip wheels,
 * linked into torch itself) uses that one. A generic build (Debian's) calls sgemm_ through
 * libblas.so.3, so the file loaded under that name decides: a libopenblas loaded beside the
 * reference libblas.so.3 (OpenBLAS's liblapack.so.3 brings it) does not make torch's matmuls fast.
 * Should two libblas files be loaded, a reference one among them decides (the one loaded first
 * wins, which the map does not tell). With no libblas loaded, a vendor library decides.
 */
export function identifyBlas(mapsLines: string[], build: TorchBuild): IdentifiedBlas {
  const files = mappedFiles(mapsLines);
  const builtFor = build.blasInfo ? BUILT_FOR[build.blasInfo.toLowerCase()] : undefined;
  if (builtFor) {
    const library = files.find((f) => isVendorBlas(f) && blasKindOf(f) === builtFor);
    return library
      ? { kind: builtFor, library, source: 'process map' }
      : { kind: builtFor, source: 'torch build (BLAS_INFO)' };
  }
  const generic = files.filter(isGenericBlas);
  const library =
    generic.find((f) => blasKindOf(f) === 'reference') ?? generic[0] ?? files.find(isVendorBlas);
  return library
    ? { kind: blasKindOf(library), library, source: 'process map' }
    : { kind: 'unidentified', source: 'nowhere' };
}

/** The PyTorch reference's configuration as the results files record it. */
export interface ReferenceConfiguration {
  torch: string;
  threads: number;
  blas: IdentifiedBlas & { name: string };
  /** update-alternatives' libblas.so.3 target(s), by link name. */
  blasAlternatives: Record<string, string>;
  ldLibraryPath: string;
  /** oneDNN (MKL-DNN): the version torch was built with and the library it loaded. */
  onednn: { available: boolean; version?: string; library?: string };
  build: TorchBuild;
  matmulGflops1024: number;
  /** Why the reference is too slow to compare against; absent when it is not. */
  slow?: string;
}

export function referenceConfiguration(hello: Record<string, unknown>): ReferenceConfiguration {
  const facts = hello['reference'] as ReferenceFacts | undefined;
  if (!facts) {
    throw new Error(
      "the PyTorch worker's hello has no 'reference' configuration: benchmarks/reference/torch_bench.py is older than the suite",
    );
  }
  const build = parseTorchConfig(facts.config);
  const identified = identifyBlas(facts.mapsLines, build);
  const dnnl = mappedFiles(facts.mapsLines).find((f) => /^lib(?:dnnl|mkldnn)\b/.test(basename(f)));
  const configuration: ReferenceConfiguration = {
    torch: String(hello['version'] ?? 'unknown'),
    threads: Number(hello['threads'] ?? 0),
    blas: { ...identified, name: BLAS_NAMES[identified.kind] },
    blasAlternatives: facts.blasAlternatives,
    ldLibraryPath: facts.ldLibraryPath,
    onednn: {
      available: facts.mkldnnAvailable,
      ...(build.mkldnnVersion ? { version: build.mkldnnVersion } : {}),
      ...(dnnl ? { library: dnnl } : {}),
    },
    build,
    matmulGflops1024: facts.matmulGflops1024,
  };
  const rate = `its 1024³ matmul: ${facts.matmulGflops1024.toFixed(1)} GFLOP/s`;
  if (identified.kind === 'reference') {
    configuration.slow = `PyTorch runs on the reference BLAS (${identified.library}; ${rate})`;
  } else if (facts.matmulGflops1024 < SLOW_MATMUL_GFLOPS) {
    configuration.slow =
      `PyTorch's ${rate}, under the ${SLOW_MATMUL_GFLOPS} GFLOP/s no optimized BLAS falls below ` +
      `(BLAS: ${BLAS_NAMES[identified.kind]}${identified.library ? `, ${identified.library}` : ''})`;
  }
  return configuration;
}

/** One line for the console and the results' Machine paragraph. */
export function describeReference(c: ReferenceConfiguration): string {
  const alternatives = Object.values(c.blasAlternatives);
  const blasFile = c.blas.library ?? (c.blas.source === 'nowhere' ? 'no library found' : 'linked into torch');
  return (
    `PyTorch ${c.torch} on ${c.threads} threads; BLAS: ${c.blas.name}, ${blasFile}` +
    (alternatives.length ? ` (system libblas.so.3 → ${alternatives.join(', ')})` : '') +
    (c.ldLibraryPath ? ` (LD_LIBRARY_PATH ${c.ldLibraryPath})` : '') +
    `; oneDNN: ${c.onednn.available ? (c.onednn.version ?? 'available') : 'unavailable'}` +
    (c.onednn.library ? `, ${c.onednn.library}` : '') +
    (c.build.cpuCapability ? `; CPU capability ${c.build.cpuCapability}` : '') +
    `; 1024³ matmul ${c.matmulGflops1024.toFixed(1)} GFLOP/s` +
    (c.slow ? ' (SLOW REFERENCE)' : '')
  );
}

/** What every ratio line says when the suite measured against a slow reference anyway. */
export const SLOW_REFERENCE_MARK = '[SLOW REFERENCE: flatters FisherLab]';

/** The multiarch triple of the libblas.so.3 alternative (x86_64-linux-gnu on amd64). */
function multiarch(c: ReferenceConfiguration): string {
  const link = Object.keys(c.blasAlternatives)[0];
  if (link?.startsWith('libblas.so.3-')) return link.slice('libblas.so.3-'.length);
  const libdir = c.blas.library ? basename(dirname(dirname(c.blas.library))) : '';
  return libdir.endsWith('-linux-gnu')
    ? libdir
    : process.arch === 'arm64'
      ? 'aarch64-linux-gnu'
      : 'x86_64-linux-gnu';
}

/** The refusal: why no ratio is printed, and the fixes. */
export function refusal(c: ReferenceConfiguration, loadAverage: string): string {
  const arch = multiarch(c);
  return [
    `${c.slow}: every FisherLab/PyTorch ratio would flatter FisherLab, so the suite measures nothing (load average now ${loadAverage}).`,
    'Fix, either:',
    '  - scripts/bench-setup.sh (installs python3-torch and OpenBLAS, libopenblas0-pthread, which then provides libblas.so.3);',
    `    if libopenblas0-pthread is installed but not chosen: update-alternatives --auto libblas.so.3-${arch}`,
    "  - or, leaving the system's libblas.so.3 as it is:",
    '      apt-get download libopenblas0-pthread && dpkg-deb -x libopenblas0-pthread_*.deb /tmp/ob',
    `      FISHERLAB_TORCH_LIBRARY_PATH=/tmp/ob/usr/lib/${arch}/openblas-pthread pnpm -C benchmarks bench ...`,
    `  - or --allow-slow-reference to measure anyway: every ratio line then says ${SLOW_REFERENCE_MARK}.`,
  ].join('\n');
}
