/**
 * Build definitions where users keep them: a Bake file's target (`docker-bake.json`, the JSON form) or a
 * Compose file's service `build:` section. Each gives the context directory, the Dockerfile, build args,
 * the target stage and named contexts, as `docker buildx bake` / `docker compose build` would pass them.
 *
 * HCL Bake files are not read: the npm HCL parsers are unmaintained ports of Go's parser, and Bake's HCL
 * also evaluates variables and functions that a parser alone does not; `docker buildx bake --print TARGET`
 * prints the resolved definition in the JSON form this module reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { IoError, UsageError } from '../core/errors.js';
import type { BuildInvocation } from '../core/types.js';

export interface BuildDefinition {
  /** The file it came from, and what in it (`target app`, `service api`). */
  file: string;
  what: string;
  /** Context directory. */
  context: string;
  /** Dockerfile path (absolute or relative to the working directory), when the definition names one. */
  dockerfile: string;
  /** Build args in clear (they are recorded hashed where secret-looking), --target, named contexts. */
  buildArgs: Record<string, string>;
  target?: string;
  contexts: Record<string, string>;
}

const BAKE_FILES = ['docker-bake.override.json', 'docker-bake.json'];
const BAKE_HCL = ['docker-bake.hcl', 'docker-bake.override.hcl'];
const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw IoError.from(file, e);
  }
}

/** The first of `names` that exists in `dir`. */
function find(dir: string, names: string[]): string | undefined {
  return names.map((n) => path.join(dir, n)).find((f) => fs.existsSync(f));
}

/** `{K: V}` or `["K=V", "K"]` (Compose lists); values stringified; null values (unset) left out. */
function stringMap(v: unknown, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return out;
  if (Array.isArray(v)) {
    for (const item of v) {
      if (typeof item !== 'string') throw new UsageError(`${what}: expected "KEY=VALUE" strings`);
      const eq = item.indexOf('=');
      if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return out;
  }
  if (!isObject(v)) throw new UsageError(`${what}: expected a map`);
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined) continue;
    if (typeof x === 'object') throw new UsageError(`${what}.${k}: expected a string`);
    out[k] = String(x);
  }
  return out;
}

const optString = (v: unknown, what: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new UsageError(`${what}: expected a string`);
  return v;
};

/**
 * A Bake target (JSON form), `inherits` applied. Paths are relative to the working directory, as with
 * `docker buildx bake`; the Dockerfile is relative to the context.
 */
export function readBake(target: string, file?: string, cwd = process.cwd()): BuildDefinition {
  const f = file ?? find(cwd, BAKE_FILES);
  if (!f) {
    const hcl = find(cwd, BAKE_HCL);
    throw new UsageError(
      hcl
        ? `${path.basename(hcl)}: HCL Bake files are not read; give the JSON form: docker buildx bake --print ${target} > docker-bake.json`
        : `no docker-bake.json in ${cwd} (--build-file names another)`,
    );
  }
  if (/\.hcl$/i.test(f)) throw new UsageError(`${f}: HCL Bake files are not read; give the JSON form: docker buildx bake --print ${target} > docker-bake.json`);
  let doc: unknown;
  try {
    doc = JSON.parse(readText(f));
  } catch (e) {
    if (e instanceof IoError) throw e;
    throw new UsageError(`${f}: not valid JSON (${(e as Error).message})`);
  }
  const targets = isObject(doc) && isObject(doc.target) ? doc.target : undefined;
  if (!targets) throw new UsageError(`${f}: no "target" object`);
  const resolve = (name: string, seen: string[]): Record<string, unknown> => {
    if (seen.includes(name)) throw new UsageError(`${f}: target ${name} inherits itself`);
    const t = targets[name];
    if (!isObject(t)) throw new UsageError(`${f}: no target "${name}" (targets: ${Object.keys(targets).join(', ')})`);
    const parents = Array.isArray(t.inherits) ? t.inherits : [];
    let merged: Record<string, unknown> = {};
    for (const p of parents) {
      const base = resolve(String(p), [...seen, name]);
      merged = { ...merged, ...base, args: { ...(merged.args as object), ...(base.args as object) }, contexts: { ...(merged.contexts as object), ...(base.contexts as object) } };
    }
    return { ...merged, ...t, args: { ...(merged.args as object), ...(t.args as object) }, contexts: { ...(merged.contexts as object), ...(t.contexts as object) } };
  };
  const t = resolve(target, []);
  const what = `${f} target ${target}`;
  const context = path.resolve(cwd, optString(t.context, `${what}: context`) ?? '.');
  const dockerfile = path.resolve(context, optString(t.dockerfile, `${what}: dockerfile`) ?? 'Dockerfile');
  const contexts = Object.fromEntries(Object.entries(stringMap(t.contexts, `${what}: contexts`)).map(([k, v]) => [k, localPath(v, cwd)]));
  const tgt = optString(t.target, `${what}: target`);
  return { file: f, what: `target ${target}`, context, dockerfile, buildArgs: stringMap(t.args, `${what}: args`), ...(tgt ? { target: tgt } : {}), contexts };
}

/** A local path made absolute; images, URLs and `target:` references as they are. */
function localPath(v: string, base: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\/|^target:/i.test(v) ? v : path.resolve(base, v);
}

/**
 * A Compose service's `build:` (a string is the context). Paths are relative to the Compose file's
 * directory; the Dockerfile is relative to the context.
 */
export function readCompose(service: string, file?: string, cwd = process.cwd()): BuildDefinition {
  const f = file ?? find(cwd, COMPOSE_FILES);
  if (!f) throw new UsageError(`no compose.yaml in ${cwd} (--build-file names another)`);
  let doc: unknown;
  try {
    doc = parseYaml(readText(f), { maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof IoError) throw e;
    throw new UsageError(`${f}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const services = isObject(doc) && isObject(doc.services) ? doc.services : undefined;
  const s = services?.[service];
  if (!isObject(s)) throw new UsageError(`${f}: no service "${service}"${services ? ` (services: ${Object.keys(services).join(', ')})` : ''}`);
  const what = `${f} service ${service}`;
  const build = typeof s.build === 'string' ? { context: s.build } : s.build;
  if (!isObject(build)) throw new UsageError(`${what}: no build section`);
  const dir = path.dirname(path.resolve(f));
  const context = path.resolve(dir, optString(build.context, `${what}: build.context`) ?? '.');
  const dockerfile = path.resolve(context, optString(build.dockerfile, `${what}: build.dockerfile`) ?? 'Dockerfile');
  const contexts = Object.fromEntries(
    Object.entries(stringMap(build.additional_contexts, `${what}: build.additional_contexts`)).map(([k, v]) => [k, localPath(v, dir)]),
  );
  const tgt = optString(build.target, `${what}: build.target`);
  return { file: f, what: `service ${service}`, context, dockerfile, buildArgs: stringMap(build.args, `${what}: build.args`), ...(tgt ? { target: tgt } : {}), contexts };
}

/** The invocation a definition gives (build args in clear). */
export function definitionInvocation(d: BuildDefinition): BuildInvocation {
  return {
    buildArgs: d.buildArgs,
    dockerfile: d.dockerfile,
    ...(d.target !== undefined ? { target: d.target } : {}),
    ...(Object.keys(d.contexts).length ? { contexts: d.contexts } : {}),
  };
}
