/** Text reporter: aligned columns and human sizes for people at a terminal. */
import { columns, count, humanSize, octalMode } from '../format.js';
import type { Reporter } from './index.js';

export const textReporter: Reporter = {
  snapshot: (r, s) =>
    `${s.bold('snapshot')} ${r.file}: ${count(r.context.entries.length)} entries, ${count(r.files)} files, ` +
    `${humanSize(r.bytes)} (builder ${r.context.builder}, ignore file ${r.context.ignore?.file ?? 'none'})\n`,
  tree: (r) => {
    const rows = r.nodes.map((n) => [
      n.checksum,
      n.type === 'dir' ? count(n.count) : '',
      humanSize(n.size),
      n.type === 'dir' && n.path !== '.' ? `${n.path}/` : n.path,
    ]);
    return columns([['CHECKSUM', 'ENTRIES', 'SIZE', 'PATH'], ...rows], new Set([1, 2]));
  },
  ls: (r) => {
    const rows = r.context.entries.map((e) => [
      e.type,
      octalMode(e.mode),
      e.type === 'file' ? humanSize(e.size) : '',
      e.type === 'symlink' ? `${e.path} -> ${e.target}` : e.type === 'dir' ? `${e.path}/` : e.path,
    ]);
    return columns([['TYPE', 'MODE', 'SIZE', 'PATH'], ...rows], new Set([2]));
  },
};
