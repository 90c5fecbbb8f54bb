/**
 * Builder profiles: every difference between builders lives here, as data.
 * Sources: ../shared/builder-facts.md (observed on Docker 20.10 BuildKit + classic, Buildah 1.28;
 * read in the builders' source) and the project's real-builder tests.
 */
import { UsageError } from '../core/errors.js';

/** How an attribute change affects a COPY/ADD cache key. */
export type Effect = 'busts' | 'ignored';

/**
 * Which .dockerignore reader, matcher and walker semantics apply (details in ignore/matcher.ts, as data):
 * - `patternmatcher`: current moby/patternmatcher + fsutil walker (BuildKit today);
 * - `fileutils-20.10`: Docker 20.10 fileutils with BuildKit 0.8's fsutil walker (no `**` fast paths; every
 *   excluded directory it enters is sent);
 * - `fileutils-20.10-tar`: the same matcher with the docker CLI 20.10 tar walker of the classic builder
 *   (excluded directories are never sent; parents of re-included files appear with default metadata);
 * - `buildah`: containers/storage fileutils and Buildah 1.28's own reader (no fast paths).
 */
export type MatcherVariant = 'patternmatcher' | 'fileutils-20.10' | 'fileutils-20.10-tar' | 'buildah';

/** The ignore-file candidate names, first existing one wins. `{dockerfile}` = path of the -f file. */
export interface IgnoreFiles {
  /** Candidates relative to the Dockerfile's own path (only when a Dockerfile is given). */
  besideDockerfile: string[];
  /** Candidates at the context root. */
  atRoot: string[];
}

/** Which changes of a COPY/ADD source alter the step's cache key. */
export interface AttributeEffects {
  content: Effect;
  /** mtime of files, dirs and symlinks. */
  mtime: Effect;
  /** Permission bits of files (incl. setuid/setgid/sticky, except `ignoredFileModeBits`). */
  fileMode: Effect;
  /**
   * File mode bits a change of which alone does not count, as a mask (0 = none). Buildah 1.28 was observed
   * to keep the step cached when only setuid/setgid changed (the sticky bit busts).
   */
  ignoredFileModeBits: number;
  /** uid/gid. */
  owner: Effect;
  /** user.* extended attributes. */
  xattrs: Effect;
  /** Mode of a directory below a COPY source. */
  subdirMode: Effect;
  /** Mode of a source directory itself (`COPY src …`). */
  sourceDirMode: Effect;
  /** Mode of the context root (`COPY . …`). */
  rootMode: Effect;
  /** Symlink target. */
  symlinkTarget: Effect;
  /** Entry type (file ↔ symlink ↔ dir …). */
  type: Effect;
  /** Adding, removing or renaming a path. */
  presence: Effect;
}

/**
 * How a rebuilt step propagates:
 * - `filesystem`: a COPY is rebuilt when its sources or options change, or an earlier step that changes
 *   the filesystem (COPY/ADD/RUN/FROM) was rebuilt; metadata-only steps (LABEL, ENV, …) do not count.
 * - `any-step`: any earlier step of the stage that changed rebuilds every later step.
 */
export type ChainRule = 'filesystem' | 'any-step';

export interface BuilderProfile {
  id: string;
  title: string;
  /** Whether the profile has been checked against the real builder by the project's tests. */
  verifiedAgainstRealBuilder: boolean;
  ignoreFiles: IgnoreFiles;
  matcher: MatcherVariant;
  attributes: AttributeEffects;
  chain: ChainRule;
  /**
   * BuildKit's incremental context transfer: a file is re-sent only when size, mtime (ns), mode, uid/gid,
   * device or link target differ, so some changes are not seen by a builder that holds the previous context.
   */
  transferHazards: boolean;
  /**
   * With a Dockerfile outside the context, the client appends the temporary name it gives the Dockerfile to
   * the `.dockerignore` it sends, so `.dockerignore` has new content on every build (docker CLI 20.10 with
   * the classic builder, observed): every step that takes it is rebuilt every time.
   */
  rewritesIgnoreForOutsideDockerfile: boolean;
  /**
   * What the builder does with the ignore file inside a tar context (`docker build - < ctx.tar`):
   * `all` = excludes what it names, as for a directory; `build-files` = only removes the ignore file and
   * the Dockerfile when the patterns name them; `none` = nothing (observed on Docker 20.10: BuildKit `none`,
   * classic `build-files`; Buildah and kaniko `all` from their source).
   */
  tarIgnoreScope: 'all' | 'build-files' | 'none';
  /**
   * `COPY --link` makes a layer that does not depend on the steps before it: a rebuilt earlier step does not
   * rebuild it (current BuildKit, from its source; Docker 20.10's built-in frontend rejects --link).
   */
  linkedCopiesIndependent: boolean;
  /**
   * Which of BuildKit's content-digest algorithms (cache/contenthash) this builder uses, for
   * `tree --digest buildkit`; null for builders that are not BuildKit.
   */
  contentDigest: 'current' | 'v0.8' | null;
  /**
   * A directory context with a name that is not UTF-8 fails to transfer: current BuildKit's file-sync
   * protocol carries paths as protobuf strings (observed with Docker 28.5 / buildx 0.29: "grpc: failed to
   * unmarshal the received message: string field contains invalid UTF-8"); Docker 20.10's BuildKit 0.8
   * sends such names as they are (observed). Absent: false.
   */
  namesMustBeUtf8?: boolean;
  /**
   * What a `RUN --mount=type=bind` from the context brings into the step's cache key (builder-facts.md §8.3):
   * `context`: the content under its source as the context is sent (.dockerignore'd paths do not count;
   * BuildKit); `raw-context`: the same, from the directory as it is on disk (.dockerignore not applied;
   * Buildah 1.43); `not-seen`: nothing, the step stays cached when the mounted files change, a stale build
   * (Buildah 1.28); `rejected`: the builder rejects `RUN --mount` (classic builder).
   */
  bindMounts: 'context' | 'raw-context' | 'not-seen' | 'rejected';
  /** Which stages a build runs: `needed` = those the target needs; `up-to-target` = every stage up to the target. */
  stageSelection: 'needed' | 'up-to-target';
  /**
   * Named build contexts (`--build-context NAME=DIR`): `with-ignore-file` = taken, the directory filtered by
   * its own ignore file (BuildKit via buildx); `raw` = taken as it is on disk, no ignore file applied
   * (observed on Buildah 1.28); `rejected` = the builder does not take them.
   */
  namedContexts: 'with-ignore-file' | 'raw' | 'rejected';
  /** Free-text notes shown with verdicts. */
  notes: string[];
}

const BUILDKIT_ATTRS: AttributeEffects = {
  content: 'busts',
  mtime: 'ignored',
  fileMode: 'busts',
  ignoredFileModeBits: 0,
  owner: 'ignored',
  xattrs: 'ignored',
  subdirMode: 'ignored',
  sourceDirMode: 'ignored',
  rootMode: 'ignored',
  symlinkTarget: 'busts',
  type: 'busts',
  presence: 'busts',
};

const DOCKER_IGNORE_FILES: IgnoreFiles = {
  besideDockerfile: ['{dockerfile}.dockerignore'],
  atRoot: ['.dockerignore'],
};

/** What Buildah, kaniko and the strict view share: a layer chain per step, and a tar context is unpacked. */
const UNPACKING_BUILDER = {
  chain: 'any-step',
  transferHazards: false,
  rewritesIgnoreForOutsideDockerfile: false,
  tarIgnoreScope: 'all',
  linkedCopiesIndependent: false,
  contentDigest: null,
} as const satisfies Partial<BuilderProfile>;

const BUILDKIT: BuilderProfile = {
  id: 'buildkit',
  title: 'BuildKit (current)',
  verifiedAgainstRealBuilder: false,
  ignoreFiles: DOCKER_IGNORE_FILES,
  matcher: 'patternmatcher',
  attributes: BUILDKIT_ATTRS,
  chain: 'filesystem',
  transferHazards: true,
  rewritesIgnoreForOutsideDockerfile: false,
  tarIgnoreScope: 'none',
  linkedCopiesIndependent: true,
  contentDigest: 'current',
  namesMustBeUtf8: true,
  bindMounts: 'context',
  stageSelection: 'needed',
  namedContexts: 'with-ignore-file',
  notes: ['the client sends uid/gid 0:0, so owner changes never reach the cache key'],
};

export const PROFILES: Readonly<Record<string, BuilderProfile>> = Object.freeze({
  buildkit: BUILDKIT,
  'buildkit-0.8': {
    ...BUILDKIT,
    id: 'buildkit-0.8',
    title: 'BuildKit 0.8 (Docker 20.10)',
    verifiedAgainstRealBuilder: true,
    matcher: 'fileutils-20.10',
    linkedCopiesIndependent: false,
    contentDigest: 'v0.8',
    namesMustBeUtf8: false,
    namedContexts: 'rejected',
  },
  classic: {
    id: 'classic',
    title: 'Docker classic builder (DOCKER_BUILDKIT=0)',
    verifiedAgainstRealBuilder: true,
    ignoreFiles: { besideDockerfile: [], atRoot: ['.dockerignore'] },
    matcher: 'fileutils-20.10-tar',
    attributes: { ...BUILDKIT_ATTRS, subdirMode: 'busts', sourceDirMode: 'busts' },
    chain: 'any-step',
    transferHazards: false,
    rewritesIgnoreForOutsideDockerfile: true,
    tarIgnoreScope: 'build-files',
    linkedCopiesIndependent: false,
    contentDigest: null,
    bindMounts: 'rejected',
    stageSelection: 'up-to-target',
    namedContexts: 'rejected',
    notes: [],
  },
  buildah: {
    id: 'buildah',
    title: 'Buildah / Podman (1.28)',
    verifiedAgainstRealBuilder: true,
    ignoreFiles: {
      // Observed on 1.28: beside the Containerfile, .dockerignore wins over .containerignore.
      besideDockerfile: ['{dockerfile}.dockerignore', '{dockerfile}.containerignore'],
      atRoot: ['.containerignore', '.dockerignore'],
    },
    matcher: 'buildah',
    attributes: { ...BUILDKIT_ATTRS, owner: 'busts', xattrs: 'busts', subdirMode: 'busts', ignoredFileModeBits: 0o6000 },
    ...UNPACKING_BUILDER,
    bindMounts: 'not-seen',
    stageSelection: 'needed',
    // Observed: Buildah 1.28 takes --build-context DIR, and sends DIR/.dockerignore'd files too.
    namedContexts: 'raw',
    notes: [],
  },
  kaniko: {
    id: 'kaniko',
    title: 'kaniko (from its source; not verified against a real kaniko)',
    verifiedAgainstRealBuilder: false,
    ignoreFiles: { besideDockerfile: [], atRoot: ['.dockerignore'] },
    matcher: 'patternmatcher',
    attributes: {
      ...BUILDKIT_ATTRS,
      owner: 'busts',
      subdirMode: 'busts',
      sourceDirMode: 'busts',
      rootMode: 'busts',
    },
    ...UNPACKING_BUILDER,
    bindMounts: 'rejected',
    stageSelection: 'up-to-target',
    namedContexts: 'rejected',
    notes: ['a rename alone is ignored when the walk order is unchanged (kaniko does not hash paths)'],
  },
  strict: {
    id: 'strict',
    title: 'strict: every attribute, mtime and owner included (the `tar | md5sum` view)',
    verifiedAgainstRealBuilder: false,
    ignoreFiles: DOCKER_IGNORE_FILES,
    matcher: 'patternmatcher',
    attributes: {
      content: 'busts', mtime: 'busts', fileMode: 'busts', ignoredFileModeBits: 0, owner: 'busts', xattrs: 'busts',
      subdirMode: 'busts', sourceDirMode: 'busts', rootMode: 'busts', symlinkTarget: 'busts',
      type: 'busts', presence: 'busts',
    },
    ...UNPACKING_BUILDER,
    bindMounts: 'context',
    stageSelection: 'up-to-target',
    namedContexts: 'with-ignore-file',
    notes: [],
  },
} satisfies Record<string, BuilderProfile>);

export const DEFAULT_BUILDER = 'buildkit';

export function builderIds(): string[] {
  return Object.keys(PROFILES);
}


/** The profile used when none is chosen. */
export function defaultProfile(): BuilderProfile {
  return PROFILES[DEFAULT_BUILDER]!;
}

/** The profile of an id (from the command line or a snapshot): resolve it once, at the edge, and pass the object on. */
export function getProfile(id: string = DEFAULT_BUILDER): BuilderProfile {
  const p = PROFILES[id];
  if (!p) throw new UsageError(`unknown builder "${id}" (choose from: ${builderIds().join(', ')})`);
  return p;
}
