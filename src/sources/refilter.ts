/**
 * A snapshot records what one builder profile's walk sends, and (snapshots of directories since builder
 * profiles per generation) how every other profile's walk differs: read under another profile, it becomes
 * exactly that profile's walk. An older snapshot read under a profile whose walk may differ is filtered again
 * with that profile's matcher (paths the first profile excluded cannot come back) and marked `incomplete`,
 * so that the steps it feeds are `unknown` rather than guessed; so is one without extended attributes read
 * under a profile that counts them.
 */
import { createIgnoreMatcher } from '../ignore/matcher.js';
import { parseIgnoreFile } from '../ignore/ignore-file.js';
import { getProfile, type BuilderProfile } from '../builders/profiles.js';
import { comparePaths, type Context, type Entry } from '../core/types.js';

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

/** `ctx` (a snapshot's context) as the walk of `wanted` would have given it; see the module comment. */
export function contextFor(ctx: Context, wanted: BuilderProfile, warnings: string[], where: string): Context {
  const { walks, ...recorded } = ctx;
  let out: Context;
  if (ctx.builder === wanted.id) {
    out = recorded;
  } else if (walks?.same.includes(wanted.id)) {
    out = { ...recorded, builder: wanted.id };
  } else {
    const variant = walks?.variants.find((v) => v.builders.includes(wanted.id));
    if (variant) {
      const replaced = new Set([...variant.removed, ...variant.entries.map((e) => e.path)]);
      const entries = ctx.entries.filter((e) => !replaced.has(e.path)).concat(variant.entries);
      entries.sort((a, b) => comparePaths(a.path, b.path));
      out = { ...recorded, builder: wanted.id, ignore: variant.ignore, entries };
    } else {
      out = {
        ...refilterContext(recorded, wanted, warnings, where),
        incomplete: walks
          ? `${where} could not record what builder ${wanted.id} receives (its walk failed when the snapshot was taken)`
          : `${where} records only what builder ${ctx.builder} receives (taken by an older ctxdiff): take it again to judge ${wanted.id}`,
      };
    }
  }
  if (wanted.attributes.xattrs === 'busts' && ctx.xattrs !== true) {
    const why = `${where} was taken without extended attributes, which builder ${wanted.id} counts`;
    out = { ...out, incomplete: out.incomplete ? `${out.incomplete}; ${why}` : why };
  }
  return out;
}
