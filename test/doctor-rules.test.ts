/**
 * doctor's rules beyond the context paths: OS packages, cache mounts, base images, remote ADD, ignore files in
 * subdirectories, RUN outputs that never rebuild, and copy-before-install for every ecosystem of the table.
 * Each finding with its place and fix; each fix, once applied, makes its finding go away. And the rule
 * registry: every finding has a documented rule, every profile is classified.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnoseDirectory, featuresOf, RULES, ruleBuilders, type DoctorReport, type Finding } from '../src/analysis/doctor.js';
import { builderIds, getProfile } from '../src/builders/profiles.js';
import { projectCopies } from './support/projects.js';

const project = projectCopies('ctxdiff-doctor-rules-');
const ids = (r: DoctorReport) => r.findings.map((f) => f.id);
const all = (r: DoctorReport, id: string) => r.findings.filter((f) => f.id === id);
const find = (r: DoctorReport, id: string, line?: number): Finding => {
  const f = r.findings.find((x) => x.id === id && (line === undefined || x.line === line));
  if (!f) throw new Error(`no ${id}${line ? ` at line ${line}` : ''} in ${JSON.stringify(r.findings.map((x) => [x.id, x.line]))}`);
  return f;
};
const readLines = (file: string) => fs.readFileSync(file, 'utf8').split('\n');
function replaceLines(file: string, from: number, to: number, lines: string[]): void {
  const all = readLines(file);
  all.splice(from - 1, to - from + 1, ...lines);
  fs.writeFileSync(file, all.join('\n'));
}

describe('doctor on a Debian-based Python app', () => {
  it('finds the classic cache busters, each with its line and fix', async () => {
    const dir = await project('debian-app');
    const r = await diagnoseDirectory(dir);
    expect(ids(r).sort()).toEqual(
      [
        'add-url-unpinned',
        'base-image-moving-tag',
        'cache-mount-missing',
        'cache-mount-missing',
        'copy-before-install',
        'ignore-file-in-subdirectory',
        'package-install-unpinned',
        'package-update-separate',
        'volatile-run-output',
      ].sort(),
    );
    expect(find(r, 'base-image-moving-tag')).toMatchObject({
      severity: 'warning', // the per-build ARG above FROM
      line: 2,
      fix: '# the digest: docker buildx imagetools inspect python:3.12-slim\nFROM python:3.12-slim@sha256:<digest>',
    });
    expect(find(r, 'base-image-moving-tag').message).toContain('BUILD_NUMBER above FROM (line 1)');
    expect(find(r, 'package-update-separate')).toMatchObject({
      severity: 'warning',
      line: 3,
      fix: 'replace line 3 and line 4 with:\nRUN apt-get update && apt-get install -y --no-install-recommends curl libpq5=15.6-0+deb12u1 && rm -rf /var/lib/apt/lists/*',
    });
    expect(find(r, 'package-install-unpinned')).toMatchObject({ severity: 'info', line: 4 });
    expect(find(r, 'package-install-unpinned').fix).toContain('curl=<version>');
    expect(find(r, 'package-install-unpinned').fix).not.toContain('libpq5');
    expect(find(r, 'cache-mount-missing', 4).fix).toBe(
      'RUN rm -f /etc/apt/apt.conf.d/docker-clean\n' +
        'RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt,sharing=locked apt-get install -y --no-install-recommends curl libpq5=15.6-0+deb12u1',
    );
    // --no-cache-dir is dropped: it would make the mount useless.
    expect(find(r, 'cache-mount-missing', 8).fix).toBe('RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt -r requirements-dev.txt');
    expect(find(r, 'add-url-unpinned')).toMatchObject({
      line: 6,
      fix: '# the checksum: curl -fsSL https://example.com/tools/v1.4.2/tool.tar.gz | sha256sum\nADD --checksum=sha256:<sha256> https://example.com/tools/v1.4.2/tool.tar.gz /opt/',
    });
    expect(find(r, 'copy-before-install')).toMatchObject({
      line: 7,
      fix: 'COPY requirements.txt requirements-dev.txt /srv/\nRUN pip install --no-cache-dir -r requirements.txt -r requirements-dev.txt\nCOPY . /srv',
      paths: ['requirements.txt', 'requirements-dev.txt'],
    });
    expect(find(r, 'volatile-run-output')).toMatchObject({ severity: 'warning', line: 9 });
    expect(find(r, 'volatile-run-output').message).toContain('does NOT bust the cache');
    expect(find(r, 'volatile-run-output').fix).toContain('ARG BUILD_DATE');
    expect(find(r, 'ignore-file-in-subdirectory')).toMatchObject({
      severity: 'warning',
      file: 'docs/.dockerignore',
      line: null,
      fix: 'add to .dockerignore (patterns are relative to the context root), then delete docs/.dockerignore:\ndocs/*.md\ndocs/drafts\n!docs/keep.md',
    });
  });

  it('applying the fixes makes the findings go away', async () => {
    const dir = await project('debian-app');
    const df = path.join(dir, 'Dockerfile');
    const r = await diagnoseDirectory(dir);
    // Bottom up, so that the line numbers of the findings above stay valid.
    replaceLines(df, 9, 9, ['ARG BUILD_DATE', 'RUN echo "build $BUILD_NUMBER at $BUILD_DATE" > /srv/BUILD_INFO']);
    replaceLines(df, 7, 8, find(r, 'copy-before-install').fix.split('\n'));
    replaceLines(df, 6, 6, [find(r, 'add-url-unpinned').fix.split('\n')[1]!.replace('<sha256>', 'b'.repeat(64))]);
    replaceLines(df, 3, 4, [find(r, 'package-update-separate').fix.split('\n')[1]!.replace('curl ', 'curl=8.5.0-2 ')]);
    replaceLines(df, 2, 2, [find(r, 'base-image-moving-tag').fix.split('\n')[1]!.replace('<digest>', 'c'.repeat(64))]);
    const [head, ...lines] = find(r, 'ignore-file-in-subdirectory').fix.split('\n');
    expect(head).toMatch(/^add to \.dockerignore/);
    fs.appendFileSync(path.join(dir, '.dockerignore'), lines.join('\n') + '\n');
    fs.rmSync(path.join(dir, 'docs/.dockerignore'));
    let after = await diagnoseDirectory(dir);
    // The cache mounts last: their lines moved.
    for (const f of all(after, 'cache-mount-missing').reverse()) replaceLines(df, f.line!, f.line!, f.fix.split('\n'));
    after = await diagnoseDirectory(dir);
    expect(after.findings).toEqual([]);
  });

  it('follows the builder: no cache mounts for the classic builder, and a RUN with the pinned sum where ADD has no --checksum', async () => {
    const dir = await project('debian-app');
    for (const builder of ['classic', 'buildkit-0.8']) {
      const r = await diagnoseDirectory(dir, { profile: getProfile(builder) });
      expect(ids(r).includes('cache-mount-missing')).toBe(builder !== 'classic');
      expect(find(r, 'add-url-unpinned').fix).toBe(
        `${builder} has no ADD --checksum: download in a RUN keyed on the pinned checksum (or commit the file and COPY it):\n` +
          'RUN wget -qO /opt/tool.tar.gz https://example.com/tools/v1.4.2/tool.tar.gz && echo "<sha256>  /opt/tool.tar.gz" | sha256sum -c -',
      );
    }
  });
});

describe('OS package rules', () => {
  it('knows apk, dnf and zypper; says nothing when update and install share a RUN or the packages come from a variable', async () => {
    const dir = await project(null, {
      Dockerfile: {
        content:
          'FROM alpine:3.20@sha256:' + 'd'.repeat(64) + '\nRUN apk update\nRUN apk add --no-cache git\n' +
          'FROM fedora@sha256:' + 'e'.repeat(64) + '\nRUN dnf makecache\nRUN dnf install -y make\n' +
          'FROM debian@sha256:' + 'f'.repeat(64) + '\nARG PKGS\nRUN apt-get update && apt-get install -y $PKGS && rm -rf /var/lib/apt/lists/*\n',
      },
    });
    const r = await diagnoseDirectory(dir, { profile: getProfile('classic') });
    expect(all(r, 'package-update-separate').map((f) => [f.line, f.fix])).toEqual([
      [2, 'replace line 2 and line 3 with:\nRUN apk update && apk add --no-cache git && rm -rf /var/cache/apk/*'],
      [5, 'replace line 5 and line 6 with:\nRUN dnf makecache && dnf install -y make && dnf clean all'],
    ]);
    expect(all(r, 'package-install-unpinned').map((f) => [f.line, f.fix])).toEqual([[3, 'pin each version (find them with `apk policy git` in the base image): git=<version>']]);
  });

  it('drops apk --no-cache under a cache mount', async () => {
    const dir = await project(null, { Dockerfile: { content: 'FROM alpine\nRUN apk add --no-cache git=2.45.2-r0\n' } });
    expect(find(await diagnoseDirectory(dir), 'cache-mount-missing').fix).toBe('RUN --mount=type=cache,target=/var/cache/apk apk add git=2.45.2-r0');
  });
});

describe('cache mounts', () => {
  it('gives each tool its cache directory, and respects existing mounts and the USER', async () => {
    const cases: [string, string][] = [
      ['RUN npm ci', '--mount=type=cache,target=/root/.npm'],
      ['RUN yarn install --frozen-lockfile', '--mount=type=cache,target=/usr/local/share/.cache/yarn'],
      ['RUN pnpm install --frozen-lockfile', '--mount=type=cache,target=/root/.local/share/pnpm/store'],
      ['RUN go build ./...', '--mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build'],
      ['RUN cargo build --release', '--mount=type=cache,target=/usr/local/cargo/registry --mount=type=cache,target=/usr/local/cargo/git'],
      ['RUN mvn -B package', '--mount=type=cache,target=/root/.m2'],
      ['RUN ./gradlew build', '--mount=type=cache,target=/root/.gradle'],
      ['RUN uv sync --frozen', '--mount=type=cache,target=/root/.cache/uv'],
      ['RUN dotnet restore', '--mount=type=cache,target=/root/.nuget/packages'],
      ['RUN bundle install', '--mount=type=cache,target=/root/.gem'],
      ['RUN composer install --no-dev', '--mount=type=cache,target=/root/.cache/composer'],
    ];
    const body = cases.map(([run]) => run).join('\n');
    const dir = await project(null, { Dockerfile: { content: `FROM scratch\n${body}\nRUN --mount=type=cache,target=/root/.npm npm install\nUSER node\nRUN npm ci\n` } });
    const r = await diagnoseDirectory(dir);
    const found = all(r, 'cache-mount-missing');
    expect(found.slice(0, cases.length).map((f) => f.fix)).toEqual(cases.map(([run, mount]) => run.replace(/^RUN/, `RUN ${mount}`)));
    expect(found.map((f) => f.line)).not.toContain(cases.length + 2); // already has a cache mount
    expect(found.at(-1)!.message).toContain('runs as USER node');
    expect(ruleBuilders(RULES.find((x) => x.id === 'cache-mount-missing')!)).not.toContain('classic');
  });
});

describe('base images', () => {
  it('takes no tag and :latest for moving, and skips digests, scratch, stages and unknown images', async () => {
    const dir = await project(null, {
      Dockerfile: {
        content:
          'ARG BASE\nFROM ubuntu AS a\nFROM node:latest\nFROM registry.local:5000/team/app\nFROM a\nFROM scratch\nFROM $BASE\n' +
          'FROM --platform=linux/amd64 busybox:1.36@sha256:' + '1'.repeat(64) + '\nFROM --platform=linux/arm64 alpine:3.20 AS b\n',
      },
    });
    const r = all(await diagnoseDirectory(dir), 'base-image-moving-tag');
    expect(r.map((f) => [f.line, f.severity])).toEqual([[2, 'info'], [3, 'info'], [4, 'info'], [9, 'info']]);
    expect(r[0]!.message).toContain('no tag (= latest)');
    expect(r[2]!.message).toContain('registry.local:5000/team/app by no tag');
    expect(r[3]!.fix.split('\n')[1]).toBe('FROM --platform=linux/arm64 alpine:3.20@sha256:<digest> AS b');
  });

  it('warns when a per-build ARG picks the base image', async () => {
    const dir = await project(null, { Dockerfile: { content: 'ARG GIT_SHA=dev\nFROM registry.local/app:${GIT_SHA}\nRUN true\n' } });
    const f = find(await diagnoseDirectory(dir), 'base-image-moving-tag');
    expect(f).toMatchObject({ severity: 'warning', line: 2 });
    expect(f.message).toContain('per-build ARG GIT_SHA');
  });
});

describe('remote ADD', () => {
  it('flags git sources without a commit, not those pinned to one, nor URLs with --checksum', async () => {
    const sha = '0123456789abcdef0123456789abcdef01234567';
    const dir = await project(null, {
      Dockerfile: {
        content:
          'FROM scratch\nADD https://github.com/moby/buildkit.git /src\nADD https://github.com/moby/buildkit.git#v0.13.0 /src\n' +
          `ADD https://github.com/moby/buildkit.git#${sha} /src\nADD --checksum=sha256:${'a'.repeat(64)} https://example.com/x.tgz /x\n`,
      },
    });
    const r = await diagnoseDirectory(dir);
    expect(all(r, 'add-git-unpinned').map((f) => [f.line, f.fix.split('\n')[1]])).toEqual([
      [2, 'ADD https://github.com/moby/buildkit.git#<commit sha> /src'],
      [3, 'ADD https://github.com/moby/buildkit.git#<commit sha> /src'],
    ]);
    expect(find(r, 'add-git-unpinned', 3).message).toContain('`v0.13.0`, a branch or tag that moves');
    expect(ids(r)).not.toContain('add-url-unpinned');
  });
});

describe('ignore files in subdirectories', () => {
  it('is info for a directory with its own Dockerfile, and silent for the ignore file in force', async () => {
    const dir = await project('monorepo', { 'services/web/.dockerignore': { content: 'node_modules\n' }, 'libs/shared/.containerignore': { content: '*.test.js\n' } });
    const r = await diagnoseDirectory(dir, { dockerfile: path.join(dir, 'services/api/Dockerfile') });
    expect(all(r, 'ignore-file-in-subdirectory').map((f) => [f.file, f.severity, f.fix.split('\n').slice(1)])).toEqual([
      ['libs/shared/.containerignore', 'warning', ['libs/shared/*.test.js']],
      ['services/web/.dockerignore', 'info', ['services/web/node_modules']],
    ]);
    expect(find(r, 'ignore-file-in-subdirectory').message).not.toContain('own');
  });
});

describe('volatile RUN outputs', () => {
  it('flags the date, git, "latest" downloads and upgrades; not a pinned download', async () => {
    const dir = await project(null, {
      Dockerfile: {
        content:
          'FROM scratch\nRUN echo `date +%s` > /t\nRUN git rev-parse HEAD > /rev\nRUN curl -fsSL https://example.com/releases/latest/download/tool -o /tool\n' +
          'RUN apt-get upgrade -y\nRUN curl -fsSL https://example.com/releases/v1.2.3/tool -o /tool\n',
      },
    });
    const r = all(await diagnoseDirectory(dir), 'volatile-run-output');
    expect(r.map((f) => f.line)).toEqual([2, 3, 4, 5]);
  });
});

describe('copy-before-install for every ecosystem', () => {
  const cases: { tool: string; files: string[]; run: string; copy: string; prefetch?: string }[] = [
    { tool: 'pnpm', files: ['package.json', 'pnpm-lock.yaml'], run: 'RUN pnpm install --frozen-lockfile', copy: 'COPY package.json pnpm-lock.yaml ./' },
    { tool: 'yarn', files: ['package.json', 'yarn.lock'], run: 'RUN yarn install --frozen-lockfile', copy: 'COPY package.json yarn.lock ./' },
    { tool: 'poetry', files: ['pyproject.toml', 'poetry.lock'], run: 'RUN poetry install --no-root', copy: 'COPY pyproject.toml poetry.lock ./' },
    { tool: 'uv', files: ['pyproject.toml', 'uv.lock'], run: 'RUN uv sync --frozen', copy: 'COPY pyproject.toml uv.lock ./' },
    { tool: 'uv pip', files: ['requirements.lock'], run: 'RUN uv pip install --system -r requirements.lock', copy: 'COPY requirements.lock ./' },
    { tool: 'go', files: ['go.mod', 'go.sum'], run: 'RUN go build -o /app .', copy: 'COPY go.mod go.sum ./', prefetch: 'RUN go mod download' },
    { tool: 'cargo', files: ['Cargo.toml', 'Cargo.lock'], run: 'RUN cargo build --release', copy: 'COPY Cargo.toml Cargo.lock ./', prefetch: 'RUN cargo fetch' },
    { tool: 'maven', files: ['pom.xml'], run: 'RUN mvn -B package', copy: 'COPY pom.xml ./', prefetch: 'RUN mvn dependency:go-offline' },
    { tool: 'gradle', files: ['build.gradle.kts', 'settings.gradle.kts'], run: 'RUN gradle build', copy: 'COPY build.gradle.kts settings.gradle.kts ./', prefetch: 'RUN gradle dependencies' },
    { tool: 'bundler', files: ['Gemfile', 'Gemfile.lock'], run: 'RUN bundle install', copy: 'COPY Gemfile Gemfile.lock ./' },
    { tool: 'composer', files: ['composer.json', 'composer.lock'], run: 'RUN composer install', copy: 'COPY composer.json composer.lock ./' },
    { tool: 'dotnet', files: ['App.csproj'], run: 'RUN dotnet publish -c Release -o /out', copy: 'COPY App.csproj ./', prefetch: 'RUN dotnet restore' },
  ];
  it.each(cases)('$tool: the reordered lines, and no finding once applied', async ({ files, run, copy, prefetch }) => {
    const spec = Object.fromEntries([...files, 'src/main.x'].map((f) => [f, { content: 'x\n' }]));
    const dir = await project(null, { ...spec, Dockerfile: { content: `FROM scratch\nWORKDIR /src\nCOPY . .\n${run}\n` }, '.dockerignore': { content: 'Dockerfile\n' } });
    const f = find(await diagnoseDirectory(dir, { profile: getProfile('classic') }), 'copy-before-install');
    expect(f.line).toBe(3);
    expect(f.fix).toBe(prefetch ? [copy, prefetch, 'COPY . .', run].join('\n') : [copy, run, 'COPY . .'].join('\n'));
    replaceLines(path.join(dir, 'Dockerfile'), 3, 4, f.fix.split('\n'));
    expect(ids(await diagnoseDirectory(dir, { profile: getProfile('classic') }))).not.toContain('copy-before-install');
  });

  it('is fine with the manifests copied first and then everything', async () => {
    const dir = await project(null, {
      'package.json': { content: '{}' },
      'package-lock.json': { content: '{}' },
      'src/a.js': { content: 'x' },
      Dockerfile: { content: 'FROM scratch\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n' },
    });
    expect(ids(await diagnoseDirectory(dir))).not.toContain('copy-before-install');
  });
});

describe('the rule registry', () => {
  it('documents every rule once, with a title, why and fix', () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    for (const r of RULES) {
      expect(r.id).toMatch(/^[a-z]+(-[a-z0-9]+)+$/);
      expect(r.title.length).toBeGreaterThan(10);
      expect(r.why.length).toBeGreaterThan(20);
      expect(r.fix.length).toBeGreaterThan(5);
    }
    expect(RULES.length).toBe(23);
  });

  it('is documented in docs/rules.md: one table row per rule, with its severity and builders', () => {
    const readme = fs.readFileSync(new URL('../docs/rules.md', import.meta.url), 'utf8');
    for (const r of RULES) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${r.id}\` |`));
      expect(row, r.id).toBeDefined();
      const cells = row!.split(' | ');
      expect(cells[1]).toBe(r.severity);
      const b = ruleBuilders(r);
      expect(cells.at(-1)).toBe(`${b.length === builderIds().length ? 'all' : b.join(', ')} |`);
    }
  });

  it('knows the Dockerfile features of every builder profile, from its data', () => {
    // As observed (test/realbuilders.doctor.test.ts) or documented (kaniko): RUN --mount, ADD --checksum enforced.
    const expected: Record<string, [boolean, boolean]> = {
      buildkit: [true, true], 'buildkit-0.8': [true, false], classic: [false, false], 'classic-20.10': [false, false],
      buildah: [true, true], 'buildah-1.28': [true, false], kaniko: [false, false], strict: [true, true],
    };
    expect(Object.keys(expected).sort()).toEqual(builderIds().sort());
    for (const id of builderIds()) {
      const f = featuresOf(getProfile(id));
      expect([id, f.runMount, f.addChecksum]).toEqual([id, ...expected[id]!]);
    }
  });
});
