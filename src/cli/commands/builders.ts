/** `ctxdiff builders`: the builder profiles, and the real builder versions that verified each. */
import { out, type Command } from '../common.js';
import { DEFAULT_BUILDER, PROFILES } from '../../builders/profiles.js';

export function registerBuilders(program: Command): void {
  program
    .command('builders')
    .description('list the builder profiles and the real builder versions the test suite verifies each against')
    .option('--json', 'JSON output')
    .action((o: { json?: boolean }) => {
      const list = Object.values(PROFILES).map((p) => ({
        id: p.id,
        title: p.title,
        default: p.id === DEFAULT_BUILDER,
        verifiedBy: [...p.verifiedBy],
        notes: [...p.notes],
      }));
      if (o.json) {
        out(JSON.stringify({ schemaVersion: 1, builders: list }, null, 2) + '\n');
        return;
      }
      for (const b of list) {
        out(`${b.id}${b.default ? ' (default)' : ''}: ${b.title}\n`);
        out(b.verifiedBy.length ? b.verifiedBy.map((v) => `  verified on ${v}\n`).join('') : '  not verified against a real builder\n');
      }
    });
}
