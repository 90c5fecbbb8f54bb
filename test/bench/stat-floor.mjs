/**
 * The floor under `ctxdiff diff SNAPSHOT DIR` when nothing changed (bench case tree1m-stat-floor): Node's own
 * cost of listing every directory of a tree (readdirSync, names sorted) and lstat'ing every entry
 * (lstatSync, a plain Stats), on as many threads as a ctxdiff walk uses (defaultThreads of the build: the
 * calling thread and workers), keeping nothing. ctxdiff does this much and more (it also decodes the snapshot,
 * compares every entry with it and diffs the two tables), so its time cannot go below this.
 *
 * Usage: node test/bench/stat-floor.mjs DIR   (prints the entries seen to stderr)
 */
import fs from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { defaultThreads } from '../../dist/context/threads.js';

/** lstat's every entry below `dirs`, depth-first; returns how many. */
function walk(dirs) {
  const stack = [...dirs];
  let n = 0;
  while (stack.length > 0) {
    const dir = stack.pop();
    const names = fs.readdirSync(dir).sort();
    for (const name of names) {
      const at = `${dir}/${name}`;
      const st = fs.lstatSync(at);
      n++;
      if (st.isDirectory()) stack.push(at);
    }
  }
  return n;
}

if (isMainThread) {
  const root = process.argv[2];
  if (!root) {
    console.error('usage: node test/bench/stat-floor.mjs DIR');
    process.exit(2);
  }
  const threads = defaultThreads();
  // The top-level directories, dealt out in turn (the bench trees' are alike in size).
  const tops = fs.readdirSync(root).sort().map((name) => `${root}/${name}`);
  const share = (t) => tops.filter((_, i) => i % threads === t);
  const workers = [];
  for (let t = 1; t < threads; t++) {
    const w = new Worker(new URL(import.meta.url), { workerData: share(t) });
    workers.push(new Promise((resolve, reject) => w.once('message', resolve).once('error', reject)));
  }
  const mine = walk(share(0));
  const theirs = await Promise.all(workers);
  console.error(`${theirs.reduce((a, b) => a + b, mine) + 1} entries`);
} else {
  parentPort.postMessage(walk(workerData));
}
