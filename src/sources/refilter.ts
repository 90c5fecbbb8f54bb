/**
 * A snapshot records what one builder profile's ignore rules let through. Read under another profile whose
 * matcher differs, its entries are filtered again with that matcher (paths the first profile excluded
 * cannot come back: that is said in a warning).
 */
import { createIgnoreMatcher } from '../ignore/matcher.js';
import { parseIgnoreFile } from '../ignore/ignore-file.js';
import { getProfile, type BuilderProfile } from '../builders/profiles.js';
import type { Context, Entry } from '../core/types.js';

function sameIgnoreFiles(a: BuilderProfile, b: BuilderProfile): boolean {
  return JSON.stringify(a.ignoreFiles) === JSON.stringify(b.ignoreFiles);
}

export function refilterContext(ctx: Context, wanted: BuilderProfile, warnings: string[], where: string): Context {
  if (ctx.builder === wanted.id) return ctx;
  const taken = getProfile(ctx.builder);
  if (!sameIgnoreFiles(taken, wanted)) {
    warnings.push(
      `${where}: taken with builder ${taken.id}, which looks for ignore files ${taken.ignoreFiles.atRoot.join(', ')}; ` +
        `${wanted.id} looks for ${wanted.ignoreFiles.atRoot.join(', ')}: take the snapshot with --builder ${wanted.id} to be exact`,
    );
  }
  if (taken.matcher === wanted.matcher || !ctx.ignore) return { ...ctx, builder: wanted.id };
  const matcher = createIgnoreMatcher(parseIgnoreFile(ctx.ignore.text, ctx.ignore.file, wanted.matcher), wanted.matcher);
  const keep: boolean[] = ctx.entries.map((e) => !matcher.match(e.path).excluded);
  if (matcher.sendsParentsOfReincluded) {
    // Keep the directories above every kept entry (entries are in canonical order: parents come first).
    const index = new Map<string, number>();
    ctx.entries.forEach((e, i) => index.set(e.path, i));
    ctx.entries.forEach((e, i) => {
      if (!keep[i]) return;
      for (let p = e.path.lastIndexOf('/'); p > 0; p = e.path.lastIndexOf('/', p - 1)) {
        const j = index.get(e.path.slice(0, p));
        if (j === undefined || keep[j]) break;
        keep[j] = true;
      }
    });
  }
  const entries: Entry[] = ctx.entries.filter((_, i) => keep[i]);
  if (entries.length !== ctx.entries.length || taken.matcher !== wanted.matcher) {
    warnings.push(
      `${where}: taken with builder ${taken.id} (.dockerignore matcher ${taken.matcher}); filtered again with ` +
        `${wanted.id}'s matcher (${wanted.matcher}); paths ${taken.id} excluded cannot be recovered`,
    );
  }
  return { ...ctx, builder: wanted.id, entries };
}
