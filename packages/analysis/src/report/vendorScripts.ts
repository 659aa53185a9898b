import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The folder of an installed package (its exports map hides package.json, so walk up from its entry). */
function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (dir !== path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name
    )
      return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`Could not find the installed package ${name}. Fix: run pnpm install in the workspace.`);
}

/** Makes script text safe to inline in <script>: no "</script" or "<!--" can end or confuse the element. */
export function escapeInlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

let cached: { vega: string; vegaLite: string; vegaEmbed: string } | null = null;

/** The minified vega, vega-lite and vega-embed builds from node_modules, ready to inline. */
export function vendorScripts(): { vega: string; vegaLite: string; vegaEmbed: string } {
  cached ??= {
    vega: escapeInlineScript(readFileSync(path.join(packageDir('vega'), 'build/vega.min.js'), 'utf8')),
    vegaLite: escapeInlineScript(
      readFileSync(path.join(packageDir('vega-lite'), 'build/vega-lite.min.js'), 'utf8'),
    ),
    vegaEmbed: escapeInlineScript(
      readFileSync(path.join(packageDir('vega-embed'), 'build/vega-embed.min.js'), 'utf8'),
    ),
  };
  return cached;
}
