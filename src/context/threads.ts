/**
 * The reader threads of `FilePool` (hash-worker.js). A worker thread takes ~30 ms to start, twice that while
 * the calling thread is busy walking, and a walk of a large context wants it from its first millisecond. So a
 * program that knows early that it may walk a context starts its threads first (`startReaderThreads`), while
 * it loads the rest of its code, and the pool takes started threads before it starts new ones.
 *
 * A thread waits for a pool's set-up message (the context and rules it reads with). A started thread nobody
 * has taken does not keep the process alive, and one that failed to start is never handed out. A thread
 * started here goes back to the spares when its pool is done with it, so that the next walk (the second
 * context of a `diff`) finds it started, its code already compiled; `stopReaderThreads` ends the spares. A
 * thread a pool had to start itself ends with its pool.
 *
 * This module is small and imports nothing of ctxdiff's, so that it can run before the rest is loaded.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';

interface ThreadState {
  /** Set when the thread failed or exited. */
  dead: boolean;
  /** Started here: it goes back to the spares after use. */
  kept: boolean;
}

const states = new WeakMap<Worker, ThreadState>();
const spares: Worker[] = [];

/** Threads a walk reads with, the calling thread included: the CPUs, at most 4. */
export function defaultThreads(): number {
  return Math.min(4, Math.max(1, os.availableParallelism()));
}

function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/context/hash-worker.js', import.meta.url) // running from sources (tests): use the build
    : new URL('./hash-worker.js', import.meta.url);
}

function startThread(kept: boolean): Worker {
  const worker = new Worker(workerUrl());
  const state: ThreadState = { dead: false, kept };
  const die = () => {
    state.dead = true;
  };
  worker.on('error', die).on('exit', die);
  states.set(worker, state);
  return worker;
}

function alive(worker: Worker): boolean {
  return states.get(worker)?.dead === false;
}

/** Started threads waiting for a pool. */
export function spareReaderThreads(): number {
  return spares.filter(alive).length;
}

/** Starts reader threads ahead of a walk, up to `count` waiting ones (default: as many as a walk uses). */
export function startReaderThreads(count = defaultThreads() - 1): void {
  while (spareReaderThreads() < count) {
    const worker = startThread(true);
    worker.unref();
    spares.push(worker);
  }
}

/** A reader thread for a pool: a started one if there is one, else a new one. It keeps the process alive. */
export function takeReaderThread(): Worker {
  let worker: Worker | undefined;
  while ((worker = spares.shift()) !== undefined && !alive(worker));
  worker ??= startThread(false);
  worker.ref();
  return worker;
}

/**
 * Hands back a thread a pool is done with, idle (no job of its in flight). A thread started ahead goes back
 * to the spares; any other ends. Resolves once that is done.
 */
export async function releaseReaderThread(worker: Worker): Promise<void> {
  const state = states.get(worker);
  if (state?.kept && !state.dead) {
    worker.unref();
    spares.push(worker);
    return;
  }
  await worker.terminate();
}

/** Stops the started threads no pool took. */
export async function stopReaderThreads(): Promise<void> {
  const all = spares.splice(0);
  await Promise.all(all.map((w) => w.terminate()));
}
