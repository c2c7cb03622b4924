/**
 * Compiles a strategy file into a self-contained ESM bundle with esbuild (which parses but never
 * runs the code): `@platform/strategy` resolves to the SDK and zod is bundled in, so a worker can
 * import the result from a `data:` URL.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Message, Plugin } from 'esbuild';
import { errorMessage } from '../domain.ts';

/** Absolute path of the SDK that `@platform/strategy` names. */
export const SDK_PATH = fileURLToPath(new URL('./sdk.ts', import.meta.url));

/** Extensions the registry loads, with the language each one records. */
export const STRATEGY_EXTENSIONS: Readonly<Record<string, 'ts' | 'js'>> = { '.ts': 'ts', '.js': 'js', '.mjs': 'js' };

/** The content hash of a strategy source: hex sha256. */
export function hashSource(source: string): string {
  return createHash('sha256').update(source, 'utf8').digest('hex');
}

const sdkPlugin: Plugin = {
  name: 'platform-strategy-sdk',
  setup(b) {
    b.onResolve({ filter: /^@platform\/strategy$/ }, () => ({ path: SDK_PATH }));
  },
};

/**
 * Bundles `source` (named `filename`, resolved from `resolveDir`) into one ESM module.
 * Returns the code, or an error such as `SyntaxError: Expected ";" but found "x" (a.ts:3:7)`.
 */
export async function compileStrategy(
  source: string,
  filename: string,
  resolveDir: string,
): Promise<{ ok: true; code: string } | { ok: false; error: string }> {
  const language = STRATEGY_EXTENSIONS[path.extname(filename)] ?? 'js';
  try {
    const result = await build({
      stdin: { contents: source, loader: language, resolveDir, sourcefile: filename },
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      // Whitespace and syntax only: identifiers (and so error names) stay readable.
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'none',
      plugins: [sdkPlugin],
    });
    const out = result.outputFiles[0];
    if (!out) return { ok: false, error: 'esbuild produced no output' };
    return { ok: true, code: out.text };
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors;
    const first = errors?.[0];
    if (!first) return { ok: false, error: `compile failed: ${errorMessage(err)}` };
    // esbuild's file is relative to the cwd; the bare file name reads better (column is 0-based).
    const where = first.location
      ? ` (${path.basename(first.location.file)}:${first.location.line}:${first.location.column + 1})`
      : '';
    const kind = /^Could not resolve/.test(first.text) ? 'ImportError' : 'SyntaxError';
    return { ok: false, error: `${kind}: ${first.text}${where}` };
  }
}
