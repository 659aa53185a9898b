"""Which BLAS and oneDNN a process really runs on, from the process's own memory map (no torch needed).

Debian's python3-torch links the generic libblas.so.3; which library answers to that name is decided
by update-alternatives (the slow reference BLAS from libblas3 unless an optimized one such as
libopenblas0-pthread is installed) or by LD_LIBRARY_PATH. Asking torch is not enough: its config
says only BLAS_INFO=generic. The suite classifies what this module reports (benchmarks/src/reference.ts).

`python3 blas_probe.py [--load libblas.so.3]` prints the facts as JSON, after loading the named
library through the dynamic linker as torch would.
"""

import glob
import json
import os
import sys

# Libraries that decide the reference's speed: BLAS and LAPACK providers, MKL, oneDNN (once MKL-DNN).
KEYWORDS = ('blas', 'lapack', 'mkl', 'dnnl', 'blis', 'atlas')


def mapped_library_lines():
    """The /proc/self/maps lines of the loaded libraries whose file names name a BLAS, LAPACK or oneDNN."""
    try:
        with open('/proc/self/maps') as maps:
            lines = maps.read().splitlines()
    except OSError:  # not Linux
        return []
    return [line for line in lines if '/' in line and any(k in os.path.basename(line.split()[-1]).lower() for k in KEYWORDS)]


def blas_alternatives():
    """update-alternatives' libblas.so.3 links (one per architecture) and the files they resolve to."""
    return {os.path.basename(link): os.path.realpath(link) for link in sorted(glob.glob('/etc/alternatives/libblas.so.3*'))}


def facts():
    return {
        'mapsLines': mapped_library_lines(),
        'blasAlternatives': blas_alternatives(),
        'ldLibraryPath': os.environ.get('LD_LIBRARY_PATH', ''),
    }


if __name__ == '__main__':
    args = sys.argv[1:]
    if '--load' in args:
        import ctypes

        ctypes.CDLL(args[args.index('--load') + 1])
    print(json.dumps(facts()))
