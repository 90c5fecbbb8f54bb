/**
 * Rules about what FROM and ADD fetch from outside the context: a base image by a moving tag, an ADD of a
 * URL without a checksum or of a git repository without a pinned commit, and an ADD of a local file that is
 * not an archive (COPY is meant).
 */
import { isCopy } from '../../dockerfile/model.js';
import { VOLATILE_NAME } from './volatile.js';
import type { DoctorInput, Finding, RuleFamily } from './types.js';

// ---------------------------------------------------------------------------------------------------------
// Base images by a moving tag
// ---------------------------------------------------------------------------------------------------------

/** `registry:5000/org/name:tag@sha256:…` → its tag (undefined: none) and digest. */
export function imageRef(ref: string): { name: string; tag?: string; digest?: string } {
  const [nameTag, digest] = ref.split('@', 2) as [string, string | undefined];
  const slash = nameTag.lastIndexOf('/');
  const colon = nameTag.lastIndexOf(':');
  return colon > slash ? { name: nameTag.slice(0, colon), tag: nameTag.slice(colon + 1), digest } : { name: nameTag, digest };
}

function checkBaseImages(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const perBuild = model.globalArgs.flatMap((a) => (a.pairs ?? []).map((p) => ({ name: p.key, line: a.line }))).filter((a) => VOLATILE_NAME.test(a.name));
  const out: Finding[] = [];
  for (const stage of model.stages) {
    const from = stage.from;
    if (stage.baseStage !== undefined || stage.base.toLowerCase() === 'scratch') continue;
    const inFrom = perBuild.find((a) => new RegExp(`\\$\\{?${a.name}\\b`).test(from.original));
    if (!inFrom && from.unresolved.length > 0) continue; // the image is not known from the file
    const ref = imageRef(stage.base);
    if (ref.digest && !inFrom) continue;
    const platform = from.flags.platform?.[0];
    const alias = stage.name ? ` AS ${/\bAS\s+(\S+)/i.exec(from.original)?.[1] ?? stage.name}` : '';
    const pinned = `FROM ${platform ? `--platform=${platform} ` : ''}${inFrom ? '<image>:<tag>' : stage.base}@sha256:<digest>${alias}`;
    const what = ref.tag === undefined ? 'no tag (= latest)' : ref.tag === 'latest' ? 'the tag latest' : `the tag ${ref.tag}`;
    const warning = inFrom ?? perBuild[0];
    out.push({
      id: 'base-image-moving-tag',
      severity: warning ? 'warning' : 'info',
      file: model.file,
      line: from.line,
      message: inFrom
        ? `\`${from.original}\` (line ${from.line}) picks its base image with the per-build ARG ${inFrom.name} (line ${inFrom.line}): a new base on every build rebuilds every step of the stage`
        : `\`${from.original}\` (line ${from.line}) names ${ref.name} by ${what}, which upstream moves: when it is re-released, every step of the stage rebuilds` +
          ` (with \`--pull\`, as CI often builds, whenever upstream publishes), and two builds of the same Dockerfile can differ` +
          (warning ? `; the per-build ARG ${warning.name} above FROM (line ${warning.line}) says this file is built per build, where that happens` : ''),
      fix: inFrom
        ? `build FROM a fixed image (a pinned tag or digest), and pass ${inFrom.name} to the steps that need it with an ARG in the stage`
        : [`# the digest: docker buildx imagetools inspect ${stage.base}`, pinned].join('\n'),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// ADD of a URL without a checksum, of a git repository without a pinned commit
// ---------------------------------------------------------------------------------------------------------

function checkRemoteAdds(input: DoctorInput, addChecksum: boolean): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const out: Finding[] = [];
  for (const ins of model.instructions) {
    if (!isCopy(ins) || ins.keyword !== 'ADD' || ins.flags.checksum) continue;
    for (const s of ins.sources) {
      if (s.kind !== 'remote') continue;
      if (s.remote === 'http') {
        const dest = ins.dest.endsWith('/') ? `${ins.dest}${s.raw.replace(/[?#].*$/, '').split('/').pop() || 'download'}` : ins.dest;
        out.push({
          id: 'add-url-unpinned',
          severity: 'warning',
          file: model.file,
          line: ins.line,
          message:
            `\`${ins.original}\` (line ${ins.line}) fetches ${s.raw} on every build to compute the step's key: a changed remote file rebuilds this step and everything after it ` +
            `with nothing changed in the context or the Dockerfile, and an unchanged one is still downloaded each time`,
          fix: addChecksum
            ? [`# the checksum: curl -fsSL ${s.raw} | sha256sum`, ins.text.replace(/^(\s*ADD)\b/i, '$1 --checksum=sha256:<sha256>')].join('\n')
            : `${input.profile.id} has no ADD --checksum: download in a RUN keyed on the pinned checksum (or commit the file and COPY it):\n` +
              `RUN wget -qO ${dest} ${s.raw} && echo "<sha256>  ${dest}" | sha256sum -c -`,
        });
      } else if (s.remote === 'git') {
        const ref = s.raw.includes('#') ? s.raw.slice(s.raw.indexOf('#') + 1).split(':')[0]! : '';
        if (/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(ref)) continue;
        const [repo, fragment = ''] = s.raw.split('#', 2) as [string, string?];
        // `#ref:subdir`: keep the subdirectory.
        const subdir = fragment.includes(':') ? fragment.slice(fragment.indexOf(':')) : '';
        out.push({
          id: 'add-git-unpinned',
          severity: 'warning',
          file: model.file,
          line: ins.line,
          message:
            `\`${ins.original}\` (line ${ins.line}) adds ${repo} at ${ref ? `\`${ref}\`, a branch or tag that moves` : 'its default branch'}: ` +
            `a new commit upstream rebuilds this step and everything after it with nothing changed here, and two builds can differ`,
          fix: [`# the commit: git ls-remote ${repo} ${ref || 'HEAD'}`, ins.text.replace(s.raw, `${repo}#<commit sha>${subdir}`)].join('\n'),
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// ADD of a local file that is not an archive
// ---------------------------------------------------------------------------------------------------------

/** Docker's archive detection: tar, gzip, bzip2, xz or zstd by magic bytes (pkg/archive DetectCompression). */
export function isArchive(head: Uint8Array): boolean {
  const starts = (...b: number[]) => b.every((x, i) => head[i] === x);
  if (starts(0x1f, 0x8b, 0x08) || starts(0x42, 0x5a, 0x68) || starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00) || starts(0x28, 0xb5, 0x2f, 0xfd)) return true;
  return head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar';
}

function checkAddLocal(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const byPath = new Map(input.entries.map((e) => [e.path, e]));
  const out: Finding[] = [];
  for (const ins of model.instructions) {
    if (!isCopy(ins) || ins.keyword !== 'ADD' || ins.from !== undefined) continue;
    const local = ins.sources.filter((s) => s.kind === 'context' && !s.wildcard && !s.unresolved?.length);
    if (local.length === 0 || local.length !== ins.sources.length) continue;
    const plain = local.every((s) => {
      const e = byPath.get(s.path);
      if (!e) return false;
      if (e.type === 'dir') return true;
      if (e.type !== 'file') return false;
      const head = input.readHead?.(s.path);
      return head != null && !isArchive(head);
    });
    if (!plain) continue;
    out.push({
      id: 'add-local-file',
      severity: 'warning',
      file: model.file,
      line: ins.line,
      message: `\`${ins.original}\` adds ${local.map((s) => s.raw).join(', ')}, which ${local.length === 1 ? 'is' : 'are'} not an archive: ADD only differs from COPY by unpacking archives and fetching URLs`,
      fix: ins.text.replace(/^(\s*)ADD\b/i, '$1COPY'),
    });
  }
  return out;
}

export const REMOTE_RULES: RuleFamily = {
  name: 'base images and ADD',
  rules: [
    {
      id: 'base-image-moving-tag',
      severity: 'info',
      title: 'a base image by a moving tag (`FROM node:20`, `:latest`, no tag)',
      why:
        'a re-released base rebuilds every step of the stage (with `--pull` in CI: whenever upstream publishes), and builds are not reproducible ' +
        '(warning when a per-build ARG above FROM marks a per-build CI file, or picks the image)',
      fix: '`FROM image:tag@sha256:<digest>` (digest from `docker buildx imagetools inspect`)',
    },
    {
      id: 'add-url-unpinned',
      severity: 'warning',
      title: '`ADD https://…` without `--checksum`',
      why: 'the file is fetched on every build to compute the key; a changed remote file silently rebuilds the step and everything after it',
      fix: '`ADD --checksum=sha256:<sha256> <url> <dest>` where the builder has it (current BuildKit), else a RUN that downloads and checks the pinned sha256',
    },
    {
      id: 'add-git-unpinned',
      severity: 'warning',
      title: '`ADD` of a git repository without a pinned commit',
      why: 'a branch, tag or default branch moves: a new upstream commit rebuilds the step and everything after it',
      fix: '`ADD <repo>#<commit sha> <dest>`',
    },
    {
      id: 'add-local-file',
      severity: 'warning',
      title: '`ADD` of a local file that is not an archive',
      why: 'ADD only differs from COPY by unpacking archives and fetching URLs; COPY says what is meant',
      fix: 'the same line with COPY',
    },
  ],
  check: (input, ctx) => [...checkBaseImages(input), ...checkRemoteAdds(input, ctx.features.addChecksum), ...checkAddLocal(input)],
};
