/**
 * How a build is invoked, from the command line: `--build-arg`, `--target`, `--build-context`, as with
 * `docker buildx build`. Recorded by `snapshot`; used by `diff` for the sides that record none.
 */
import { UsageError } from '../core/errors.js';
import { parseBuildArgs, recordable } from '../core/build-args.js';
import type { BuildInvocation, Context } from '../core/types.js';
import type { BuilderProfile } from '../builders/profiles.js';
import path from 'node:path';
import { isDirectory, load, warn, type CommonOptions } from './common.js';

export interface InvocationOptions {
  buildArg?: string[];
  target?: string;
  buildContext?: string[];
}

/** Options every command that judges a build takes. */
export const INVOCATION_OPTIONS: [flags: string, description: string][] = [
  ['--build-arg <name=value...>', 'build-arg values, as given to docker build (NAME alone takes $NAME); secret-looking names are recorded only as a hash'],
  ['--target <stage>', 'the stage to build (as docker build --target): only the stages it needs are judged'],
  ['--build-context <name=dir...>', 'a named build context (as docker buildx build --build-context): a directory, snapshot or tar'],
];

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
    out[name] = (await load(spec, { ...o, file: undefined } as CommonOptions, profile)).context;
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
 * For a builder that bind-mounts the context as it is on disk (`bindMounts: raw-context`) and a directory
 * whose Dockerfile has `RUN --mount`: the directory walked without its ignore file. Otherwise undefined.
 */
export async function rawContextFor(spec: string, o: CommonOptions, profile: BuilderProfile): Promise<Context | undefined> {
  if (profile.bindMounts !== 'raw-context' || !isDirectory(spec)) return undefined;
  const { readDockerfiles } = await import('../dockerfile/locate.js');
  const { dockerfileFor } = await import('../sources/index.js');
  const dfs = readDockerfiles(path.resolve(spec), dockerfileFor(spec, o.file));
  if (!Object.values(dfs.texts).some((t) => /--mount/i.test(t))) return undefined;
  const raw = { ...profile, ignoreFiles: { besideDockerfile: [], atRoot: [] } };
  return (await load(spec, o, raw)).context;
}
