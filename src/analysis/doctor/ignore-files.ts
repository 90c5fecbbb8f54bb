/**
 * Rules about ignore files: rules that match nothing, a file shadowed by a Dockerfile-specific one, a context
 * that differs between builders, and an ignore file in a subdirectory that no builder reads.
 */
import path from 'node:path';
import type { BuilderProfile } from '../../builders/profiles.js';
import { readIgnoreLines } from '../../ignore/ignore-file.js';
import { createIgnoreMatcher, type IgnoreRule } from '../../ignore/matcher.js';
import type { DiskEntry } from '../du.js';
import { isProtective } from './paths.js';
import type { DoctorInput, Finding, RuleFamily } from './types.js';

function ruleMatchesSomething(rule: IgnoreRule, disk: readonly DiskEntry[], variant: BuilderProfile['matcher']): boolean {
  const m = createIgnoreMatcher([{ ...rule, exclusion: false }], variant);
  return disk.some((e) => m.match(e.path).excluded);
}

function checkUnusedRules(input: DoctorInput): Finding[] {
  const disk = input.disk;
  if (!disk || !input.matcher) return [];
  const variant = input.profile.matcher;
  const out: Finding[] = [];
  for (const rule of input.matcher.rules) {
    if (isProtective(rule) || ruleMatchesSomething(rule, disk, variant)) continue;
    const anchored = !rule.pattern.startsWith('**') && !rule.pattern.includes('/');
    const deeper = anchored ? { ...rule, pattern: `**/${rule.pattern}` } : null;
    const fix =
      deeper && ruleMatchesSomething(deeper, disk, variant)
        ? `patterns are anchored at the context root: write \`${rule.exclusion ? '!' : ''}${deeper.pattern}\` to match at any depth`
        : 'remove the line, or correct the pattern (it is matched against paths relative to the context root)';
    out.push({
      id: 'ignore-rule-matches-nothing',
      severity: 'info',
      file: rule.file,
      line: rule.line,
      message: `\`${rule.text.trim()}\` matches nothing in the context`,
      fix,
    });
  }
  return out;
}

function checkIgnoreFiles(input: DoctorInput): Finding[] {
  const out: Finding[] = [];
  const chosen = input.ignore?.file ?? null;
  const shadowed = (input.ignoreCandidates ?? []).filter((c) => c !== chosen);
  if (chosen !== null && shadowed.length > 0) {
    out.push({
      id: 'ignore-file-shadowed',
      severity: 'warning',
      file: chosen,
      line: null,
      message: `${chosen} replaces ${shadowed.join(' and ')} entirely under ${input.profile.id}: none of ${shadowed.length === 1 ? 'its' : 'their'} rules apply to this build`,
      fix: `copy the rules you still need from ${shadowed.join(' and ')} into ${chosen}`,
    });
  }
  const byBuilder = input.ignoreByBuilder;
  if (byBuilder) {
    const differ = Object.entries(byBuilder).filter(([id, f]) => id !== input.profile.id && f !== chosen);
    if (differ.length > 0) {
      const list = differ.map(([id, f]) => `${id} reads ${f ?? 'no ignore file'}`).join(', ');
      out.push({
        id: 'ignore-file-differs-by-builder',
        severity: 'info',
        file: chosen ?? '.dockerignore',
        line: null,
        message: `${input.profile.id} reads ${chosen ?? 'no ignore file'}, but ${list}: the context differs between builders`,
        fix: 'keep one ignore file that every builder you use reads (.dockerignore at the context root), or keep the files in sync',
      });
    }
  }
  return out;
}

/** Names of ignore files a builder could read at a context root. */
const IGNORE_NAMES = new Set(['.dockerignore', '.containerignore']);
const DOCKERFILE_NAMES = /^(Dockerfile|Containerfile)$|\.(Dockerfile|Containerfile)$|^(Dockerfile|Containerfile)\./;

function checkSubdirIgnoreFiles(input: DoctorInput, ignoreName: string): Finding[] {
  const all: readonly { path: string; type: string }[] = input.disk ?? input.entries;
  const inForce = new Set([input.ignore?.file, ...(input.ignoreCandidates ?? [])].filter((x): x is string => x !== undefined));
  const dockerfileDir = input.dockerfile ? path.posix.dirname(input.dockerfile.file) : null;
  const out: Finding[] = [];
  for (const e of all) {
    const slash = e.path.lastIndexOf('/');
    if (e.type !== 'file' || slash < 0 || !IGNORE_NAMES.has(e.path.slice(slash + 1)) || inForce.has(e.path)) continue;
    const dir = e.path.slice(0, slash);
    const text = input.readText?.(e.path) ?? null;
    let patterns: string[] = [];
    try {
      patterns = text === null ? [] : readIgnoreLines(text, e.path, input.profile.matcher).map((l) => l.pattern);
    } catch {
      patterns = []; // unreadable as an ignore file: the fix below still says where its rules belong
    }
    const prefixed = patterns.filter((p) => p !== '!').map((p) => (p.startsWith('!') ? `!${dir}/${p.slice(1)}` : `${dir}/${p}`));
    // A directory with a Dockerfile of its own may be built as its own context, where its ignore file works.
    const ownBuild = dir !== dockerfileDir && all.some((x) => x.type === 'file' && path.posix.dirname(x.path) === dir && DOCKERFILE_NAMES.test(x.path.slice(slash + 1)));
    out.push({
      id: 'ignore-file-in-subdirectory',
      severity: ownBuild ? 'info' : 'warning',
      file: e.path,
      line: null,
      message:
        `${e.path} is not read: builders read ignore files only at the context root (${ignoreName}) or named after the Dockerfile ` +
        `(<Dockerfile>.dockerignore), so its ${patterns.length} pattern${patterns.length === 1 ? '' : 's'} exclude nothing from this build` +
        (ownBuild ? ` (it does apply when ${dir}/ is built as a context of its own)` : ''),
      fix: prefixed.length
        ? [`add to ${ignoreName} (patterns are relative to the context root), then delete ${e.path}:`, ...prefixed].join('\n')
        : `delete ${e.path} (it has no patterns)`,
      paths: [e.path],
    });
  }
  return out;
}

export const IGNORE_FILE_RULES: RuleFamily = {
  name: 'ignore files',
  rules: [
    {
      id: 'ignore-rule-matches-nothing',
      severity: 'info',
      title: 'an ignore rule matches nothing in the context',
      why: 'usually a pattern written for the wrong place (patterns are anchored at the context root) that leaves in what it meant to keep out',
      fix: 'the `**/` form when that matches, or remove the line',
    },
    {
      id: 'ignore-file-shadowed',
      severity: 'warning',
      title: 'a Dockerfile-specific ignore file replaces .dockerignore',
      why: '`<Dockerfile>.dockerignore` (or .containerignore) replaces the root file entirely: none of its rules apply',
      fix: 'copy the rules still needed into the file in force',
    },
    {
      id: 'ignore-file-differs-by-builder',
      severity: 'info',
      title: 'builders read different ignore files for this build',
      why: 'the context, and so the cache keys, differ between builders (e.g. the classic builder ignores <Dockerfile>.dockerignore)',
      fix: 'one ignore file every builder reads (.dockerignore at the root), or files kept in sync',
    },
    {
      id: 'ignore-file-in-subdirectory',
      severity: 'warning',
      title: 'an ignore file in a subdirectory of the context, which no builder reads',
      why: 'only the root ignore file (or the one named after the Dockerfile) applies: its patterns do nothing, so what it means to keep out is sent and busts COPYs (info when that directory has a Dockerfile of its own and may be built as its own context)',
      fix: 'its patterns, prefixed with the subdirectory, added to the ignore file in force',
    },
  ],
  check: (input, ctx) => [...checkUnusedRules(input), ...checkIgnoreFiles(input), ...checkSubdirIgnoreFiles(input, ctx.ignoreName)],
};
