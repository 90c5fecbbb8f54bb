/** Build definitions (docker-bake.json, compose.yaml) and the CLI flags that read them and record invocations. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBake, readCompose } from '../src/sources/build-file.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/ctxdiff.js');
let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-buildfile-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const put = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
  fs.writeFileSync(path.join(tmp, rel), text);
};
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8' });

describe('docker-bake.json', () => {
  it('resolves a target with inherits: context from the working directory, Dockerfile from the context', () => {
    put('docker-bake.json', JSON.stringify({
      target: {
        base: { args: { A: '1', B: 'b' }, contexts: { lib: 'shared' } },
        app: { inherits: ['base'], context: 'app', dockerfile: 'build/Dockerfile', args: { A: '2' }, target: 'prod', contexts: { img: 'docker-image://alpine' } },
      },
    }));
    const d = readBake('app', undefined, tmp);
    expect(d).toMatchObject({
      context: path.join(tmp, 'app'),
      dockerfile: path.join(tmp, 'app/build/Dockerfile'),
      buildArgs: { A: '2', B: 'b' },
      target: 'prod',
      contexts: { lib: path.join(tmp, 'shared'), img: 'docker-image://alpine' },
    });
  });

  it('HCL files are not read, with the command that gives the JSON form', () => {
    put('docker-bake.hcl', 'target "app" {}\n');
    expect(() => readBake('app', undefined, tmp)).toThrow(/docker buildx bake --print app > docker-bake.json/);
  });
});

describe('compose.yaml', () => {
  it('reads build: context, dockerfile, args (list or map), target and additional_contexts relative to the file', () => {
    put('deploy/compose.yaml', [
      'services:',
      '  api:',
      '    build:',
      '      context: ../api',
      '      dockerfile: Dockerfile.prod',
      '      target: runtime',
      '      args:',
      '        - V=1',
      '        - FROM_ENV',
      '      additional_contexts:',
      '        shared: ../shared',
      '  web:',
      '    build: ../web',
      '',
    ].join('\n'));
    const file = path.join(tmp, 'deploy/compose.yaml');
    expect(readCompose('api', file)).toMatchObject({
      context: path.join(tmp, 'api'), dockerfile: path.join(tmp, 'api/Dockerfile.prod'), target: 'runtime',
      buildArgs: { V: '1' }, contexts: { shared: path.join(tmp, 'shared') },
    });
    expect(readCompose('web', file)).toMatchObject({ context: path.join(tmp, 'web'), dockerfile: path.join(tmp, 'web/Dockerfile') });
    expect(() => readCompose('db', file)).toThrow(/no service "db" \(services: api, web\)/);
  });
});

describe('CLI: a snapshot taken with one build\'s args, diffed with the next build\'s', () => {
  it('records the args (secret-looking ones hashed) and judges each side with its own', () => {
    put('ctx/Dockerfile', 'FROM scratch\nARG V=1\nARG NPM_TOKEN\nCOPY a /a\nRUN true\n');
    put('ctx/a', 'a');
    const snap = cli(['snapshot', 'ctx', '-o', 'before.ctxsnap', '--build-arg', 'V=1', '--build-arg', 'NPM_TOKEN=hunter2']);
    expect(snap.status, snap.stderr).toBe(0);
    const same = cli(['diff', 'before.ctxsnap', 'ctx', '--json', '--build-arg', 'V=1', '--build-arg', 'NPM_TOKEN=hunter2']);
    expect(JSON.parse(same.stdout).summary.rebuilt).toBe(0);
    const r = cli(['diff', 'before.ctxsnap', 'ctx', '--build-arg', 'V=2', '--build-arg', 'NPM_TOKEN=hunter3']);
    expect(r.stdout).toMatch(/RUN true\s+REBUILT\s+build arg V changed: 1 → 2 \(line 2\)/);
    const secret = cli(['diff', 'before.ctxsnap', 'ctx', '--json', '--build-arg', 'V=1', '--build-arg', 'NPM_TOKEN=hunter3']);
    const step = JSON.parse(secret.stdout).steps.find((s: { line: number }) => s.line === 5);
    expect(step).toMatchObject({ verdict: 'rebuilt', cause: 'build-arg', note: 'build arg NPM_TOKEN changed' });
    expect(secret.stdout).not.toMatch(/hunter/);
  });

  it('--compose SERVICE gives the second side and its args', () => {
    put('app/Dockerfile', 'FROM scratch\nARG V\nCOPY a /a\nRUN true\n');
    put('app/a', 'a');
    put('compose.yaml', 'services:\n  app:\n    build:\n      context: app\n      args: { V: "1" }\n');
    expect(cli(['snapshot', '--compose', 'app', '-o', 's.ctxsnap']).status).toBe(0);
    put('compose.yaml', 'services:\n  app:\n    build:\n      context: app\n      args: { V: "2" }\n');
    const r = JSON.parse(cli(['diff', 's.ctxsnap', '--compose', 'app', '--json']).stdout);
    expect(r.steps.map((s: { line: number; cause: string }) => `${s.line}:${s.cause}`)).toEqual(['3:none', '4:build-arg']);
  });

  it('--build-context: the named context is recorded in the snapshot (with its own ignore file) and judged', () => {
    put('ctx/Dockerfile', 'FROM scratch\nCOPY --from=shared lib /lib\nCOPY a /a\n');
    put('ctx/a', 'a');
    put('shared/lib/x', 'x');
    put('shared/lib/x.log', 'log');
    put('shared/.dockerignore', '**/*.log\n');
    expect(cli(['snapshot', 'ctx', '-o', 's.ctxsnap', '--build-context', 'shared=shared']).status).toBe(0);
    put('shared/lib/x.log', 'more log');
    const same = JSON.parse(cli(['diff', 's.ctxsnap', 'ctx', '--json', '--build-context', 'shared=shared']).stdout);
    expect(same.summary.rebuilt).toBe(0);
    put('shared/lib/x', 'X');
    // The snapshot side uses what it recorded; the directory side the context given now.
    const r = JSON.parse(cli(['diff', 's.ctxsnap', 'ctx', '--json', '--build-context', 'shared=shared']).stdout);
    expect(r.steps.map((s: { line: number; cause: string }) => `${s.line}:${s.cause}`)).toEqual(['2:named-context', '3:previous-step']);
    expect(r.steps[0].changes.map((c: { context: string; path: string }) => `${c.context}:${c.path}`)).toEqual(['shared:lib/x']);
  });
});

