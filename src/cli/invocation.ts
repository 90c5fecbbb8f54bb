/**
 * How a build is invoked, from the command line: `--build-arg`, `--target`, `--build-context`, as with
 * `docker buildx build`. Recorded by `snapshot`; used by `diff` for the sides that record none.
 */
import { UsageError } from '../core/errors.js';
import { parseBuildArgs, recordable } from '../core/build-args.js';
import type { BuildInvocation, Context } from '../core/types.js';
import { PROFILES, type BuilderProfile } from '../builders/profiles.js';
import path from 'node:path';
import { isDirectory, load, warn, type CommonOptions } from './common.js';

export interface InvocationOptions {
  buildArg?: string[];
  target?: string;
  buildContext?: string[];
  bake?: string;
  compose?: string;
  buildFile?: string;
}

/** Options every command that judges a build takes. */
export const INVOCATION_OPTIONS: [flags: string, description: string][] = [
  ['--build-arg <name=value...>', 'build-arg values, as given to docker build (NAME alone takes $NAME); secret-looking names are recorded only as a hash'],
  ['--target <stage>', 'the stage to build (as docker build --target): only the stages it needs are judged'],
  ['--build-context <name=dir...>', 'a named build context (as docker buildx build --build-context): a directory, snapshot or tar'],
  ['--bake <target>', 'take context, Dockerfile, args, target and named contexts from this target of docker-bake.json (JSON form)'],
  ['--compose <service>', 'take context, Dockerfile, args, target and additional_contexts from this service of compose.yaml'],
  ['--build-file <file>', 'the Bake or Compose file (default: docker-bake.json, compose.yaml in the working directory)'],
];

/**
 * Apply `--bake`/`--compose`: the definition's Dockerfile, args, target and named contexts, under what the
 * command line gives explicitly. Returns the definition's context directory (undefined without one).
 */
export async function applyBuildDefinition(o: InvocationOptions & { file?: string }): Promise<string | undefined> {
  if (o.bake !== undefined && o.compose !== undefined) throw new UsageError('--bake and --compose exclude each other');
  if (o.bake === undefined && o.compose === undefined) {
    if (o.buildFile !== undefined) throw new UsageError('--build-file needs --bake or --compose');
    return undefined;
  }
  const { readBake, readCompose } = await import('../sources/build-file.js');
  const d = o.bake !== undefined ? readBake(o.bake, o.buildFile) : readCompose(o.compose!, o.buildFile);
  o.file ??= d.dockerfile;
  o.target ??= d.target;
  o.buildArg = [...Object.entries(d.buildArgs).map(([k, v]) => `${k}=${v}`), ...(o.buildArg ?? [])];
  const given = new Set((o.buildContext ?? []).map((c) => c.slice(0, c.indexOf('='))));
  o.buildContext = [...Object.entries(d.contexts).filter(([k]) => !given.has(k)).map(([k, v]) => `${k}=${v}`), ...(o.buildContext ?? [])];
  if (o.buildContext.length === 0) delete o.buildContext;
  return d.context;
}

/** `name=value` pairs of `--build-context`. */
export function parseBuildContexts(list: readonly string[] | undefined): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq <= 0 || eq === a.length - 1) throw new UsageError(`--build-context takes name=path, not "${a}"`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

/** Named contexts that are not local files (images, stages, URLs): the builder fetches them; not judged. */
const NOT_LOCAL = /^(docker-image|target|oci-layout|https?|git|ssh):\/\/|^target:/;

/** Load the local named contexts (each walked with its own ignore file, as BuildKit does). */
export async function loadNamedContexts(
  specs: Record<string, string> | undefined,
  o: CommonOptions,
  profile: BuilderProfile,
): Promise<Record<string, Context> | undefined> {
  if (!specs) return undefined;
  const out: Record<string, Context> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (NOT_LOCAL.test(spec)) {
      warn(`named context ${name}=${spec} is not local: not judged`);
      continue;
    }
    // Walked with its own ignore file where the builder applies it, else as it is on disk.
    const walkAs = profile.namedContexts === 'raw' ? { ...profile, ignoreFiles: { besideDockerfile: [], atRoot: [] } } : profile;
    out[name] = (await load(spec, { ...o, file: undefined } as CommonOptions, walkAs)).context;
  }
  return out;
}

/** The invocation the options describe (build args in their recordable form). */
export function invocationOf(o: InvocationOptions & { file?: string }, env: Record<string, string | undefined> = process.env): BuildInvocation {
  const args = parseBuildArgs(o.buildArg, env);
  const contexts = parseBuildContexts(o.buildContext);
  return {
    ...(args ? { buildArgs: recordable(args) } : {}),
    ...(o.file !== undefined ? { dockerfile: o.file } : {}),
    ...(o.target !== undefined ? { target: o.target } : {}),
    ...(contexts ? { contexts } : {}),
  };
}

/**
 * For a directory whose Dockerfile has `RUN --mount`, when a builder bind-mounts the context as it is on
 * disk (`bindMounts: raw-context`: `profile`, or for a snapshot, which serves every builder, any profile):
 * the directory walked without its ignore file. Otherwise undefined.
 */
export async function rawContextFor(
  spec: string,
  o: CommonOptions,
  profile: BuilderProfile,
  forAnyProfile = false,
): Promise<Context | undefined> {
  const raws = forAnyProfile ? Object.values(PROFILES) : [profile];
  if (!raws.some((p) => p.bindMounts === 'raw-context') || !isDirectory(spec)) return undefined;
  const { readDockerfiles } = await import('../dockerfile/locate.js');
  const { dockerfileFor } = await import('../sources/index.js');
  const dfs = readDockerfiles(path.resolve(spec), dockerfileFor(spec, o.file));
  if (!Object.values(dfs.texts).some((t) => /--mount/i.test(t))) return undefined;
  const raw = { ...profile, ignoreFiles: { besideDockerfile: [], atRoot: [] } };
  return (await load(spec, o, raw)).context;
}
