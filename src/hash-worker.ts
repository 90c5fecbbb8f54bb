/**
 * Worker thread of FilePool: reads directories (DirScanner) and batches of files (FileHasher) of one
 * context, as set up in workerData, and answers each message with its results.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FileHasher, type WorkerReply, type WorkerSetup } from './hash.js';
import { DirScanner, serializeError, type DirTask } from './scan.js';

const { config, budget } = workerData as WorkerSetup;
const hasher = await FileHasher.create();
const scanner = new DirScanner(config, hasher);

parentPort!.on('message', (msg: { id: number; dirs: DirTask[] } | { id: number; files: string }) => {
  let reply: WorkerReply;
  if ('dirs' in msg) {
    const scan = scanner.scan(msg.dirs, budget);
    scan.errors = scan.errors.map(([i, e]) => [i, e instanceof Error ? serializeError(e) : e]);
    reply = { id: msg.id, scan };
    parentPort!.postMessage(reply, [scan.nums.buffer as ArrayBuffer]);
  } else {
    const files = hasher.processBatch(config.root, msg.files, config.xattrs);
    reply = { id: msg.id, files };
    parentPort!.postMessage(reply, [files.stats.buffer as ArrayBuffer]);
  }
});
parentPort!.postMessage({ ready: true } satisfies WorkerReply);
