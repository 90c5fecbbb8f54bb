/**
 * The layout of src/ as docs/architecture.md states it: folders follow the pipeline and
 * imports only point down it; no module imports itself back through others. Read from the real sources.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Folders from the bottom of the pipeline to its top; `.` is src/ itself (index.ts, the library's door). */
const LAYERS = ['core', 'builders', 'ignore', 'dockerfile', 'buildlog', 'context', 'snapshot', 'sources', 'analysis', 'reporters', 'cli', '.'];

function sources(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const abs = path.join(dir, d.name);
    if (d.isDirectory()) return sources(abs);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [path.relative(SRC, abs)] : [];
  });
}

/** Relative imports of a module (static, type-only, re-exports and dynamic), as paths below src/. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) => m[1]!);
  return specs.map((s) => path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), s)).replace(/\.js$/, '.ts'));
}

const layerOf = (file: string): string => (file.includes(path.sep) ? file.split(path.sep)[0]! : '.');

const FILES = sources();
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

describe('src/ layout', () => {
  it('has every module in a folder of the pipeline (only index.ts at the top)', () => {
    expect(FILES.filter((f) => !LAYERS.includes(layerOf(f)))).toEqual([]);
    expect(FILES.filter((f) => layerOf(f) === '.')).toEqual(['index.ts']);
  });

  it('resolves every relative import to a module that exists', () => {
    const missing = [...GRAPH].flatMap(([f, deps]) => deps.filter((d) => !GRAPH.has(d)).map((d) => `${f} -> ${d}`));
    expect(missing).toEqual([]);
  });

  it('imports only down the pipeline', () => {
    const upward = [...GRAPH].flatMap(([f, deps]) =>
      deps.filter((d) => LAYERS.indexOf(layerOf(d)) > LAYERS.indexOf(layerOf(f))).map((d) => `${f} -> ${d}`),
    );
    expect(upward).toEqual([]);
  });

  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of GRAPH.get(f) ?? []) {
        if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' -> '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of FILES) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('keeps the core free of the terminal: nothing below cli/ writes to stdout or stderr', () => {
    const writers = FILES.filter((f) => !['cli', '.'].includes(layerOf(f))).filter((f) =>
      /process\.(stdout|stderr)\.write|console\.(log|error|warn)/.test(fs.readFileSync(path.join(SRC, f), 'utf8')),
    );
    expect(writers).toEqual([]);
  });
});
