/**
 * ctxdiff as a library: walk a build context like the builder does, snapshot it, compute checksum trees,
 * diff two contexts and judge every Dockerfile step per builder. Everything returns data and throws typed
 * errors (CtxdiffError and subclasses); nothing writes to the terminal.
 */
export type { Context, Entry, EntryType, IgnoreFileInfo } from './types.js';
export { comparePaths } from './types.js';
export * from './errors.js';
export { PROFILES, DEFAULT_BUILDER, builderIds, getProfile } from './profiles.js';
export type { BuilderProfile, AttributeEffects, Effect, ChainRule, MatcherVariant, IgnoreFiles } from './profiles.js';
export { walkContext, type WalkOptions, type WalkProgress } from './walk.js';
export { startReaderThreads, stopReaderThreads } from './threads.js';
export { loadContext, resolveSource, type ContextSource, type LoadedContext, type LoadOptions, type SourceKind } from './sources/index.js';
export { readTarContext } from './sources/tar.js';
export { SNAPSHOT_SCHEMA_VERSION, encodeSnapshot, decodeSnapshot, writeSnapshot, readSnapshot, isSnapshotFile, type SnapshotMeta } from './snapshot.js';
export { computeTree, nodesToDepth, type Tree, type TreeNode } from './tree.js';
export { diffContexts, changedKinds, type ChangeKind, type PathChange } from './diff.js';
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
} from './verdicts.js';
export { parseDockerfile, isCopy, type DockerfileModel, type Instruction, type CopyInstruction, type Stage } from './dockerfile.js';
export { matchPathPattern, sourceCovers } from './path-patterns.js';
export { parseIgnoreFile, createIgnoreMatcher, locateIgnoreFile, type IgnoreRule, type IgnoreMatcher, type MatchResult } from './ignore.js';
export { explain as explainPaths, type WhyReport, type WhyResult } from './why.js';
export { computeDu, type DuReport } from './du.js';
export { diagnose, diagnoseDirectory, type DoctorReport, type Finding, type Severity } from './doctor.js';
export { buildkitDigest, ContentHasher, type ContentHashOptions, type BuildkitDigestOptions, type ContentReader } from './contenthash.js';
