/** Markdown reporter: for CI step summaries (e.g. GitHub's $GITHUB_STEP_SUMMARY). */
import { count, humanSize } from '../format.js';
import type { Reporter } from './index.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');

export const markdownReporter: Reporter = {
  tree: (r) => {
    const lines = [
      `### Build context checksums (${r.tree.builder})`,
      '',
      '| checksum | entries | size | path |',
      '|---|--:|--:|---|',
      ...r.nodes.map(
        (n) => `| \`${n.checksum}\` | ${n.type === 'dir' ? count(n.count) : ''} | ${humanSize(n.size)} | \`${cell(n.type === 'dir' && n.path !== '.' ? n.path + '/' : n.path)}\` |`,
      ),
    ];
    return lines.join('\n') + '\n';
  },
};
