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

/**
 * What a thread runs for a module: the module itself, or, for a module of the sources (a .ts file under src/,
 * when running from sources: the tests), its build under dist/, which a thread can import.
 */
function runnable(module: string): string {
  const sources = new URL('../', import.meta.url).href;
  if (!module.endsWith('.ts') || !module.startsWith(sources)) return module;
  return new URL(`../../dist/${module.slice(sources.length, -'.ts'.length)}.js`, import.meta.url).href;
}

function workerUrl(): URL {
  return new URL(runnable(new URL(`./hash-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href));
}

/**
 * The young generation of a reader thread's heap, in MiB (V8's default grows to 48 on 64-bit). What a reader
 * allocates lives for one message (a directory's listing, a batch's results, sent and dropped), so a small one
 * costs no time; V8's default let it grow and stay resident: with 6, tree1m's cold snapshot peaks at 283–286
 * MiB instead of 298–303 (four alternating runs each), its unchanged `diff SNAPSHOT DIR` at 345 instead of 357
 * MiB, in the same time.
 */
export const READER_YOUNG_GENERATION_MB = 6;

function startThread(kept: boolean): Worker {
  const worker = new Worker(workerUrl(), { resourceLimits: { maxYoungGenerationSizeMb: READER_YOUNG_GENERATION_MB } });
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

/**
 * What a reader thread runs for runOnReaderThread: the module (a file URL) and the name of its export, a
 * function taking `arg` and returning (or resolving to) the value to send back and the buffers to move with it.
 */
export interface ThreadTask {
  module: string;
  name: string;
  arg: unknown;
}

/** What a task function returns: its value, and the ArrayBuffers to move (not copy) with it. */
export interface ThreadTaskResult<T> {
  value: T;
  transfer: ArrayBuffer[];
}

/**
 * Runs a function of the layers above on a reader thread (a started spare, else a new one), so that this
 * thread does other work meanwhile (decoding one snapshot while it decodes another): the thread imports
 * `task.module` and calls its export `task.name` with `task.arg` (structured-cloned; `transfer` moved).
 * Resolves to what it returns; rejects with an Error of the message it threw. A module given from sources (a
 * .ts file, in tests) is run from the build, as the threads' own code is. With `end`, the thread ends once
 * it has answered (not kept for a walk): what the task left in its memory goes with it, not at its next
 * garbage collection.
 */
export async function runOnReaderThread<T>(task: ThreadTask, transfer: ArrayBuffer[] = [], end = false): Promise<T> {
  const worker = takeReaderThread();
  const module = runnable(task.module);
  try {
    return await new Promise<T>((resolve, reject) => {
      const done = () => worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      const onMessage = (msg: { task?: { value: T } | { error: string } }) => {
        if (msg.task === undefined) return;
        done();
        if ('error' in msg.task) reject(new Error(msg.task.error));
        else resolve(msg.task.value);
      };
      const onError = (e: Error) => {
        done();
        reject(e);
      };
      const onExit = (code: number) => {
        done();
        reject(new Error(`reader thread exited (code ${code}) with a task in hand`));
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage({ task: { ...task, module } }, transfer);
    });
  } finally {
    if (end) void worker.terminate();
    else await releaseReaderThread(worker);
  }
}

/** Stops the started threads no pool took. */
export async function stopReaderThreads(): Promise<void> {
  const all = spares.splice(0);
  await Promise.all(all.map((w) => w.terminate()));
}
