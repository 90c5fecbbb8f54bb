/**
 * CI-grade reports of the built CLI on real directories: JSON validated against the schemas shipped in
 * schemas/ (ajv), SARIF against the official SARIF 2.1.0 schema, GitHub workflow commands, GitLab Code
 * Quality, Markdown that keeps `|` and backticks literal and folds long lists, plurals, text groups of one
 * path, warnings in JSON, formats per command in --help, FORCE_COLOR/NO_COLOR.
 */
import fs from 'node:fs';
import { getProfile } from '../src/builders/profiles.js';
import { walkContext } from '../src/context/walk.js';
import { writeSnapshot } from '../src/snapshot/format.js';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Ajv2020 } from 'ajv/dist/2020.js';
import AjvDraft7 from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materialize } from './support/fixture.js';
import { sarifSchema } from './support/sarif-schema.js';
import { FORMATS_BY_REPORT } from '../src/reporters/formats.js';
import { allReporters } from '../src/reporters/index.js';
import { escapeData, escapeProperty } from '../src/reporters/ci.js';
import { mdCode } from '../src/reporters/md.js';

const addFormats = addFormatsModule as unknown as (ajv: object) => void;
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/ctxdiff.js');
const EXAMPLE = path.join(ROOT, 'fixtures/example');

function run(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...opts.env };
  delete env.FORCE_COLOR;
  if (opts.env?.FORCE_COLOR !== undefined) env.FORCE_COLOR = opts.env.FORCE_COLOR;
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
let before: string;
let after: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-reports-'));
  before = path.join(tmp, 'before');
  after = path.join(tmp, 'after');
  const base = {
    'Dockerfile': { content: 'FROM scratch\nCOPY pkg.json /app/\nCOPY . /app\n' },
    '.dockerignore': { content: '*.log\n' },
    'pkg.json': { content: '{}' },
    'a|b.txt': { content: 'one' },
    'tick`s.txt': { content: 'one' },
    'src/keep.txt': { content: 'k' },
  };
  const many: Record<string, { content: string }> = {};
  for (let i = 0; i < 60; i++) many[`gen/f${String(i).padStart(2, '0')}.txt`] = { content: 'x' };
  fs.mkdirSync(before);
  fs.mkdirSync(after);
  await materialize(base, before);
  await materialize(
    {
      ...base,
      'a|b.txt': { content: 'two!' },
      'tick`s.txt': { content: 'two!' },
      '.env': { content: 'SECRET=1\n' },
      ...many,
    },
    after,
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------------

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const schemaFiles = fs.readdirSync(path.join(ROOT, 'schemas')).filter((f) => f.endsWith('.schema.json'));
for (const f of schemaFiles) ajv.addSchema(JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', f), 'utf8')), f);

function valid(schemaFile: string, doc: unknown): void {
  const validate = ajv.getSchema(schemaFile)!;
  expect(validate, schemaFile).toBeDefined();
  const ok = validate(doc);
  expect(ok ? [] : validate.errors, schemaFile).toEqual([]);
}

describe('JSON output and its schemas (schemas/*.schema.json)', () => {
  it('has one schema per command with JSON output, and each is valid JSON Schema', () => {
    const withJson = Object.entries(FORMATS_BY_REPORT).filter(([, f]) => f.includes('json')).map(([k]) => `${k}.schema.json`).sort();
    expect(schemaFiles.sort()).toEqual(withJson);
  });

  it('validates the real output of every command', () => {
    const snap = path.join(tmp, 'before.ctxsnap');
    const cases: [string, string[]][] = [
      ['ls', ['ls', after, '--json']],
      ['snapshot', ['snapshot', before, '-o', snap, '--json']],
      ['tree', ['tree', after, '--json', '--depth', '1']],
      ['tree', ['tree', after, '--json', '--digest', 'buildkit']],
      ['diff', ['diff', before, after, '--json']],
      ['diff', ['diff', snap, after, '--json', '--all']],
      ['diff', ['diff', path.join(EXAMPLE, 'ci-run-41'), path.join(EXAMPLE, 'ci-run-42'), '--json', '--builder', 'classic']],
      ['why', ['why', '-C', after, '.env', 'x.log', 'gen/f01.txt', '--json']],
      ['du', ['du', after, '--json']],
      ['doctor', ['doctor', after, '--json']],
      ['doctor', ['doctor', path.join(EXAMPLE, 'ci-run-42'), '--json']],
    ];
    for (const builder of ['classic', 'buildkit-0.8', 'buildah']) {
      const d = path.join(ROOT, 'fixtures/buildlogs', builder);
      cases.push(['explain', ['explain', path.join(d, '03-pruned.log'), path.join(d, '04-base-changed.log'), '--since', path.join(d, '03-pruned.ctxsnap'), '--context', path.join(d, '04-base-changed.ctxsnap'), '--json']]);
      cases.push(['explain', ['explain', path.join(d, '02-changed.log'), '-f', path.join(ROOT, 'fixtures/buildlogs/Dockerfile'), '--context', path.join(d, '02-changed.ctxsnap'), '--json']]);
    }
    for (const [kind, args] of cases) {
      const r = run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      valid(`${kind}.schema.json`, JSON.parse(r.stdout));
    }
  });

  it('puts every warning printed on stderr into `warnings` too', async () => {
    // What an older ctxdiff wrote: a Buildah snapshot without the other builders' walks, read under BuildKit.
    const snap = path.join(tmp, 'buildah-old.ctxsnap');
    await writeSnapshot(snap, await walkContext(before, { profile: getProfile('buildah'), xattrs: true }));
    const r = run(['diff', snap, after, '--json']);
    expect(r.code).toBe(0);
    const printed = [...r.stderr.matchAll(/^ctxdiff: warning: (.*)$/gm)].map((m) => m[1]);
    expect(printed.length).toBeGreaterThan(0);
    const doc = JSON.parse(r.stdout);
    for (const w of printed) expect(doc.warnings).toContain(w);
    valid('diff.schema.json', doc);
    const tree = run(['tree', snap, '--json']);
    expect(JSON.parse(tree.stdout).warnings.length).toBeGreaterThan(0);
  });
});

describe('snapshot inside its context', () => {
  it('warns with the one-line fix unless the ignore file excludes it', () => {
    const dir = path.join(tmp, 'inside');
    fs.cpSync(before, dir, { recursive: true });
    fs.mkdirSync(path.join(dir, 'snaps'));
    const r = run(['snapshot', dir, '-o', path.join(dir, 'snaps/s.ctxsnap'), '--json']);
    expect(r.code).toBe(0);
    const w = 'add the line snaps/s.ctxsnap to .dockerignore';
    expect(r.stderr).toContain(w);
    expect(JSON.parse(r.stdout).warnings.join('\n')).toContain(w);
    fs.appendFileSync(path.join(dir, '.dockerignore'), 'snaps\n');
    expect(run(['snapshot', dir, '-o', path.join(dir, 'snaps/s.ctxsnap')]).stderr).toBe('');
    expect(run(['snapshot', dir, '-o', path.join(tmp, 'outside.ctxsnap')]).stderr).toBe('');
  });
});

describe('SARIF 2.1.0', () => {
  const got = sarifSchema();
  const unavailable = 'unavailable' in got ? got.unavailable : null;
  if (unavailable && process.env.CI !== 'true') console.warn(`SARIF schema tests skipped: ${unavailable}`);

  it.skipIf(unavailable !== null && process.env.CI !== 'true')('doctor and diff validate against the official schema', () => {
    expect(unavailable).toBeNull();
    const draft7 = new AjvDraft7.default({ allErrors: true, strict: false });
    addFormats(draft7);
    const validate = draft7.compile((got as { schema: object }).schema);
    for (const args of [
      ['doctor', after, '--format', 'sarif'],
      ['doctor', path.join(EXAMPLE, 'ci-run-42'), '--format', 'sarif'],
      ['diff', before, after, '--format', 'sarif'],
      ['diff', path.join(EXAMPLE, 'ci-run-41'), path.join(EXAMPLE, 'ci-run-42'), '--format', 'sarif'],
    ]) {
      const r = run(args);
      expect(r.code, r.stderr).toBe(0);
      const log = JSON.parse(r.stdout);
      expect(validate(log) ? [] : validate.errors, args.join(' ')).toEqual([]);
      expect(log.runs[0].results.length).toBeGreaterThan(0);
    }
  });

  it('names rules and places results on the files as seen from the current directory', () => {
    const r = run(['doctor', 'fixtures/example/ci-run-42', '--format', 'sarif']);
    const run0 = JSON.parse(r.stdout).runs[0];
    const ids = run0.tool.driver.rules.map((x: { id: string }) => x.id);
    expect(ids).toContain('secret-in-context');
    const secret = run0.results.find((x: { ruleId: string }) => x.ruleId === 'secret-in-context');
    expect(secret.level).toBe('error');
    expect(run0.tool.driver.rules[secret.ruleIndex].id).toBe('secret-in-context');
    expect(secret.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'fixtures/example/ci-run-42/Dockerfile' }, region: { startLine: 6 } });
    // From inside the context the same file is just Dockerfile.
    const inside = JSON.parse(run(['doctor', '.', '--format', 'sarif'], { cwd: path.join(EXAMPLE, 'ci-run-42') }).stdout);
    expect(inside.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('Dockerfile');
  });
});

describe('GitHub workflow commands and GitLab Code Quality', () => {
  it('diff annotates each rebuilt line of the Dockerfile', () => {
    const r = run(['diff', 'fixtures/example/ci-run-41', 'fixtures/example/ci-run-42', '--format', 'github']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(/^::(warning|notice|error) file=[^,:]+,line=\d+,title=[^:]*::\S/);
    expect(lines[0]).toMatch(/^::warning file=fixtures\/example\/ci-run-42\/Dockerfile,line=6,title=ctxdiff%3A COPY \. \. is rebuilt::/);
    expect(lines.some((l) => l.includes('line=7'))).toBe(true);
  });

  it('doctor annotates findings by severity; escaping follows the runner', () => {
    const r = run(['doctor', after, '--format', 'github']);
    expect(r.stdout).toMatch(/^::error file=[^\n]*Dockerfile,line=3,title=ctxdiff doctor%3A [^\n]*::\.env is sent/m);
    expect(r.stdout.split('\n').filter(Boolean).every((l) => l.startsWith('::'))).toBe(true);
    expect(escapeData('50% a\nb\r')).toBe('50%25 a%0Ab%0D');
    expect(escapeProperty('a,b:c%')).toBe('a%2Cb%3Ac%25');
  });

  it('doctor --format gitlab is a Code Quality report', () => {
    const r = run(['doctor', after, '--format', 'gitlab']);
    const issues = JSON.parse(r.stdout) as { description: string; check_name: string; fingerprint: string; severity: string; location: { path: string; lines: { begin: number } } }[];
    expect(issues.length).toBeGreaterThan(0);
    for (const i of issues) {
      expect(typeof i.description).toBe('string');
      expect(['info', 'minor', 'major', 'critical', 'blocker']).toContain(i.severity);
      expect(i.location.lines.begin).toBeGreaterThanOrEqual(1);
      expect(fs.existsSync(path.resolve(ROOT, i.location.path)) || i.location.path.endsWith('.dockerignore')).toBe(true);
    }
    expect(new Set(issues.map((i) => i.fingerprint)).size).toBe(issues.length);
    expect(issues.find((i) => i.check_name === 'secret-in-context')?.severity).toBe('critical');
  });

  it('refuses a format a command does not have, and --help offers only the ones it has', () => {
    expect(run(['diff', before, after, '--format', 'gitlab']).code).toBe(2);
    expect(run(['ls', before, '--format', 'markdown']).code).toBe(2);
    const offered = (cmd: string) =>
      /--format <format>[^(]*\(choices: ([^)]*)\)/.exec(run([cmd, '--help']).stdout)![1]!.replace(/["\s]/g, '').split(',');
    for (const [cmd, formats] of Object.entries(FORMATS_BY_REPORT)) expect(offered(cmd), cmd).toEqual(formats);
  });

  it('the table of formats per command is what the reporters really render', async () => {
    const reporters = await allReporters();
    for (const [kind, formats] of Object.entries(FORMATS_BY_REPORT)) {
      const have = Object.entries(reporters).filter(([, rep]) => (rep as Record<string, unknown>)[kind]).map(([f]) => f);
      expect(have.sort(), kind).toEqual([...formats].sort());
    }
  });
});

describe('Markdown', () => {
  /** Cells of a table row: split on `|` not preceded by a backslash. */
  const cells = (row: string) => row.replace(/^\||\|$/g, '').split(/(?<!\\)\|/);

  it('keeps `|` and backticks in paths literal, one cell each', () => {
    const r = run(['diff', before, after, '--format', 'markdown']);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('| '));
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows) expect(cells(row).length, row).toBe(5);
    expect(r.stdout).toContain('`a\\|b.txt`');
    expect(r.stdout).toContain('``tick`s.txt``');
    expect(mdCode('`x`')).toBe('`` `x` ``');
    expect(mdCode('a|b', false)).toBe('`a|b`');
  });

  it('folds a long list of paths under <details>, with correct plurals', () => {
    const r = run(['diff', before, after, '--format', 'markdown']);
    const changed = JSON.parse(run(['diff', before, after, '--json']).stdout).steps.find((x: { line: number }) => x.line === 3).changes.length;
    expect(changed).toBeGreaterThan(60);
    expect(r.stdout).toContain(`<details>\n<summary>line 3 \`COPY . /app\`: ${changed} changed paths</summary>`);
    const block = r.stdout.slice(r.stdout.indexOf('<details>'), r.stdout.indexOf('</details>'));
    for (let i = 0; i < 60; i++) expect(block).toContain(`\`gen/f${String(i).padStart(2, '0')}.txt\``);
    expect(r.stdout).toContain(`and ${changed - 5} more paths (listed below)`);
    expect(r.stdout).not.toMatch(/\b1 paths\b/);
    const one = run(['diff', path.join(EXAMPLE, 'ci-run-41'), path.join(EXAMPLE, 'ci-run-41'), '--format', 'markdown']);
    expect(one.stdout).toContain('0 paths differ');
  });

  it('why, du, tree and doctor escape paths too', () => {
    const why = run(['why', '-C', after, 'a|b.txt', '--format', 'markdown']);
    for (const row of why.stdout.split('\n').filter((l) => l.startsWith('| '))) expect(cells(row).length).toBe(4);
    const tree = run(['tree', after, '--format', 'markdown']);
    for (const row of tree.stdout.split('\n').filter((l) => l.startsWith('| '))) expect(cells(row).length).toBe(4);
    const du = run(['du', after, '--format', 'markdown']);
    expect(du.stdout).not.toMatch(/[^\\]\|b\.txt/);
  });
});

describe('text', () => {
  it('names the path of a group of one, and counts in words that agree', () => {
    const r = run(['diff', before, after]);
    expect(r.code).toBe(0);
    // The top level holds .env, gen, a|b.txt and tick`s.txt: a group; gen/ holds 60 files.
    expect(r.stdout).toMatch(/^ {6}gen\/ +60 paths: added 60$/m);
    expect(r.stdout).toMatch(/^ {6}\(top level\) +4 paths: (added 2, content 2|content 2, added 2)$/m);
    expect(r.stdout).not.toMatch(/\b1 paths\b/);
    // One new top-level file among many in a directory: the group of one names it.
    const single = path.join(tmp, 'single');
    fs.cpSync(before, single, { recursive: true });
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(single, `src/n${i}.txt`), 'n');
    fs.writeFileSync(path.join(single, '.env'), 'X=1');
    const s = run(['diff', before, single]);
    expect(s.stdout).toMatch(/^ {6}\.env +added \(file\)$/m);
    expect(s.stdout).toMatch(/^ {6}src\/ +20 paths: added 20$/m);
  });

  it('colours by FORCE_COLOR and NO_COLOR, whatever stdout is', () => {
    const esc = /\x1b\[/;
    expect(run(['diff', before, after], { env: { FORCE_COLOR: '1', NO_COLOR: '' } }).stdout).toMatch(esc);
    expect(run(['diff', before, after], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout).toMatch(esc);
    expect(run(['diff', before, after], { env: { FORCE_COLOR: '0', NO_COLOR: '' } }).stdout).not.toMatch(esc);
    expect(run(['diff', before, after], { env: { FORCE_COLOR: 'false', NO_COLOR: '' } }).stdout).not.toMatch(esc);
    expect(run(['diff', before, after], { env: { NO_COLOR: '1' } }).stdout).not.toMatch(esc);
    // JSON is never coloured.
    expect(run(['diff', before, after, '--json'], { env: { FORCE_COLOR: '1' } }).stdout).not.toMatch(esc);
  });
});

describe('--output FILE', () => {
  it('writes the report of any format to the file, uncoloured, and prints nothing on stdout', () => {
    const file = path.join(tmp, 'out', 'diff.md');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const r = run(['diff', before, after, '--format', 'markdown', '--output', file], { env: { FORCE_COLOR: '1' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const written = fs.readFileSync(file, 'utf8');
    expect(written).toBe(run(['diff', before, after, '--format', 'markdown']).stdout);
    expect(written).not.toContain('\x1b[');
    const json = path.join(tmp, 'out', 'ls.json');
    expect(run(['ls', before, '--json', '--output', json]).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(json, 'utf8')).entries.map((e: { path: string }) => e.path)).toContain('pkg.json');
    expect(fs.readdirSync(path.dirname(file)).sort()).toEqual(['diff.md', 'ls.json']); // no temporary file left
  });

  it('refuses to replace what is not a regular file, and leaves it untouched', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'fifo-'));
    const fifo = path.join(dir, 'report');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = run(['ls', before, '--output', fifo]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`ctxdiff: ${fifo}: not a regular file (a FIFO); refusing to replace it`]);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['report']);
  });
});
