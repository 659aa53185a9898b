import { execFileSync } from 'node:child_process';
import type { BackendReport } from '@fisherlab/engine';
import { CLI_VERSION } from '../version.js';

/** Versions recorded in meta.json, so a result can be traced to the code and runtime that made it. */
export function collectVersions(backend: BackendReport): Record<string, string> {
  return {
    fisherlab: CLI_VERSION,
    node: process.version,
    tfjs: backend.tfjsVersion,
    backend: backend.choice,
    // What the backend itself reports (tfjs-node-gpu can run on the CPU), not the package's name.
    device: backend.device.description,
  };
}

let commit: string | null | undefined;

/** The git commit of the working directory's repository, if any (cached). */
export function gitCommit(): string | undefined {
  if (commit === undefined) {
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], {
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 2000,
      })
        .toString()
        .trim();
    } catch {
      commit = null;
    }
  }
  return commit ?? undefined;
}
