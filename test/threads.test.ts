import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilePool } from '../src/context/hash.js';
import { spareReaderThreads, startReaderThreads, stopReaderThreads } from '../src/context/threads.js';
import { walkContext } from '../src/context/walk.js';

const DIST_THREADS = fileURLToPath(new URL('../dist/context/threads.js', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-threads-'));
});
afterEach(async () => {
  await stopReaderThreads();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('reader threads started ahead of a walk', () => {
  it('are taken by the next walk that needs them, which gives the same entries as one thread', async () => {
    const n = FilePool.INLINE_FILES * 4;
    for (let i = 0; i < n; i++) {
      fs.mkdirSync(path.join(dir, `d${i % 5}`), { recursive: true });
      fs.writeFileSync(path.join(dir, `d${i % 5}`, `f${i}`), `line ${i}\n`.repeat(i % 9));
    }
    startReaderThreads(2);
    startReaderThreads(2); // tops up to two, does not add two more
    expect(spareReaderThreads()).toBe(2);
    const pooled = await walkContext(dir, { threads: 2 });
    expect(spareReaderThreads()).toBe(2); // taken, and given back for the next walk
    const inline = await walkContext(dir, { threads: 0 });
    expect(pooled.entries).toEqual(inline.entries);
    expect(pooled.entries.length).toBe(n + 5);
    // The thread given back reads the next context (another one) with that context's rules.
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'd1\n');
    const again = await walkContext(dir, { threads: 2 });
    expect(again.entries.some((e) => e.path.startsWith('d1'))).toBe(false);
    const d1 = inline.entries.filter((e) => e.path === 'd1' || e.path.startsWith('d1/')).length;
    expect(again.entries.length).toBe(inline.entries.length - d1 + 1); // + .dockerignore
    expect(spareReaderThreads()).toBe(2);
  });

  it('that a walk starts itself end with it', async () => {
    for (let i = 0; i < FilePool.INLINE_FILES * 2; i++) fs.writeFileSync(path.join(dir, `f${i}`), `${i}`);
    const ctx = await walkContext(dir, { threads: 2 });
    expect(ctx.entries.length).toBe(FilePool.INLINE_FILES * 2);
    expect(spareReaderThreads()).toBe(0);
  });

  it('are left alone by a walk small enough for the calling thread', async () => {
    fs.writeFileSync(path.join(dir, 'one'), 'x');
    startReaderThreads(1);
    const ctx = await walkContext(dir, { threads: 2 });
    expect(ctx.entries.map((e) => e.path)).toEqual(['one']);
    expect(spareReaderThreads()).toBe(1);
    await stopReaderThreads();
    expect(spareReaderThreads()).toBe(0);
  });

  it('do not keep a process alive when no walk takes them', () => {
    const script = `import { startReaderThreads } from ${JSON.stringify(DIST_THREADS)}; startReaderThreads(2); console.log('started');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('started\n');
  });
});
