/** Worker thread of FilePool: receives batches of paths, answers with their attributes and hashes. */
import { parentPort } from 'node:worker_threads';
import { FileHasher } from './hash.js';

const hasher = await FileHasher.create();

parentPort!.on('message', (msg: { id: number; root: string; paths: string; xattrs: boolean }) => {
  const r = hasher.processBatch(msg.root, msg.paths, msg.xattrs);
  parentPort!.postMessage({ id: msg.id, ...r }, [r.stats.buffer as ArrayBuffer]);
});
