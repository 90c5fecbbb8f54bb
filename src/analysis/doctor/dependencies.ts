/**
 * Rules about dependency installs: a broad COPY before the install (any change to any file reinstalls
 * everything), and an install without a cache mount (every rebuild downloads everything again). The tools,
 * their manifests, prefetch commands and cache directories are data (tools.ts).
 */
import path from 'node:path';
import { isCopy, type CopyInstruction, type Instruction, type Stage } from '../../dockerfile/model.js';
import { OS_PACKAGE_MANAGERS, PACKAGE_TOOLS, type CacheDir, type PackageTool } from './tools.js';
import type { DoctorInput, Finding, RuleFamily } from './types.js';

/** The command a RUN executes, as one string (shell form: as written; exec form: arguments joined). */
export const runCommand = (ins: Instruction): string => ins.args.join(' ');

/** The part of `command` from `at` to the next `&&`, `;`, `|` or newline: one command, for messages. */
export function commandAt(command: string, at: number): string {
  const rest = command.slice(at);
  const end = rest.search(/&&|;|\||\n/);
  return (end < 0 ? rest : rest.slice(0, end)).replace(/\\\s*$/, '').trim();
}

/** Instructions that only set metadata the install may need: they stay above it in the reordered lines. */
const METADATA = new Set(['ENV', 'ARG', 'WORKDIR', 'USER', 'SHELL', 'LABEL']);

interface Install {
  tool: PackageTool;
  manifests: string[];
  /** The install command as written, for messages. */
  command: string;
}

function installOf(ins: Instruction): Install | null {
  if (ins.keyword !== 'RUN') return null;
  const command = runCommand(ins);
  for (const tool of PACKAGE_TOOLS) {
    const m = tool.install.exec(command);
    if (!m) continue;
    const named = tool.manifestArgs ? [...command.matchAll(tool.manifestArgs)].map((x) => path.posix.normalize(x[1]!)) : [];
    return { tool, manifests: named.length ? named : tool.manifests, command: commandAt(command, m.index + (m[0].length - m[0].trimStart().length)) };
  }
  return null;
}

/** `--chown=node:node --link`: a COPY's flags as written, without `--exclude` (the manifests need none). */
function flagsText(ins: CopyInstruction): string {
  const parts: string[] = [];
  for (const [name, values] of Object.entries(ins.flags)) {
    if (name === 'exclude') continue;
    for (const v of values) parts.push(v === 'true' && (name === 'link' || name === 'parents') ? `--${name}` : `--${name}=${v}`);
  }
  return parts.length ? parts.join(' ') + ' ' : '';
}

function checkInstallOrder(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const sentFiles = new Set(input.entries.filter((e) => e.type === 'file').map((e) => e.path));
  const out: Finding[] = [];
  for (const stage of model.stages) {
    const list = stage.instructions;
    const reported = new Set<number>();
    for (let j = 0; j < list.length; j++) {
      const install = installOf(list[j]!);
      if (!install) continue;
      const prefetch = install.tool.prefetch;
      if (prefetch && list.slice(0, j).some((x) => x.keyword === 'RUN' && prefetch.test.test(runCommand(x)))) continue;
      for (let i = 0; i < j; i++) {
        const copy = list[i]!;
        if (!isCopy(copy) || copy.from !== undefined || reported.has(i)) continue;
        const hit = broadSource(copy, install.manifests, sentFiles);
        if (!hit) continue;
        reported.add(i);
        out.push(installFinding(model.file, stage, copy, i, j, hit.manifests, install));
        break;
      }
    }
  }
  return out;
}

/** `*.csproj` → a regex for one path segment. */
const nameRegex = (n: string) => new RegExp(`^${n.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}$`);

/** A directory source of `copy` that brings in manifests (so any other file change reinstalls), with those manifests. */
function broadSource(copy: CopyInstruction, names: string[], sentFiles: Set<string>): { manifests: string[] } | null {
  for (const s of copy.sources) {
    if (s.kind !== 'context' || s.wildcard || s.unresolved?.length) continue;
    const prefix = s.path === '.' ? '' : `${s.path}/`;
    const inside: string[] = [];
    for (const n of names) {
      if (!n.includes('*')) {
        if (sentFiles.has(prefix + n)) inside.push(prefix + n);
        continue;
      }
      const re = nameRegex(n);
      for (const p of [...sentFiles].sort()) {
        if (p.startsWith(prefix) && !p.slice(prefix.length).includes('/') && re.test(p.slice(prefix.length)) && !inside.includes(p)) inside.push(p);
      }
    }
    // The source must be a directory that holds more than the manifests themselves.
    const others = [...sentFiles].some((p) => p.startsWith(prefix) && !inside.includes(p));
    if (inside.length > 0 && others) return { manifests: inside };
  }
  return null;
}

function installFinding(file: string, stage: Stage, copy: CopyInstruction, i: number, j: number, manifests: string[], install: Install): Finding {
  const list = stage.instructions;
  const between = list.slice(i + 1, j);
  const dest = copy.dest.endsWith('/') ? copy.dest : `${copy.dest}/`;
  const manifestCopy = `COPY ${flagsText(copy)}${manifests.join(' ')} ${dest}`;
  const metadata = between.filter((x) => METADATA.has(x.keyword)).map((x) => x.text);
  const rest = between.filter((x) => !METADATA.has(x.keyword)).map((x) => x.text);
  const prefetch = install.tool.prefetch;
  const lines = prefetch
    ? [manifestCopy, ...metadata, `RUN ${prefetch.command}`, copy.text, ...rest, list[j]!.text]
    : [manifestCopy, ...metadata, list[j]!.text, copy.text, ...rest];
  return {
    id: 'copy-before-install',
    severity: 'warning',
    file,
    line: copy.line,
    message:
      `\`${copy.original}\` (line ${copy.line}) comes before \`${install.command}\` (line ${list[j]!.line}): any change to any copied file ` +
      `${prefetch ? `downloads every dependency again. Copy ${manifests.join(' and ')} first, run \`${prefetch.command}\`` : `reinstalls every dependency. Copy ${manifests.join(' and ')} first, install`}, then copy the rest`,
    fix: lines.join('\n'),
    paths: manifests,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Installs without a cache mount
// ---------------------------------------------------------------------------------------------------------

const mountFlag = (c: CacheDir) => `--mount=type=cache,target=${c.target}${c.sharing ? `,sharing=${c.sharing}` : ''}`;

/** The user a RUN runs as (the last USER above it in its stage), or null for root / not set. */
function userAt(stage: Stage, ins: Instruction): string | null {
  let user: string | null = null;
  for (const x of stage.instructions) {
    if (x === ins) break;
    if (x.keyword === 'USER') user = x.args[0] ?? null;
  }
  return user === null || /^(root|0)(:.*)?$/.test(user) ? null : user;
}

function checkCacheMounts(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const out: Finding[] = [];
  for (const stage of model.stages) {
    for (const ins of stage.instructions) {
      if (ins.keyword !== 'RUN' || ins.json) continue;
      if ((ins.flags.mount ?? []).some((m) => /(^|,)type=cache(,|$)/.test(m))) continue;
      const command = runCommand(ins);
      const tools: { name: string; command: string; cache: CacheDir[]; noCacheFlag?: RegExp; keepCache?: string }[] = [];
      const seen = new Set<string>();
      for (const t of [...PACKAGE_TOOLS, ...OS_PACKAGE_MANAGERS]) {
        const m = t.install.exec(command);
        if (!m || seen.has(t.name)) continue;
        seen.add(t.name);
        tools.push({ name: t.name, command: commandAt(command, m.index), cache: t.cache, noCacheFlag: t.noCacheFlag, keepCache: t.keepCache });
      }
      if (tools.length === 0) continue;
      const targets = [...new Map(tools.flatMap((t) => t.cache).map((c) => [c.target, c])).values()];
      let text = ins.text.replace(/^(\s*RUN)\b/i, `$1 ${targets.map(mountFlag).join(' ')}`);
      for (const t of tools) if (t.noCacheFlag) text = text.replace(new RegExp(t.noCacheFlag.source, 'g'), '');
      const keep = tools.map((t) => t.keepCache).filter((x): x is string => x !== undefined);
      const user = userAt(stage, ins);
      out.push({
        id: 'cache-mount-missing',
        severity: 'info',
        file: model.file,
        line: ins.line,
        message:
          `\`${tools.map((t) => t.command).join('`, `')}\` (line ${ins.line}) runs without a cache mount: whenever this step rebuilds, ` +
          `it downloads every ${tools.length === 1 && OS_PACKAGE_MANAGERS.some((m) => m.name === tools[0]!.name) ? 'package' : 'dependency'} again; ` +
          `a cache mount keeps ${targets.map((c) => c.target).join(', ')} between builds (not in the image)` +
          (user ? `. The step runs as USER ${user}: mount its home directory's cache instead of /root, with uid= and gid= of that user` : ''),
        fix: [...keep, text].join('\n'),
      });
    }
  }
  return out;
}

export const DEPENDENCY_RULES: RuleFamily = {
  name: 'dependency installs',
  rules: [
    {
      id: 'copy-before-install',
      severity: 'warning',
      title: 'a broad COPY comes before a dependency install',
      why:
        'any change to any copied file reinstalls (or re-downloads) every dependency; known manifests: npm, yarn, pnpm, pip (requirements files named with -r, ' +
        'pyproject.toml), poetry, pipenv, uv, Go, Cargo, Maven, Gradle, Bundler, Composer, .NET project files',
      fix: 'the reordered lines: copy the manifests and lock files, install (or prefetch: go mod download, cargo fetch, mvn dependency:go-offline, dotnet restore), then copy the rest',
    },
    {
      id: 'cache-mount-missing',
      severity: 'info',
      title: 'a package-manager step without a cache mount',
      why: 'whenever the step rebuilds, the tool downloads everything again; a cache mount keeps its download cache between builds, outside the image',
      fix: 'the RUN line with `--mount=type=cache,target=<the tool\'s cache directory>` (and the line that keeps apt\'s downloads)',
      requires: 'runMount',
    },
  ],
  check: (input) => [...checkInstallOrder(input), ...checkCacheMounts(input)],
};
