/**
 * ctxdiff as a library: walk a build context like the builder does, snapshot it, compute checksum trees,
 * diff two contexts and judge every Dockerfile step per builder. Everything returns data and throws typed
 * errors (CtxdiffError and subclasses); nothing writes to the terminal.
 */
export type { Context, Entry, EntryType, IgnoreFileInfo, BuildInvocation, BuildArgValue } from './core/types.js';
export { secretLooking, hashBuildArg, recordable as recordableBuildArgs } from './core/build-args.js';
export { comparePaths } from './core/types.js';
export * from './core/errors.js';
export { PROFILES, DEFAULT_BUILDER, builderIds, getProfile } from './builders/profiles.js';
export type { BuilderProfile, AttributeEffects, Effect, ChainRule, MatcherVariant, IgnoreFiles } from './builders/profiles.js';
export { walkContext, type WalkOptions, type WalkProgress } from './context/walk.js';
export { startReaderThreads, stopReaderThreads } from './context/threads.js';
export { nativeSupport } from './context/native.js';
export { loadContext, resolveSource, type ContextSource, type LoadedContext, type LoadOptions, type SourceKind } from './sources/index.js';
export { readTarContext } from './sources/tar.js';
export { SNAPSHOT_SCHEMA_VERSION, encodeSnapshot, decodeSnapshot, writeSnapshot, readSnapshot, isSnapshotFile, type SnapshotMeta } from './snapshot/format.js';
export { computeTree, nodesToDepth, type Tree, type TreeNode } from './analysis/tree.js';
export { diffContexts, changedKinds, type ChangeKind, type PathChange } from './analysis/diff.js';
export {
  judge,
  type VerdictReport,
  type StepVerdict,
  type StepChange,
  type IgnoredChange,
  type Hazard,
  type Verdict,
  type Cause,
  type JudgeOptions,
  type StepInput,
  type InputKind,
  type NamedContextPair,
  type StageNotBuilt,
} from './analysis/verdicts.js';
export { readBake, readCompose, type BuildDefinition } from './sources/build-file.js';
export { parseDockerfile } from './dockerfile/parser.js';
export { isCopy, type DockerfileModel, type Instruction, type CopyInstruction, type RunMount, type Stage } from './dockerfile/model.js';
export { matchPathPattern, sourceCovers } from './dockerfile/path-patterns.js';
export { createIgnoreMatcher, type IgnoreRule, type IgnoreMatcher, type MatchResult } from './ignore/matcher.js';
export { parseIgnoreFile, locateIgnoreFile } from './ignore/ignore-file.js';
export { explain as explainPaths, type WhyReport, type WhyResult } from './analysis/why.js';
export { computeDu, type DuReport } from './analysis/du.js';
export { diagnose, diagnoseDirectory, type DoctorReport, type Finding, type Severity } from './analysis/doctor.js';
export { buildkitDigest, ContentHasher, type ContentHashOptions, type BuildkitDigestOptions, type ContentReader } from './analysis/contenthash.js';
