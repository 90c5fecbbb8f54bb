/**
 * The reader threads of `FilePool` (hash-worker.js). A worker thread takes ~30 ms to start, twice that while
 * the calling thread is busy walking, and a walk of a large context wants it from its first millisecond. So a
 * program that knows early that it may walk a context starts its threads first (`startReaderThreads`), while
 * it loads the rest of its code, and the pool takes started threads before it starts new ones.
 *
 * A thread waits for a pool's set-up message (the context and rules it reads with). A started thread nobody
 * has taken does not keep the process alive, and one that failed to start is never handed out.
 *
 * This module is small and imports nothing of ctxdiff's, so that it can run before the rest is loaded.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';

interface Spare {
  worker: Worker;
  /** Set when the thread failed or exited before a pool took it. */
  dead: boolean;
}

const spares: Spare[] = [];

/** Threads a walk reads with, the calling thread included: the CPUs, at most 4. */
export function defaultThreads(): number {
  return Math.min(4, Math.max(1, os.availableParallelism()));
}

function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../dist/hash-worker.js', import.meta.url) // running from sources (tests): use the build
    : new URL('./hash-worker.js', import.meta.url);
}

/** Starts reader threads ahead of a walk, up to `count` waiting ones (default: as many as a walk uses). */
export function startReaderThreads(count = defaultThreads() - 1): void {
  while (spareReaderThreads() < count) {
    const spare: Spare = { worker: new Worker(workerUrl()), dead: false };
    const die = () => {
      spare.dead = true;
    };
    spare.worker.on('error', die).on('exit', die);
    spare.worker.unref();
    spares.push(spare);
  }
}

/** Started threads waiting for a pool. */
export function spareReaderThreads(): number {
  return spares.filter((s) => !s.dead).length;
}

/** A reader thread for a pool: a started one if there is one, else a new one. It keeps the process alive. */
export function takeReaderThread(): Worker {
  let spare: Spare | undefined;
  while ((spare = spares.shift()) !== undefined && spare.dead);
  const worker = spare?.worker ?? new Worker(workerUrl());
  worker.ref();
  return worker;
}

/** Stops the started threads no pool took. */
export async function stopReaderThreads(): Promise<void> {
  const all = spares.splice(0);
  await Promise.all(all.map((s) => s.worker.terminate()));
}
