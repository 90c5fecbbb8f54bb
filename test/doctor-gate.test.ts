/**
 * doctor as a CI gate, through the built CLI on real directories: --list-rules, --ignore, the config file
 * (.ctxdiff.json or --config), ctxdiff-ignore comments in the Dockerfile and the ignore file, exit codes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { materialize } from './support/fixture.js';
import { RULES } from '../src/analysis/doctor.js';
import { pragmasOf } from '../src/analysis/doctor-gate.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/ctxdiff.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-gate-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const ids = (stdout: string) => (JSON.parse(stdout).findings as { id: string }[]).map((f) => f.id).sort();

let dir: string;
let n = 0;
beforeEach(async () => {
  dir = path.join(tmp, `p${n++}`);
  fs.mkdirSync(dir);
  // secret-in-context (error, Dockerfile:3), build-files-in-copy (warning, Dockerfile:3), add-local-file (warning, Dockerfile:4),
  // ignore-rule-matches-nothing (info, .dockerignore:1).
  await materialize(
    {
      'Dockerfile': { content: 'FROM busybox@sha256:' + 'a'.repeat(64) + '\nWORKDIR /app\nCOPY . .\nADD notes.txt /n.txt\n' },
      '.dockerignore': { content: 'nothing-here\n' },
      '.env': { content: 'K=1\n' },
      'notes.txt': { content: 'n' },
    },
    dir,
  );
});

describe('doctor as a gate', () => {
  it('starts from these findings', () => {
    const r = run(['doctor', '.', '--json'], dir);
    expect(ids(r.stdout)).toEqual(['add-local-file', 'build-files-in-copy', 'ignore-rule-matches-nothing', 'secret-in-context']);
  });

  it('--list-rules lists every rule of the registry, in text and JSON', () => {
    const t = run(['doctor', '--list-rules'], dir);
    expect(t.code).toBe(0);
    for (const r of RULES) expect(t.stdout).toMatch(new RegExp(`^${r.id} +${r.severity} `, 'm'));
    const j = JSON.parse(run(['doctor', '--list-rules', '--json'], dir).stdout);
    expect(j.rules.map((r: { id: string }) => r.id)).toEqual(RULES.map((r) => r.id));
    expect(j.rules[0]).toEqual(expect.objectContaining({ id: RULES[0]!.id, why: RULES[0]!.why, fix: RULES[0]!.fix, builders: expect.any(Array) }));
  });

  it('--ignore RULE (repeatable, comma-separated) suppresses and says so; unknown ids are errors', () => {
    const r = run(['doctor', '.', '--json', '--ignore', 'secret-in-context', '--ignore', 'add-local-file,ignore-rule-matches-nothing', '--exit-code'], dir);
    expect(ids(r.stdout)).toEqual(['build-files-in-copy']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.suppressed).toEqual(expect.arrayContaining([{ id: 'secret-in-context', file: 'Dockerfile', line: 3, by: '--ignore' }]));
    const all = run(['doctor', '.', '--ignore', 'secret-in-context,add-local-file,ignore-rule-matches-nothing,build-files-in-copy', '--exit-code', '--fail-on', 'info'], dir);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('no findings (4 suppressed: ');
    const bad = run(['doctor', '.', '--ignore', 'secret-in-contxt'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('ctxdiff: --ignore: unknown rule "secret-in-contxt" (ctxdiff doctor --list-rules lists them)\n');
  });

  it('.ctxdiff.json at the context root: ignore, failOn, builder, file; --config names another', () => {
    fs.writeFileSync(path.join(dir, '.ctxdiff.json'), JSON.stringify({ ignore: ['secret-in-context'], failOn: 'error' }));
    const r = run(['doctor', '.', '--json', '--exit-code'], dir);
    expect(ids(r.stdout)).not.toContain('secret-in-context');
    expect(JSON.parse(r.stdout).suppressed[0].by).toBe('.ctxdiff.json');
    expect(r.code).toBe(0); // failOn error from the config: only warnings left
    expect(run(['doctor', '.', '--exit-code', '--fail-on', 'warning'], dir).code).toBe(1); // the command line wins
    // From the parent directory, the context's config is found too.
    expect(ids(run(['doctor', path.basename(dir), '--json'], tmp).stdout)).not.toContain('secret-in-context');
    // builder and file; a Dockerfile elsewhere.
    fs.mkdirSync(path.join(dir, 'docker'));
    fs.writeFileSync(path.join(dir, 'docker/Dockerfile'), 'FROM busybox@sha256:' + 'a'.repeat(64) + '\nCOPY notes.txt /n\n');
    const other = path.join(tmp, `other-${n}.json`);
    fs.writeFileSync(other, JSON.stringify({ builder: 'classic', file: path.relative(tmp, path.join(dir, 'docker/Dockerfile')) }));
    const o = JSON.parse(run(['doctor', '.', '--json', '--config', other], dir).stdout);
    expect(o.builder).toBe('classic');
    expect(o.dockerfile).toBe('docker/Dockerfile');
    expect(o.findings.map((f: { id: string }) => f.id)).not.toContain('add-local-file');
  });

  it('refuses a broken config file with one line', () => {
    const cases: [string, RegExp][] = [
      ['{', /not valid JSON/],
      ['[]', /must be a JSON object/],
      ['{"ignores": []}', /unknown key "ignores"/],
      ['{"ignore": ["nope"]}', /unknown rule "nope"/],
      ['{"failOn": "fatal"}', /"failOn" must be one of error, warning, info/],
      ['{"builder": "docker"}', /"builder" must be one of/],
    ];
    for (const [text, msg] of cases) {
      fs.writeFileSync(path.join(dir, '.ctxdiff.json'), text);
      const r = run(['doctor', '.'], dir);
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toMatch(msg);
      expect(r.stderr.trim().split('\n'), text).toHaveLength(1);
    }
    fs.rmSync(path.join(dir, '.ctxdiff.json'));
    expect(run(['doctor', '.', '--config', 'missing.json'], dir)).toMatchObject({ code: 2, stderr: expect.stringMatching(/config file missing.json: not found/) });
  });

  it('# ctxdiff-ignore RULE on the line above, in the Dockerfile and in .dockerignore', () => {
    fs.writeFileSync(
      path.join(dir, 'Dockerfile'),
      'FROM busybox@sha256:' + 'a'.repeat(64) + '\nWORKDIR /app\n# ctxdiff-ignore secret-in-context, build-files-in-copy\nCOPY . .\n# ctxdiff-ignore add-local-file\n\nADD notes.txt /n.txt\n',
    );
    fs.writeFileSync(path.join(dir, '.dockerignore'), '# ctxdiff-ignore ignore-rule-matches-nothing\nnothing-here\n');
    const r = run(['doctor', '.', '--json'], dir);
    expect(ids(r.stdout)).toEqual([]);
    expect(JSON.parse(r.stdout).suppressed).toEqual(
      expect.arrayContaining([
        { id: 'secret-in-context', file: 'Dockerfile', line: 4, by: 'Dockerfile:3' },
        { id: 'add-local-file', file: 'Dockerfile', line: 7, by: 'Dockerfile:5' },
        { id: 'ignore-rule-matches-nothing', file: '.dockerignore', line: 2, by: '.dockerignore:1' },
      ]),
    );
    // A pragma covers only the line below it: moved one line up, it no longer applies.
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox@sha256:' + 'a'.repeat(64) + '\n# ctxdiff-ignore secret-in-context\nWORKDIR /app\nCOPY . .\n');
    expect(ids(run(['doctor', '.', '--json'], dir).stdout)).toContain('secret-in-context');
    // An unknown id in a pragma is a warning, not an error.
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox@sha256:' + 'a'.repeat(64) + '\n# ctxdiff-ignore no-such-rule\nCOPY . .\n');
    const w = run(['doctor', '.', '--json'], dir);
    expect(w.code).toBe(0);
    expect(w.stderr).toContain('ctxdiff: warning: Dockerfile:2: ctxdiff-ignore names an unknown rule "no-such-rule"');
    expect(JSON.parse(w.stdout).warnings).toContain('Dockerfile:2: ctxdiff-ignore names an unknown rule "no-such-rule"');
  });

  it('pragmas: stacked comments cover the next line; one at the end of an ignore file covers the file', () => {
    const p = pragmasOf('# ctxdiff-ignore a\n# ctxdiff-ignore b c\nline\n\n# ctxdiff-ignore d\n');
    expect([...p.byLine.get(3)!.ids].sort()).toEqual(['a', 'b', 'c']);
    expect(p.byLine.get(3)!.at).toBe(1);
    expect([...p.wholeFile.keys()]).toEqual(['d']);
  });

  it('suppresses in snapshot contexts too (the texts come from the snapshot)', () => {
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox@sha256:' + 'a'.repeat(64) + '\nWORKDIR /app\n# ctxdiff-ignore secret-in-context\nCOPY . .\n');
    const snap = path.join(tmp, `s${n}.ctxsnap`);
    expect(run(['snapshot', '.', '-o', snap], dir).code).toBe(0);
    const r = run(['doctor', snap, '--json'], dir);
    expect(ids(r.stdout)).not.toContain('secret-in-context');
  });
});
