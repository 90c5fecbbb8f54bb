/** Words for changes, shared by the text and Markdown reporters. */
import type { ChangeKind } from '../analysis/diff.js';
import { humanSize, octalMode } from './format.js';
import type { Entry } from '../core/types.js';
import type { BuilderProfile } from '../builders/profiles.js';
import type { IgnoredChange, IgnoreShift } from '../analysis/verdicts.js';

/** One kind of change at a path, with before → after where it helps. */
export function describeKind(kind: ChangeKind, before?: Entry, after?: Entry): string {
  switch (kind) {
    case 'added':
      return `added (${after?.type ?? '?'})`;
    case 'removed':
      return `removed (${before?.type ?? '?'})`;
    case 'type':
      return `type ${before?.type} → ${after?.type}`;
    case 'content':
      return before && after && before.size !== after.size
        ? `content (${humanSize(before.size)} → ${humanSize(after.size)})`
        : 'content';
    case 'mode':
      return `mode ${before ? octalMode(before.mode) : '?'} → ${after ? octalMode(after.mode) : '?'}`;
    case 'owner':
      return `owner ${before?.uid}:${before?.gid} → ${after?.uid}:${after?.gid}`;
    case 'mtime':
      return 'mtime';
    case 'target':
      return `symlink target ${JSON.stringify(before?.target)} → ${JSON.stringify(after?.target)}`;
    case 'xattrs': {
      const names = (x?: Record<string, string>) => Object.keys(x ?? {}).join(', ') || 'none';
      return `xattrs ${names(before?.xattrs)} → ${names(after?.xattrs)}`;
    }
    case 'device':
      return `device ${before?.devMajor},${before?.devMinor} → ${after?.devMajor},${after?.devMinor}`;
  }
}

/** "now excluded by .dockerignore:3 `*.log`" / "no longer excluded (.dockerignore:3 `*.log` gone)". */
export function describeShift(s: IgnoreShift): string {
  const ref = (r: IgnoreShift['before']['rule']) => (r ? `${r.file}:${r.line} \`${r.pattern}\`` : 'no rule');
  if (s.after.excluded) return `now excluded by ${ref(s.after.rule)}`;
  return s.after.rule ? `now included by ${ref(s.after.rule)}` : `no longer excluded (was ${ref(s.before.rule)})`;
}

/** Why a builder ignores a set of change kinds, in words ("mtime only: buildkit ignores mtime"). */
export function explainIgnored(change: Pick<IgnoredChange, 'kinds' | 'reason'>, profile: BuilderProfile): string {
  if (change.reason === 'outside') return 'outside every COPY/ADD source and bind mount';
  const kinds = change.kinds.map((k) => (k === 'mode' ? 'directory mode' : k));
  const what = kinds.length === 1 ? `${kinds[0]} only` : kinds.join(', ');
  return `${what}: ${profile.id} ignores ${kinds.length === 1 ? 'it' : 'them'}`;
}
