/**
 * Hostile inputs, part 1: where ctxdiff writes. The built CLI (dist/) in real processes, on real files in
 * temporary directories. Each case asserts the exact answer or the one-line error, the exit code, a time
 * bound, the peak RSS, and that no temporary file was left behind. Device nodes are made in the temporary
 * directory (`mknod DIR/full c 1 7`), never the machine's own /dev/full.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../src/snapshot/format.js';
import { CAN_DROP, IS_ROOT, NOBODY, cleanup, expectBounded, expectOk, expectOneLineError, leftovers, mount, runCli, startCli, tempDir } from './support/hostile.js';

let tmp: string;
let ctx: string;
let ctx2: string;
beforeAll(() => {
  tmp = tempDir('output');
  ctx = path.join(tmp, 'ctx');
  ctx2 = path.join(tmp, 'ctx2');
  for (const [dir, n] of [[ctx, 50], [ctx2, 60]] as const) {
    fs.mkdirSync(dir);
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(dir, `f${i}`), `file ${i}\n`);
  }
});
afterAll(() => cleanup(tmp));

const entriesOf = (file: string) => decodeSnapshot(fs.readFileSync(file), file).context.entries.length;

describe.runIf(IS_ROOT)('snapshot -o never replaces what is not a regular file', () => {
  it('a character device (mknod DIR/full c 1 7) is refused and stays a device', () => {
    const full = path.join(tmp, 'full');
    expect(spawnSync('mknod', [full, 'c', '1', '7']).status).toBe(0);
    const r = runCli(['snapshot', ctx, '-o', full]);
    expectOneLineError(r, /^ctxdiff: .*full: not a regular file \(a character device\); refusing to replace it\n$/, { ms: 20_000, clean: tmp });
    expect(fs.lstatSync(full).isCharacterDevice()).toBe(true);
    expect(fs.lstatSync(full).rdev).toBe((1 << 8) | 7); // still 1,7
  });
});

describe('snapshot -o never replaces what is not a regular file (no root needed)', () => {
  it('a FIFO is refused (without blocking) and stays a FIFO', () => {
    const fifo = path.join(tmp, 'out.fifo');
    spawnSync('mkfifo', [fifo]);
    const r = runCli(['snapshot', ctx, '-o', fifo]);
    expectOneLineError(r, /out\.fifo: not a regular file \(a FIFO\); refusing to replace it\n$/, { ms: 20_000, clean: tmp });
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a symlink is refused, and neither it nor its target is touched', () => {
    const target = path.join(tmp, 'precious');
    fs.writeFileSync(target, 'keep me');
    const link = path.join(tmp, 'out.link');
    fs.symlinkSync(target, link);
    const r = runCli(['snapshot', ctx, '-o', link]);
    expectOneLineError(r, /out\.link: not a regular file \(a symlink\); refusing to replace it\n$/, { ms: 20_000, clean: tmp });
    expect(fs.readlinkSync(link)).toBe(target);
    expect(fs.readFileSync(target, 'utf8')).toBe('keep me');
  });

  it('a directory is refused', () => {
    const dir = path.join(tmp, 'out.dir');
    fs.mkdirSync(dir);
    const r = runCli(['snapshot', ctx, '-o', dir]);
    expectOneLineError(r, /out\.dir: not a regular file \(a directory\); refusing to replace it\n$/, { ms: 20_000, clean: tmp });
  });

  it('a regular file is replaced atomically by the complete new snapshot', () => {
    const out = path.join(tmp, 'ok.snap');
    fs.writeFileSync(out, 'old');
    const r = runCli(['snapshot', ctx, '-o', out]);
    expectOk(r, { ms: 20_000, clean: tmp });
    expect(r.stdout).toMatch(/^snapshot .*ok\.snap: 50 entries, 50 files/);
    expect(entriesOf(out)).toBe(50);
  });
});

describe.runIf(IS_ROOT)('write errors are one line, exit 2, and leave the old file and no temporary file', () => {
  it('ENOSPC: a full file system (a 16 KiB tmpfs)', () => {
    const dir = path.join(tmp, 'small');
    fs.mkdirSync(dir);
    const umount = mount(['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir]);
    try {
      const big = path.join(tmp, 'bigctx');
      fs.mkdirSync(big);
      // 4,000 hashes alone are 32 KB of snapshot: more than the file system holds.
      for (let i = 0; i < 4_000; i++) fs.writeFileSync(path.join(big, `f${i}`), String(i));
      const out = path.join(dir, 'a.snap');
      fs.writeFileSync(out, 'old');
      const r = runCli(['snapshot', big, '-o', out]);
      expectOneLineError(r, /a\.snap: no space left on device\n$/, { ms: 60_000, clean: dir });
      expect(fs.readFileSync(out, 'utf8')).toBe('old');
      expect(fs.readdirSync(dir)).toEqual(['a.snap']);
    } finally {
      umount();
    }
  });

  it('EROFS: a read-only file system (a read-only bind mount)', () => {
    const dir = path.join(tmp, 'ro');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.snap'), 'old');
    const umount = mount(['--bind', '-o', 'ro', dir, dir]);
    try {
      const r = runCli(['snapshot', ctx, '-o', path.join(dir, 'a.snap')]);
      expectOneLineError(r, /a\.snap: read-only file system\n$/, { ms: 20_000, clean: dir });
      expect(fs.readFileSync(path.join(dir, 'a.snap'), 'utf8')).toBe('old');
    } finally {
      umount();
    }
  });
});

describe.runIf(CAN_DROP)('as an unprivileged user', () => {
  it('EACCES: a directory it may not write to', () => {
    const dir = path.join(tmp, 'rootonly');
    fs.mkdirSync(dir, { mode: 0o755 });
    const r = runCli(['snapshot', ctx, '-o', path.join(dir, 'a.snap')], { asUser: NOBODY });
    expectOneLineError(r, /rootonly\/a\.snap: permission denied\n$/, { ms: 20_000, clean: dir });
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('standard output', () => {
  it.runIf(IS_ROOT)('a full stdout (a full device made in the temp dir) is one line, exit 2, no stack trace', () => {
    const full = path.join(tmp, 'full-out');
    spawnSync('mknod', [full, 'c', '1', '7']);
    const fd = fs.openSync(full, 'w');
    try {
      const r = runCli(['ls', ctx], { stdoutTo: fd });
      expectOneLineError(r, /^ctxdiff: <stdout>: no space left on device\n$/, { ms: 20_000 });
    } finally {
      fs.closeSync(fd);
    }
  });

  it('a closed pipe (ls | head -c 0) ends quietly (EPIPE), exit 0', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${path.join(import.meta.dirname, '../bin/ctxdiff.js')}" ls "${ctx}" --json | head -c 0; exit \${PIPESTATUS[0]}`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('signals and concurrent writers', () => {
  it('SIGINT or SIGTERM at any moment of a snapshot: the output is the old file or the complete new one, no temporary file', async () => {
    const dir = path.join(tmp, 'signals');
    fs.mkdirSync(dir);
    const out = path.join(dir, 's.snap');
    // A first run gives the old file, and how long a run takes.
    const first = runCli(['snapshot', ctx2, '-o', out]);
    expectOk(first, { ms: 20_000 });
    const oldBytes = fs.readFileSync(out);
    let killed = 0;
    for (let i = 0; i < 8; i++) {
      const { child, done } = startCli(['snapshot', ctx, '-o', out]);
      const signal = i % 2 === 0 ? 'SIGINT' : 'SIGTERM';
      // Spread over the run: from its start to past its end, so that some signals land in the write.
      const delay = (first.ms * (i + 1)) / 8;
      const timer = setTimeout(() => child.kill(signal), delay);
      const r = await done;
      clearTimeout(timer);
      if (r.signal !== null) {
        killed++;
        expect(r.signal).toBe(signal);
      } else {
        expect(r.code, r.stderr).toBe(0);
      }
      expect(leftovers(dir)).toEqual([]);
      const now = fs.readFileSync(out);
      // Either the old snapshot (ctx2: 60 entries) or the complete new one (ctx: 50 entries).
      expect(now.equals(oldBytes) || entriesOf(out) === 50).toBe(true);
      expect([50, 60]).toContain(entriesOf(out));
    }
    expect(killed).toBeGreaterThan(0);
  });

  it('a signal while the temporary file is being written removes it (the registry of live temporary files)', async () => {
    const dir = path.join(tmp, 'signal-write');
    fs.mkdirSync(dir);
    const target = path.join(dir, 'out.bin');
    fs.writeFileSync(target, 'old');
    // A writer of 256 MiB through the same module the snapshot writer uses, killed as soon as its temporary
    // file appears (it is then being written: the window the CLI's small snapshots make hard to hit).
    const script = `import { writeOutputFile } from ${JSON.stringify(path.join(import.meta.dirname, '../dist/core/safe-output.js'))};
      const parts = Array.from({ length: 64 }, () => Buffer.alloc(4 << 20, 1));
      await writeOutputFile(${JSON.stringify(target)}, parts);`;
    const { spawn } = await import('node:child_process');
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
      let seen = false;
      while (child.exitCode === null && child.signalCode === null) {
        if (fs.readdirSync(dir).some((n) => n.endsWith('.tmp'))) {
          seen = true;
          child.kill(signal);
          break;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      const [, sig] = await new Promise<[number | null, string | null]>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve([child.exitCode, child.signalCode]);
        else child.on('close', (c, s) => resolve([c, s]));
      });
      if (seen) expect(sig).toBe(signal);
      expect(leftovers(dir)).toEqual([]);
      const content = fs.readFileSync(target);
      expect(content.equals(Buffer.from('old')) || content.length === 256 << 20).toBe(true);
      fs.writeFileSync(target, 'old');
    }
  });

  it('four concurrent writers of one snapshot: each succeeds, the file is one complete snapshot, no temporary file', async () => {
    const dir = path.join(tmp, 'concurrent');
    fs.mkdirSync(dir);
    const out = path.join(dir, 'same.snap');
    const runs = [ctx, ctx2, ctx, ctx2].map((c) => startCli(['snapshot', c, '-o', out]));
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) {
      expectBounded(r, { ms: 60_000 });
      expect(r.code, r.stderr).toBe(0);
    }
    expect(leftovers(dir)).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual(['same.snap']);
    expect([50, 60]).toContain(entriesOf(out));
  });
});
