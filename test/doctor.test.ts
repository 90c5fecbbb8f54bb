/**
 * `doctor` on fixture repos: each finding with its place and fix, and each fix, once applied, makes its
 * finding go away.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { atLeast, diagnoseDirectory, isArchive, type DoctorReport, type Finding } from '../src/analysis/doctor.js';
import type { FixtureSpec } from './support/fixture.js';
import { projectCopies } from './support/projects.js';
import { getProfile } from '../src/builders/profiles.js';

const project = projectCopies('ctxdiff-doctor-');

const ids = (r: DoctorReport) => r.findings.map((f) => f.id);
const find = (r: DoctorReport, id: string): Finding => {
  const f = r.findings.find((x) => x.id === id);
  if (!f) throw new Error(`no ${id} finding in ${JSON.stringify(ids(r))}`);
  return f;
};

/** Apply an "add to <ignore file>:" fix: append its lines to the ignore file. */
function applyIgnoreFix(dir: string, f: Finding): void {
  const [head, ...lines] = f.fix.split('\n');
  const file = /^add to ([^\s:]+)/.exec(head!)![1]!;
  fs.appendFileSync(path.join(dir, file), lines.join('\n') + '\n');
}

/** Replace lines `from`..`to` (1-based, inclusive) of a file with `lines`. */
function replaceLines(file: string, from: number, to: number, lines: string[]): void {
  const all = fs.readFileSync(file, 'utf8').split('\n');
  all.splice(from - 1, to - from + 1, ...lines);
  fs.writeFileSync(file, all.join('\n'));
}

describe('doctor on a Node app', () => {
  const extra: FixtureSpec = {
    '.git/HEAD': { content: 'ref: refs/heads/main\n' },
    '.git/objects/ab/cdef': { content: 'x' },
    'node_modules/express/index.js': { content: 'x' },
    'coverage/lcov.info': { content: 'TN:\n' },
    'logs/app.log': { content: 'started\n' },
    'src/debug.log': { content: 'x' },
    'dist/main.js': { content: 'built' },
  };

  it('finds each risk, with file, line, severity and fix', async () => {
    const dir = await project('node-app', extra);
    const r = await diagnoseDirectory(dir);
    expect(r).toMatchObject({ builder: 'buildkit', dockerfile: 'Dockerfile', ignoreFile: '.dockerignore' });
    expect(ids(r).sort()).toEqual(
      [
        'base-image-moving-tag',
        'build-files-in-copy',
        'cache-mount-missing',
        'build-output-in-context',
        'copy-before-install',
        'coverage-in-context',
        'ignore-rule-matches-nothing',
        'logs-in-context',
        'secret-in-context',
        'vcs-metadata-in-context',
        'volatile-build-value',
      ].sort(),
    );
    // Ordered by severity.
    expect(r.findings[0]).toMatchObject({ id: 'secret-in-context', severity: 'error', file: 'Dockerfile', line: 5, paths: ['.env'] });
    expect(find(r, 'vcs-metadata-in-context')).toMatchObject({ severity: 'warning', line: 5, paths: ['.git'], fix: 'add to .dockerignore:\n.git' });
    expect(find(r, 'coverage-in-context')).toMatchObject({ severity: 'warning', paths: ['coverage'] });
    expect(find(r, 'logs-in-context')).toMatchObject({ paths: ['logs/app.log', 'src/debug.log'], fix: 'add to .dockerignore:\n**/*.log' });
    expect(find(r, 'build-output-in-context')).toMatchObject({ severity: 'info', paths: ['dist'] });
    expect(find(r, 'copy-before-install')).toMatchObject({
      severity: 'warning',
      file: 'Dockerfile',
      line: 5,
      fix: 'COPY package.json package-lock.json ./\nRUN npm ci --omit=dev\nCOPY . .',
    });
    expect(find(r, 'base-image-moving-tag')).toMatchObject({ severity: 'info', line: 1, fix: expect.stringContaining('FROM node:20-alpine@sha256:<digest>') });
    expect(find(r, 'cache-mount-missing')).toMatchObject({ severity: 'info', line: 6, fix: 'RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev' });
    expect(find(r, 'volatile-build-value')).toMatchObject({ line: 2 });
    expect(find(r, 'volatile-build-value').fix).toContain('just above line 7');
    expect(find(r, 'build-files-in-copy')).toMatchObject({ line: 5, paths: ['Dockerfile', '.dockerignore'] });
    // node_modules and npm-debug.log are ignored: protective rules are not "unused"; the stray exception is.
    expect(r.findings.filter((f) => f.id === 'ignore-rule-matches-nothing').map((f) => [f.file, f.line])).toEqual([['.dockerignore', 5]]);
    expect(ids(r)).not.toContain('dependencies-in-context');
  });

  it('applying the fixes makes the findings go away', async () => {
    const dir = await project('node-app', extra);
    const before = await diagnoseDirectory(dir);
    for (const id of ['secret-in-context', 'vcs-metadata-in-context', 'coverage-in-context', 'logs-in-context', 'build-output-in-context', 'build-files-in-copy']) {
      applyIgnoreFix(dir, find(before, id));
    }
    const df = path.join(dir, 'Dockerfile');
    replaceLines(df, 5, 6, find(before, 'copy-before-install').fix.split('\n'));
    // Move `ARG GIT_SHA` (line 2) to just above its first use, as the fix says.
    const lines = fs.readFileSync(df, 'utf8').split('\n');
    const arg = lines.splice(1, 1)[0]!;
    lines.splice(lines.findIndex((l) => l.startsWith('LABEL')), 0, arg);
    fs.writeFileSync(df, lines.join('\n'));
    // The one-line fixes, each on the line the finding names after the edits above.
    for (const id of ['cache-mount-missing', 'base-image-moving-tag']) {
      const f = find(await diagnoseDirectory(dir), id);
      replaceLines(df, f.line!, f.line!, f.fix.replace('<digest>', 'a'.repeat(64)).split('\n'));
    }
    const after = await diagnoseDirectory(dir);

    expect(ids(after)).toEqual(['ignore-rule-matches-nothing']);
  });
});

describe('doctor on a Python app', () => {
  it('finds caches, the COPY before pip install, and ADD of a plain file (not of an archive)', async () => {
    const dir = await project('python-app', {
      'app/__pycache__/main.cpython-312.pyc': { content: 'x' },
      '.env.example': { content: 'DATABASE_URL=\n' },
    });
    fs.writeFileSync(path.join(dir, 'vendor.tar.gz'), zlib.gzipSync(Buffer.from('not really a tar')));
    fs.appendFileSync(path.join(dir, 'Dockerfile'), 'ADD vendor.tar.gz /opt/\n');
    const r = await diagnoseDirectory(dir);
    expect(find(r, 'cache-in-context')).toMatchObject({ severity: 'warning', line: 3, paths: ['app/__pycache__'], fix: 'add to .dockerignore:\n**/__pycache__' });
    expect(find(r, 'copy-before-install')).toMatchObject({
      line: 3,
      fix: 'COPY requirements.txt /srv/\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . /srv',
    });
    const add = r.findings.filter((f) => f.id === 'add-local-file');
    expect(add).toHaveLength(1);
    expect(add[0]).toMatchObject({ line: 5, fix: 'COPY config/settings.ini /srv/config/' });
    expect(ids(r)).not.toContain('secret-in-context'); // .env.example is a template
    // The *.pyc rule matches the .pyc file below __pycache__, so it is not reported as unused.
    expect(ids(r)).not.toContain('ignore-rule-matches-nothing');
  });
});

describe('doctor on a careful Go app', () => {
  it('has nothing to say', async () => {
    const dir = await project('go-app', { '.git/HEAD': { content: 'ref: refs/heads/main\n' } });
    const r = await diagnoseDirectory(dir);
    expect(r.findings).toEqual([]);
  });
});

describe('doctor in a monorepo', () => {
  it('reports a Dockerfile-specific ignore file that replaces .dockerignore, per builder', async () => {
    const dir = await project('monorepo', { '.git/HEAD': { content: 'x' } });
    const df = path.join(dir, 'services/api/Dockerfile');
    const r = await diagnoseDirectory(dir, { dockerfile: df });
    expect(find(r, 'ignore-file-shadowed')).toMatchObject({ severity: 'warning', file: 'services/api/Dockerfile.dockerignore' });
    expect(find(r, 'ignore-file-shadowed').message).toContain('.dockerignore');
    expect(find(r, 'ignore-file-differs-by-builder').message).toContain('classic reads .dockerignore');
    expect(ids(r)).not.toContain('copy-before-install'); // manifests are copied first
    const classic = await diagnoseDirectory(dir, { profile: getProfile('classic'), dockerfile: df });
    expect(ids(classic)).not.toContain('ignore-file-shadowed');
    expect(find(classic, 'ignore-file-differs-by-builder').message).toContain('buildkit reads services/api/Dockerfile.dockerignore');
  });

  it('keeps the COPY flags in the reordered lines', async () => {
    const dir = await project('monorepo');
    const r = await diagnoseDirectory(dir, { dockerfile: path.join(dir, 'services/web/Dockerfile') });
    expect(find(r, 'copy-before-install')).toMatchObject({
      file: 'services/web/Dockerfile',
      line: 3,
      fix: 'COPY --chown=node:node services/web/package.json /app/\nRUN npm install\nCOPY --chown=node:node services/web /app',
    });
    expect(find(r, 'build-files-in-copy')).toMatchObject({ paths: ['services/web/Dockerfile'] });
  });
});

describe('doctor checks on small contexts', () => {
  it('go build after COPY . . gets go mod download on the manifests first', async () => {
    const spec: FixtureSpec = {
      'go.mod': { content: 'module x\n' },
      'go.sum': { content: '' },
      'main.go': { content: 'package main\n' },
    };
    const naive = await project(null, { ...spec, Dockerfile: { content: 'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\n' } });
    expect(find(await diagnoseDirectory(naive), 'copy-before-install')).toMatchObject({
      line: 3,
      fix: 'COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build -o /app .',
    });
    const careful = await project(null, {
      ...spec,
      Dockerfile: { content: 'FROM golang:1.22\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build -o /app .\n' },
    });
    expect(ids(await diagnoseDirectory(careful))).not.toContain('copy-before-install');
  });

  it('keeps metadata above the install and moves other steps below the full COPY', async () => {
    const dir = await project(null, {
      Dockerfile: { content: 'FROM node:20\nCOPY . /app/\nENV CI=1\nRUN chmod +x /app/run.sh\nRUN npm ci\n' },
      'package.json': { content: '{}' },
      'run.sh': { content: '#!/bin/sh\n' },
    });
    expect(find(await diagnoseDirectory(dir), 'copy-before-install').fix).toBe(
      'COPY package.json /app/\nENV CI=1\nRUN npm ci\nCOPY . /app/\nRUN chmod +x /app/run.sh',
    );
  });


  it('takes dist/ and build/ for build output only beside a project manifest', async () => {
    const dir = await project(null, {
      Dockerfile: { content: 'FROM scratch\nCOPY . /src\n' },
      'go.mod': { content: 'module x\n' },
      'internal/build/build.go': { content: 'package build\n' },
      'web/package.json': { content: '{}' },
      'web/dist/app.js': { content: 'x' },
    });
    expect(find(await diagnoseDirectory(dir), 'build-output-in-context')).toMatchObject({ paths: ['web/dist'], fix: 'add to .dockerignore:\n**/dist' });
  });

  it('suggests **/ for a rule anchored at the root that matches deeper', async () => {
    const dir = await project(null, {
      Dockerfile: { content: 'FROM scratch\nCOPY src /src\n' },
      '.dockerignore': { content: 'tmp\nnothing-here\n' },
      'src/tmp/x': { content: 'x' },
    });
    const r = await diagnoseDirectory(dir);
    const unused = r.findings.filter((f) => f.id === 'ignore-rule-matches-nothing');
    expect(unused.map((f) => f.line)).toEqual([1, 2]);
    expect(unused[0]!.fix).toContain('`**/tmp`');
    expect(unused[1]!.fix).toMatch(/^remove the line/);
  });

  it('counts the RUN steps below a per-build ARG, and every later step below such an ENV where any step chains', async () => {
    const dir = await project(null, {
      Dockerfile: { content: 'FROM scratch\nARG BUILD_DATE\nCOPY a /a\nRUN true\nLABEL built=$BUILD_DATE\n' },
      a: { content: 'a' },
    });
    for (const builder of ['buildkit', 'classic']) {
      expect(find(await diagnoseDirectory(dir, { profile: getProfile(builder) }), 'volatile-build-value').message).toContain('1 RUN step (from line 4)');
    }
    const env = await project(null, {
      Dockerfile: { content: 'FROM scratch\nARG GIT_SHA\nENV APP_REVISION=$GIT_SHA\nCOPY a /a\nRUN true\n' },
      a: { content: 'a' },
    });
    // The ARG's first use is the ENV right below it: the ENV is what to move.
    const bk = (await diagnoseDirectory(env)).findings.filter((f) => f.id === 'volatile-build-value');
    expect(bk.map((f) => [f.line, /\d+ (RUN )?steps? \(from line \d+\)/.exec(f.message)![0]])).toEqual([[3, '1 RUN step (from line 5)']]);
    const classic = (await diagnoseDirectory(env, { profile: getProfile('classic') })).findings.filter((f) => f.id === 'volatile-build-value');
    expect(classic.map((f) => [f.line, /\d+ (RUN )?steps? \(from line \d+\)/.exec(f.message)![0]])).toEqual([[3, '2 steps (from line 4)']]);
  });

  it('says nothing about a per-build ARG declared where it is used', async () => {
    const dir = await project(null, { Dockerfile: { content: 'FROM scratch\nRUN true\nARG GIT_SHA\nLABEL rev=$GIT_SHA\n' } });
    expect(ids(await diagnoseDirectory(dir))).not.toContain('volatile-build-value');
  });

  it('flags ADD of a directory, not ADD of a tar file or a URL', async () => {
    const tarHeader = Buffer.alloc(512);
    tarHeader.write('file.txt', 0);
    tarHeader.write('ustar', 257);
    const dir = await project(null, {
      Dockerfile: { content: 'FROM scratch\nADD conf /conf\nADD rootfs.tar /\nADD https://example.com/x.tgz /x\n' },
      'conf/a.ini': { content: 'a' },
    });
    fs.writeFileSync(path.join(dir, 'rootfs.tar'), tarHeader);
    const r = await diagnoseDirectory(dir);
    expect(r.findings.filter((f) => f.id === 'add-local-file').map((f) => [f.line, f.fix])).toEqual([[2, 'COPY conf /conf']]);
  });
});

describe('helpers', () => {
  it('isArchive recognises tar, gzip, bzip2, xz and zstd, and nothing else', () => {
    const tar = Buffer.alloc(512);
    tar.write('ustar', 257);
    expect(isArchive(tar)).toBe(true);
    expect(isArchive(zlib.gzipSync('x'))).toBe(true);
    expect(isArchive(Buffer.from('BZh91AY'))).toBe(true);
    expect(isArchive(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1]))).toBe(true);
    expect(isArchive(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]))).toBe(true);
    expect(isArchive(Buffer.from('[server]\nport = 8000\n'))).toBe(false);
  });

  it('atLeast orders severities', () => {
    expect(atLeast('error', 'warning')).toBe(true);
    expect(atLeast('warning', 'warning')).toBe(true);
    expect(atLeast('info', 'warning')).toBe(false);
  });
});
