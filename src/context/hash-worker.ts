/**
 * Worker thread of FilePool (started through threads.ts): waits for its set-up (the context to read), says
 * it is ready, then reads directories (DirScanner) and batches of files (FileHasher) and answers each job
 * with its results. Between pools it also runs tasks (runOnReaderThread): a function of a module it imports.
 */
import { parentPort } from 'node:worker_threads';
import { FileHasher, type WorkerReply, type WorkerRequest, type WorkerSetup } from './hash.js';
import { DirScanner } from './scan.js';
import { serializeError } from './scan-result.js';
import type { ThreadTask, ThreadTaskResult } from './threads.js';

const hasher = await FileHasher.create();
let setup: WorkerSetup;
let scanner: DirScanner;

/** Runs a task (see runOnReaderThread) and sends back its value, or the message of what it threw. */
async function runTask(task: ThreadTask): Promise<void> {
  let result: ThreadTaskResult<unknown>;
  try {
    const mod = (await import(task.module)) as Record<string, (arg: unknown) => ThreadTaskResult<unknown> | Promise<ThreadTaskResult<unknown>>>;
    result = await mod[task.name]!(task.arg);
  } catch (e) {
    parentPort!.postMessage({ task: { error: e instanceof Error ? e.message : String(e) } });
    return;
  }
  parentPort!.postMessage({ task: { value: result.value } }, result.transfer);
}

parentPort!.on('message', (msg: WorkerRequest | { task: ThreadTask }) => {
  let reply: WorkerReply;
  if ('task' in msg) {
    void runTask(msg.task);
  } else if ('setup' in msg) {
    setup = msg.setup;
    scanner = new DirScanner(setup.config, hasher);
    reply = { ready: true };
    parentPort!.postMessage(reply);
  } else if ('dirs' in msg) {
    const scan = scanner.scan(msg.dirs, setup.budget);
    scan.errors = scan.errors.map(([i, e]) => [i, e instanceof Error ? serializeError(e) : e]);
    reply = { id: msg.id, scan };
    parentPort!.postMessage(reply, [scan.nums.buffer as ArrayBuffer, scan.hashes.buffer as ArrayBuffer]);
  } else {
    const files = hasher.processBatch(setup.config.root, msg.files, setup.config.xattrs);
    reply = { id: msg.id, files };
    parentPort!.postMessage(reply, [files.stats.buffer as ArrayBuffer, files.hashes.buffer as ArrayBuffer]);
  }
});
