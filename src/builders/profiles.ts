/**
 * Builder profiles: every difference between builders lives here, as data, one profile per builder and
 * generation where they differ. Sources: ../shared/builder-facts.md (observed on Docker 20.10 BuildKit 0.8 and
 * classic, Buildah 1.28, Docker 28.5 BuildKit via buildx 0.29 and classic, Buildah 1.43; read in the builders'
 * source) and the project's real-builder tests, which check every profile listed with `verifiedBy` against
 * those builders.
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
 * - `patternmatcher-tar`: the current matcher with the docker CLI 23+ tar walker of the classic builder
 *   (observed on Docker 28: fast paths, ancestor rules, never sends an excluded directory);
 * - `buildah`: containers/storage fileutils and Buildah 1.28's own reader (no fast paths).
 */
export type MatcherVariant = 'patternmatcher' | 'fileutils-20.10' | 'fileutils-20.10-tar' | 'patternmatcher-tar' | 'buildah';

/**
 * The ignore-file candidate names, first existing one wins. `{dockerfile}` = path of the Dockerfile: the -f
 * file, or without -f the first of `defaultDockerfiles` that exists at the context root.
 */
export interface IgnoreFiles {
  /** Candidates relative to the Dockerfile's own path. */
  besideDockerfile: string[];
  /** Candidates at the context root. */
  atRoot: string[];
}

/**
 * Where the image store changes a verdict: `graphdriver` (Docker's classic image store, the default of Docker
 * 28) or `containerd` (the containerd image store, default of fresh Docker 29 installs; also what a standalone
 * BuildKit, e.g. buildx's docker-container driver, has: merge ops).
 */
export type ImageStore = 'graphdriver' | 'containerd';
export const IMAGE_STORES: readonly ImageStore[] = ['graphdriver', 'containerd'];
export const DEFAULT_STORE: ImageStore = 'graphdriver';

/**
 * What a builder does with a COPY/ADD flag: `supported`; `ignored` (accepted, no effect: the step behaves as
 * without it); `rejected` (the build fails: ctxdiff gives the step `unknown`).
 */
export type FlagSupport = 'supported' | 'ignored' | 'rejected';

export interface CopyFlags {
  /** `COPY --link`: when supported, independent of the earlier steps on the stores of `linkIndependentWith`. */
  link: FlagSupport;
  /** Image stores on which a `--link` copy does not depend on the steps before it. */
  linkIndependentWith: readonly ImageStore[];
  /**
   * `COPY --exclude=PAT`: `source` = PAT matches paths relative to each source (BuildKit); `context` = PAT
   * matches context-relative paths (Buildah 1.43: `*.log` misses `src/x.log`, `src/*.log` catches it).
   */
  exclude: 'rejected' | 'ignored' | { supported: 'source' | 'context' };
  /** `COPY --parents` (keep the source's parent directories). */
  parents: FlagSupport;
  /**
   * `ADD --checksum=sha256:…` of an HTTP(S) source: `supported` = enforced (a changed remote file fails the
   * build). Observed: current BuildKit and Buildah 1.43 enforce it; Docker 28's classic builder accepts it
   * and ignores it (a changed file still builds); BuildKit 0.8, Docker 20.10's classic builder and Buildah
   * 1.28 reject it (test/realbuilders.doctor.test.ts).
   */
  addChecksum: FlagSupport;
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
  /** The real builder versions the project's real-builder tests check this profile against; empty: none. */
  verifiedBy: readonly string[];
  /** Whether the profile has been checked against a real builder (`verifiedBy` is not empty). */
  verifiedAgainstRealBuilder: boolean;
  /** The image store this profile assumes (see `ImageStore`; `--store`). */
  store: ImageStore;
  /** Dockerfile names looked for at the context root without -f, in order. */
  defaultDockerfiles: readonly string[];
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
  /** COPY/ADD flags the builder supports, ignores or rejects. */
  copyFlags: CopyFlags;
  /**
   * `COPY --link` makes a layer that does not depend on the steps before it: a rebuilt earlier step does not
   * rebuild it. Derived: `--link` supported and independent on this profile's store (current BuildKit with
   * the containerd image store, observed; with Docker 28's default store it is a plain COPY).
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

/** Flags of Docker 20.10 and Buildah 1.28: none of the newer ones. */
const NO_NEW_FLAGS: CopyFlags = { link: 'rejected', linkIndependentWith: [], exclude: 'rejected', parents: 'rejected', addChecksum: 'rejected' };

/** What Buildah, kaniko and the strict view share: a layer chain per step, and a tar context is unpacked. */
const UNPACKING_BUILDER = {
  chain: 'any-step',
  transferHazards: false,
  rewritesIgnoreForOutsideDockerfile: false,
  tarIgnoreScope: 'all',
  contentDigest: null,
  store: DEFAULT_STORE,
} as const satisfies Partial<BuilderProfile>;

/** Versions of the real builders the real-builder tests run (builder-facts.md, .ci/run). */
const DOCKER_28_BUILDKIT = 'Docker 28.5.2 embedded BuildKit (Dockerfile frontend 1.19, BuildKit v0.25 line) via buildx 0.29.1';
const DOCKER_28_BUILDKIT_C8D = 'Docker 28.5.2 embedded BuildKit with the containerd image store (--store containerd)';
const DOCKER_20_BUILDKIT = 'Docker 20.10.24 built-in BuildKit 0.8 (DOCKER_BUILDKIT=1)';
const DOCKER_28_CLASSIC = 'Docker 28.5.2 classic builder (DOCKER_BUILDKIT=0)';
const DOCKER_20_CLASSIC = 'Docker 20.10.24 classic builder (DOCKER_BUILDKIT=0)';

type ProfileData = Omit<BuilderProfile, 'linkedCopiesIndependent' | 'verifiedAgainstRealBuilder'>;

const BUILDKIT: ProfileData = {
  id: 'buildkit',
  title: 'BuildKit (current)',
  verifiedBy: [DOCKER_28_BUILDKIT, DOCKER_28_BUILDKIT_C8D],
  store: DEFAULT_STORE,
  defaultDockerfiles: ['Dockerfile'],
  ignoreFiles: DOCKER_IGNORE_FILES,
  matcher: 'patternmatcher',
  attributes: BUILDKIT_ATTRS,
  chain: 'filesystem',
  transferHazards: true,
  rewritesIgnoreForOutsideDockerfile: false,
  tarIgnoreScope: 'none',
  // --parents needs the labs Dockerfile syntax (a `# syntax=` line): the built-in frontend rejects it.
  copyFlags: { link: 'supported', linkIndependentWith: ['containerd'], exclude: { supported: 'source' }, parents: 'rejected', addChecksum: 'supported' },
  contentDigest: 'current',
  namesMustBeUtf8: true,
  bindMounts: 'context',
  stageSelection: 'needed',
  namedContexts: 'with-ignore-file',
  notes: ['the client sends uid/gid 0:0, so owner changes never reach the cache key'],
};

const BUILDAH: ProfileData = {
  id: 'buildah',
  title: 'Buildah / Podman (current: 1.43)',
  verifiedBy: ['Buildah 1.43.2 (vfs, bud --layers)'],
  defaultDockerfiles: ['Containerfile', 'Dockerfile'],
  ignoreFiles: {
    // Observed on 1.28 and 1.43: beside the Containerfile, .dockerignore wins over .containerignore.
    besideDockerfile: ['{dockerfile}.dockerignore', '{dockerfile}.containerignore'],
    atRoot: ['.containerignore', '.dockerignore'],
  },
  matcher: 'buildah',
  // 1.43: an owner change no longer busts (1.28: it does); xattrs still do.
  attributes: { ...BUILDKIT_ATTRS, xattrs: 'busts', subdirMode: 'busts', ignoredFileModeBits: 0o6000 },
  ...UNPACKING_BUILDER,
  // --link: accepted, and the step still follows the chain (observed on 1.43).
  copyFlags: { link: 'ignored', linkIndependentWith: [], exclude: { supported: 'context' }, parents: 'supported', addChecksum: 'supported' },
  // Observed on 1.43: a bind mount is the raw context (a .dockerignore'd file's change rebuilds the RUN).
  bindMounts: 'raw-context',
  stageSelection: 'needed',
  // Observed on 1.43: DIR of --build-context is walked with DIR's own .dockerignore (1.28 sends it whole).
  namedContexts: 'with-ignore-file',
  notes: [],
};

const CLASSIC: ProfileData = {
  id: 'classic',
  title: 'Docker classic builder (DOCKER_BUILDKIT=0), Docker 23 to 28',
  verifiedBy: [DOCKER_28_CLASSIC],
  store: DEFAULT_STORE,
  defaultDockerfiles: ['Dockerfile'],
  ignoreFiles: { besideDockerfile: [], atRoot: ['.dockerignore'] },
  matcher: 'patternmatcher-tar',
  attributes: { ...BUILDKIT_ATTRS, subdirMode: 'busts', sourceDirMode: 'busts' },
  chain: 'any-step',
  transferHazards: false,
  rewritesIgnoreForOutsideDockerfile: true,
  tarIgnoreScope: 'build-files',
  // Docker 28's classic builder accepts --link and --exclude and ignores them; it rejects --parents (observed).
  copyFlags: { link: 'ignored', linkIndependentWith: [], exclude: 'ignored', parents: 'rejected', addChecksum: 'ignored' },
  contentDigest: null,
  bindMounts: 'rejected',
  stageSelection: 'up-to-target',
  namedContexts: 'rejected',
  notes: ['COPY --link and --exclude are accepted and ignored'],
};

const PROFILE_DATA: readonly ProfileData[] = [
  BUILDKIT,
  {
    ...BUILDKIT,
    id: 'buildkit-0.8',
    title: 'BuildKit 0.8 (Docker 20.10)',
    verifiedBy: [DOCKER_20_BUILDKIT],
    matcher: 'fileutils-20.10',
    copyFlags: NO_NEW_FLAGS,
    contentDigest: 'v0.8',
    namesMustBeUtf8: false,
    namedContexts: 'rejected',
  },
  CLASSIC,
  {
    ...CLASSIC,
    id: 'classic-20.10',
    title: 'Docker 20.10 classic builder (DOCKER_BUILDKIT=0)',
    verifiedBy: [DOCKER_20_CLASSIC],
    matcher: 'fileutils-20.10-tar',
    copyFlags: NO_NEW_FLAGS,
    notes: [],
  },
  BUILDAH,
  {
    ...BUILDAH,
    id: 'buildah-1.28',
    title: 'Buildah / Podman 1.28',
    verifiedBy: ['Buildah 1.28.2 (vfs, bud --layers)'],
    attributes: { ...BUILDAH.attributes, owner: 'busts' },
    copyFlags: NO_NEW_FLAGS,
    // Observed on 1.28: a bind-mount change is not seen (a stale build); --build-context DIR is taken and
    // DIR's .dockerignore'd files are sent too.
    bindMounts: 'not-seen',
    namedContexts: 'raw',
  },
  {
    id: 'kaniko',
    title: 'kaniko (from its source; not verified against a real kaniko)',
    verifiedBy: [],
    defaultDockerfiles: ['Dockerfile'],
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
    copyFlags: { link: 'ignored', linkIndependentWith: [], exclude: 'rejected', parents: 'rejected', addChecksum: 'rejected' },
    notes: ['a rename alone is ignored when the walk order is unchanged (kaniko does not hash paths)'],
  },
  {
    id: 'strict',
    title: 'strict: every attribute, mtime and owner included (the `tar | md5sum` view)',
    verifiedBy: [],
    defaultDockerfiles: ['Dockerfile', 'Containerfile'],
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
    copyFlags: { link: 'ignored', linkIndependentWith: [], exclude: { supported: 'source' }, parents: 'supported', addChecksum: 'supported' },
    notes: [],
  },
];

/** A profile as used: its data resolved for an image store. */
function resolve(data: ProfileData, store: ImageStore): BuilderProfile {
  return {
    ...data,
    store,
    verifiedAgainstRealBuilder: data.verifiedBy.length > 0,
    linkedCopiesIndependent: data.copyFlags.link === 'supported' && data.copyFlags.linkIndependentWith.includes(store),
  };
}

/** Every profile with the default image store, by id. */
export const PROFILES: Readonly<Record<string, BuilderProfile>> = Object.freeze(
  Object.fromEntries(PROFILE_DATA.map((d) => [d.id, Object.freeze(resolve(d, DEFAULT_STORE))])),
);

export const DEFAULT_BUILDER = 'buildkit';

export function builderIds(): string[] {
  return Object.keys(PROFILES);
}

/** The profile used when none is chosen. */
export function defaultProfile(): BuilderProfile {
  return PROFILES[DEFAULT_BUILDER]!;
}

/**
 * The profile of builder `id` (from the command line or a snapshot: resolve it once, at the edge, and pass the
 * object on), for an image store (default: what a plain `docker build` on Docker 28 uses).
 * The store only matters where the profile's data says so (`copyFlags.linkIndependentWith`).
 */
export function getProfile(id: string = DEFAULT_BUILDER, options: { store?: ImageStore } = {}): BuilderProfile {
  const p = PROFILES[id];
  if (!p) throw new UsageError(`unknown builder "${id}" (choose from: ${builderIds().join(', ')})`);
  const store = options.store ?? DEFAULT_STORE;
  if (!IMAGE_STORES.includes(store)) throw new UsageError(`unknown image store "${store}" (choose from: ${IMAGE_STORES.join(', ')})`);
  return store === p.store ? p : Object.freeze(resolve(PROFILE_DATA.find((d) => d.id === id)!, store));
}
