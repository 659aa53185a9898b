import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  blasKindOf,
  describeReference,
  identifyBlas,
  mappedFiles,
  parseTorchConfig,
  type ReferenceFacts,
  referenceConfiguration,
  refusal,
  SLOW_MATMUL_GFLOPS,
} from './reference.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Hello replies of benchmarks/reference/torch_bench.py, recorded from Debian 12's python3-torch 1.13. */
const recorded = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(here, 'fixtures', `torch-hello-${name}.json`), 'utf8'));
const onReferenceBlas = recorded('reference-blas');
const onOpenblasByLibraryPath = recorded('openblas-ld-library-path');
const onSystemOpenblas = recorded('openblas-system');
/** LD_LIBRARY_PATH=<libdir>/blas with OpenBLAS as the system's choice: OpenBLAS's LAPACK beside the reference BLAS. */
const onReferenceBlasBesideOpenblas = recorded('reference-blas-openblas-lapack');
const factsOf = (hello: Record<string, unknown>) => hello['reference'] as ReferenceFacts;

describe("torch.__config__.show(), as Debian's python3-torch prints it", () => {
  it('gives the BLAS it was built for, oneDNN and the CPU capability', () => {
    expect(parseTorchConfig(factsOf(onReferenceBlas).config)).toEqual({
      blasInfo: 'generic',
      lapackInfo: 'generic',
      useMkldnn: true,
      mkldnnVersion: 'v2.6.3',
      cpuCapability: 'AVX2',
    });
  });
});

describe('/proc/self/maps lines of the torch worker', () => {
  it('give each mapped library once, in order', () => {
    expect(mappedFiles(factsOf(onReferenceBlas).mapsLines)).toEqual([
      '/usr/lib/x86_64-linux-gnu/libdnnl.so.2.6',
      '/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3.11.0',
      '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0',
    ]);
  });

  it('keep paths with spaces and drop the deleted mark', () => {
    expect(
      mappedFiles([
        '7f00-7f01 r--p 00000000 fe:00 12   /opt/my libs/libopenblas.so.0 (deleted)',
        '7f01-7f02 rw-p 00000000 00:00 0 ',
        '7f02-7f03 rw-p 00000000 00:00 0                          [heap]',
      ]),
    ).toEqual(['/opt/my libs/libopenblas.so.0']);
  });

  it("name Debian's BLAS providers by their packages' install paths", () => {
    expect(blasKindOf('/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0')).toBe('reference');
    expect(blasKindOf('/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3')).toBe('openblas');
    expect(blasKindOf('/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3')).toBe('blis');
    expect(blasKindOf('/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3')).toBe('atlas');
    expect(blasKindOf('/opt/vendor/lib/libblas.so.3')).toBe('unidentified');
  });
});

describe('the reference configuration the suite judges', () => {
  it('on the reference BLAS: slow, with the library named, and a refusal naming every fix', () => {
    const configuration = referenceConfiguration(onReferenceBlas);
    expect(configuration.blas).toMatchObject({
      kind: 'reference',
      library: '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0',
      source: 'process map',
    });
    expect(configuration.onednn).toEqual({
      available: true,
      version: 'v2.6.3',
      library: '/usr/lib/x86_64-linux-gnu/libdnnl.so.2.6',
    });
    expect(configuration.slow).toMatch(
      /^PyTorch runs on the reference BLAS \(.*blas\/libblas\.so\.3\.11\.0; its 1024³ matmul: 4\.0 GFLOP\/s\)$/,
    );
    const message = refusal(configuration, '1.00 0.50 0.20 1/100 123');
    expect(message).toContain('scripts/bench-setup.sh');
    expect(message).toContain('libopenblas0-pthread');
    expect(message).toContain('update-alternatives --auto libblas.so.3-x86_64-linux-gnu');
    expect(message).toContain(
      'FISHERLAB_TORCH_LIBRARY_PATH=/tmp/ob/usr/lib/x86_64-linux-gnu/openblas-pthread',
    );
    expect(message).toContain('--allow-slow-reference');
    expect(message).toContain('load average now 1.00 0.50 0.20');
  });

  it('with OpenBLAS through LD_LIBRARY_PATH: OpenBLAS, though the system alternative is still the reference BLAS', () => {
    const configuration = referenceConfiguration(onOpenblasByLibraryPath);
    expect(Object.values(configuration.blasAlternatives)).toEqual([
      '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0',
    ]);
    expect(configuration.blas.kind).toBe('openblas');
    expect(configuration.blas.library).toContain('/openblas-pthread/');
    expect(configuration.slow).toBeUndefined();
  });

  it("on the reference BLAS with libopenblas loaded beside it (by OpenBLAS's liblapack.so.3): still slow", () => {
    const facts = factsOf(onReferenceBlasBesideOpenblas);
    expect(mappedFiles(facts.mapsLines)).toContain(
      '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so',
    );
    const configuration = referenceConfiguration(onReferenceBlasBesideOpenblas);
    expect(configuration.blas).toMatchObject({
      kind: 'reference',
      library: '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0',
    });
    expect(configuration.slow).toContain('PyTorch runs on the reference BLAS');
  });

  it('with OpenBLAS as the system libblas.so.3: OpenBLAS, fit to compare against', () => {
    const configuration = referenceConfiguration(onSystemOpenblas);
    expect(Object.values(configuration.blasAlternatives)[0]).toContain('/openblas-pthread/');
    expect(configuration.blas).toMatchObject({
      kind: 'openblas',
      library: '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
    });
    expect(configuration.slow).toBeUndefined();
    expect(describeReference(configuration)).toMatch(
      /BLAS: OpenBLAS, .*; oneDNN: v2\.6\.3, .*1024³ matmul \d+\.\d GFLOP\/s$/,
    );
  });

  it('an optimized BLAS whose matmul crawls is slow too (a second BLAS in the process, a crippled build)', () => {
    const facts = { ...factsOf(onSystemOpenblas), matmulGflops1024: SLOW_MATMUL_GFLOPS / 2 };
    const configuration = referenceConfiguration({ ...onSystemOpenblas, reference: facts });
    expect(configuration.blas.kind).toBe('openblas');
    expect(configuration.slow).toContain(`under the ${SLOW_MATMUL_GFLOPS} GFLOP/s`);
  });

  it('with no BLAS library loaded, the BLAS linked into torch (a pip wheel: BLAS_INFO=mkl) decides', () => {
    expect(
      identifyBlas(
        [],
        parseTorchConfig('  - Build settings: BLAS_INFO=mkl, BUILD_TYPE=Release, LAPACK_INFO=mkl,'),
      ),
    ).toEqual({
      kind: 'mkl',
      source: 'torch build (BLAS_INFO)',
    });
    expect(identifyBlas([], parseTorchConfig(factsOf(onReferenceBlas).config))).toEqual({
      kind: 'unidentified',
      source: 'nowhere',
    });
  });

  it('refuses a worker too old to report its configuration, naming the file', () => {
    expect(() => referenceConfiguration({ name: 'pytorch', version: '1.13.0a0' })).toThrow(/torch_bench\.py/);
  });
});

/** The Debian package that installed a file (dpkg's own record: the truth the path rules guess at). */
function owningPackage(path: string): string | undefined {
  try {
    return execFileSync('dpkg', ['-S', path], { encoding: 'utf8' }).split(':')[0];
  } catch {
    return undefined;
  }
}

const systemBlas = ['/usr/lib/x86_64-linux-gnu/libblas.so.3', '/usr/lib/aarch64-linux-gnu/libblas.so.3'].find(
  existsSync,
);
const kindOfPackage = (pkg = '') =>
  pkg === 'libblas3'
    ? 'reference'
    : (['openblas', 'blis', 'atlas'] as const).find((name) => pkg.startsWith(`lib${name}`));

describe.skipIf(!systemBlas || !existsSync('/usr/bin/python3'))(
  "this machine's libblas.so.3, loaded as torch loads it",
  () => {
    it('is identified as the package that installed it', () => {
      const expected = kindOfPackage(owningPackage(realpathSync(systemBlas!)));
      const facts = JSON.parse(
        execFileSync(
          '/usr/bin/python3',
          [join(here, '..', 'reference', 'blas_probe.py'), '--load', 'libblas.so.3'],
          {
            encoding: 'utf8',
          },
        ),
      ) as Pick<ReferenceFacts, 'mapsLines' | 'blasAlternatives'>;
      expect(Object.values(facts.blasAlternatives)).toContain(realpathSync(systemBlas!));
      expect(expected).toBeDefined();
      expect(identifyBlas(facts.mapsLines, {}).kind).toBe(expected);
    });
  },
);
