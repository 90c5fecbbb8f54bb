/**
 * The Dockerfile model: instructions, stages and COPY/ADD sources as the parser (parser.ts) produces them.
 * Its own module so that path-patterns.ts and the analyses can use the types without the parser.
 */

/**
 * Where a COPY/ADD source comes from. `context`: the build context; `remote`: a URL or git
 * repository fetched by the builder (not judged); `heredoc`: an inline file; `stage`: a stage
 * of this Dockerfile (`--from=name|index`); `image`: an external image (`--from=image`).
 */
export type SourceKind = 'context' | 'remote' | 'heredoc' | 'stage' | 'image';

export interface CopySource {
  /** As written (after substitution). */
  raw: string;
  kind: SourceKind;
  /**
   * For context (and stage/image) sources: the path cleaned like Go path.Clean and made relative
   * to the root: '.', 'src', 'src/*.txt' (no leading '/' or './'). For heredocs: the heredoc name.
   * Empty for remote sources.
   */
  path: string;
  /** True if the path contains wildcard characters (* ? [ ) — matched like Go filepath.Match per segment. */
  wildcard: boolean;
  /** For remote sources: an HTTP(S) download or a git repository. */
  remote?: 'http' | 'git';
  /** Variables left unresolved in this source: its path is then not exactly known. */
  unresolved?: string[];
}

/**
 * A `RUN --mount=…` as the builder reads it (BuildKit instructions/commands_runmount.go). Only `bind` mounts
 * are inputs of the step's cache key (their source's content); `cache`, `tmpfs`, `secret` and `ssh` are not.
 */
export interface RunMount {
  /** `bind` (the default), `cache`, `tmpfs`, `secret`, `ssh`. */
  type: string;
  /** The flag value as written (after substitution). */
  spec: string;
  /**
   * Bind mounts: the source path cleaned like a COPY source, relative to the root of `from` (the context
   * when there is no `from`): '.' when `source=` is not given.
   */
  source: string;
  target?: string;
  /** `from=`: a stage, a named build context or an image. */
  from?: string;
  /** The stage `from` names, when it is one of this file. */
  fromStage?: number;
  /** `rw`/`readwrite`: writes stay in the mount (and are dropped). */
  readwrite: boolean;
  /** Variables left unresolved in the mount's fields. */
  unresolved?: string[];
}

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ADD, ENV, ARG, LABEL, WORKDIR, ... */
  keyword: string;
  /** 1-based first line. */
  line: number;
  /** Last line (continuations and heredoc bodies included). */
  endLine: number;
  /** Source text of the instruction: its lines as written (line..endLine), joined with '\n'. */
  text: string;
  /** The logical line as the builder assembles it: continuations joined, comment lines dropped. */
  original: string;
  /**
   * Arguments after flags, after variable substitution where known. Shell-form RUN/CMD/
   * ENTRYPOINT/SHELL: one element, the command line as the builder sees it (never substituted:
   * the shell does that at run time). ENV/LABEL: 'key=value' pairs; ARG: 'name' or 'name=value'.
   */
  args: string[];
  /** e.g. { from: ['build'], chmod: ['755'], exclude: ['*.md','tmp'] }; boolean flags like --link → ['true']. */
  flags: Record<string, string[]>;
  /** Variable names that could not be resolved in this instruction. */
  unresolved: string[];
  /** Index of the stage it belongs to (-1 for global ARGs before the first FROM). */
  stage: number;
  /** True for the JSON (exec) form. */
  json: boolean;
  /** ENV/LABEL/ARG: the pairs, after substitution (value undefined for `ARG name`). */
  pairs?: { key: string; value?: string }[];
  /** Names of the ARGs declared in this stage so far (an ARG instruction included). */
  argsInScope: string[];
  /**
   * The ARG and ENV values this instruction runs with, as the builder passes them to RUN (ENV
   * wins over an ARG of the same name; ARGs without a value are left out): null = value unknown.
   * Base-image ENVs are not listed (unknown to the file). Empty for global ARGs.
   */
  vars: Record<string, string | null>;
  /** Heredoc bodies (COPY/ADD/RUN); content after substitution for expanding COPY/ADD heredocs. */
  heredocs: { name: string; content: string }[];
  /** Canonical form used to decide "the instruction itself changed": keyword + flags + args after substitution (+ heredoc bodies). */
  key: string;
  /** RUN: its `--mount` flags. */
  mounts?: RunMount[];
  /**
   * ARG: each declared name with the value it takes in this build: a string, `null` = unset, `undefined` =
   * unknown (no default and the build's args are not known); `fromBuildArg` when a build arg set it.
   */
  argValues?: { key: string; value: string | null | undefined; fromBuildArg: boolean }[];
}

export interface CopyInstruction extends Instruction {
  keyword: 'COPY' | 'ADD';
  sources: CopySource[];
  dest: string;
  /** --from value, and the stage index it names if it is a stage of this file (undefined if an external image). */
  from?: string;
  fromStage?: number;
  chmod?: string;
  chown?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
}

export interface Stage {
  index: number;
  /** Stage name, lower-cased as the builder stores it. */
  name?: string;
  /** Base image or stage name, after substitution with the global ARGs. */
  base: string;
  /** Index of the earlier stage this one is built FROM, if any. */
  baseStage?: number;
  /** `FROM --platform=` value, after substitution. */
  platform?: string;
  /** Line of the FROM instruction. */
  line: number;
  /** The FROM instruction itself. */
  from: Instruction;
  /** Instructions after FROM, in order. */
  instructions: Instruction[];
  /** Stages this one uses: its base stage, `COPY --from` stages, `RUN --mount=…,from=` stages (sorted, unique). */
  dependsOn: number[];
}

export interface DockerfileModel {
  file: string;
  /** The escape token in force: '\\' or '`'. */
  escape: string;
  /** The `# syntax=` directive value, if any. */
  syntax?: string;
  /** ARG instructions before the first FROM. */
  globalArgs: Instruction[];
  stages: Stage[];
  /** Every instruction in file order (global ARGs and FROMs included). */
  instructions: Instruction[];
}

/** Type guard for COPY/ADD. */
export function isCopy(i: Instruction): i is CopyInstruction {
  return i.keyword === 'COPY' || i.keyword === 'ADD';
}
