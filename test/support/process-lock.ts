/**
 * One builder user at a time, across test worker processes: an in-process queue plus a lock directory
 * (mkdir is atomic) that records its owner's pid, so a crashed owner's lock is taken over.
 * Re-entrant per lock: code already holding a lock runs nested calls for it directly. Locks at different
 * directories are independent (one per builder state: a daemon, a Buildah storage), so builds on different
 * builders run at the same time. Fair enough between processes: waiters register themselves, and a process
 * that just released a lock lets them go first.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The lock directories the current async context holds. */
const holding = new AsyncLocalStorage<ReadonlySet<string>>();
/** Per lock directory: the in-process queue, and when this process last released it. */
const queueTails = new Map<string, Promise<void>>();
const lastRelease = new Map<string, number>();
const ownedLockDirs = new Set<string>();
const waitingFiles = new Set<string>();
const POLL_MS = 50;
/** How long a process that just released the lock holds back while others wait. */
const COURTESY_MS = 300;

process.on('exit', () => {
  for (const dir of ownedLockDirs) rmSync(dir, { recursive: true, force: true });
  for (const file of waitingFiles) rmSync(file, { force: true });
});

const waitersDir = (lockDir: string) => `${lockDir}.waiters`;

/** Whether another live process is waiting for the lock. */
function othersWaiting(lockDir: string): boolean {
  let names: string[];
  try {
    names = readdirSync(waitersDir(lockDir));
  } catch {
    return false;
  }
  return names.some((name) => {
    const pid = Number(name);
    if (pid === process.pid || !(pid > 0)) return false;
    if (isAlive(pid)) return true;
    rmSync(path.join(waitersDir(lockDir), name), { force: true });
    return false;
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove the lock if its owner is gone (or never wrote its pid within a grace period). */
function breakIfStale(lockDir: string): void {
  const ownerFile = path.join(lockDir, 'owner');
  let owner: number | undefined;
  try {
    owner = Number(readFileSync(ownerFile, 'utf8'));
  } catch {
    try {
      if (Date.now() - statSync(lockDir).mtimeMs < 30_000) return;
    } catch {
      return;
    }
  }
  if (owner !== undefined && owner > 0 && isAlive(owner)) return;
  // Re-read right before removing, to narrow the window in which another waiter took it over.
  let again: number | undefined;
  try {
    again = Number(readFileSync(ownerFile, 'utf8'));
  } catch {
    again = undefined;
  }
  if (again === owner) rmSync(lockDir, { recursive: true, force: true });
}

async function acquire(lockDir: string): Promise<void> {
  mkdirSync(waitersDir(lockDir), { recursive: true });
  const waitingFile = path.join(waitersDir(lockDir), String(process.pid));
  writeFileSync(waitingFile, '');
  waitingFiles.add(waitingFile);
  try {
    if (Date.now() - (lastRelease.get(lockDir) ?? 0) < COURTESY_MS && othersWaiting(lockDir)) await sleep(COURTESY_MS);
    for (;;) {
      try {
        mkdirSync(lockDir);
        writeFileSync(path.join(lockDir, 'owner'), String(process.pid));
        ownedLockDirs.add(lockDir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      breakIfStale(lockDir);
      await sleep(POLL_MS);
    }
  } finally {
    rmSync(waitingFile, { force: true });
    waitingFiles.delete(waitingFile);
  }
}

function release(lockDir: string): void {
  ownedLockDirs.delete(lockDir);
  lastRelease.set(lockDir, Date.now());
  rmSync(lockDir, { recursive: true, force: true });
}

/** Run `fn` while holding the lock at `lockDir` (shared by every process that names the same directory). */
export async function exclusive<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const held = holding.getStore() ?? new Set<string>();
  if (held.has(lockDir)) return fn();
  const previous = queueTails.get(lockDir) ?? Promise.resolve();
  let done!: () => void;
  const tail = new Promise<void>((resolve) => (done = resolve));
  queueTails.set(lockDir, tail);
  try {
    await previous;
    await acquire(lockDir);
    try {
      return await holding.run(new Set([...held, lockDir]), fn);
    } finally {
      release(lockDir);
    }
  } finally {
    done();
    if (queueTails.get(lockDir) === tail) queueTails.delete(lockDir);
  }
}
