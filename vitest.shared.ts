import { defineConfig } from 'vitest/config';

/**
 * Shared test settings. Workspace packages resolve to their TypeScript sources through the
 * "source" export condition, so a test always sees its dependencies' current code without a build.
 */
export default defineConfig({
  resolve: { conditions: ['source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['source', 'module', 'node', 'import', 'default'] } },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
