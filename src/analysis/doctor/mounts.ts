/**
 * Rules about `RUN --mount=type=bind` from the context: a mounted source the builder does not receive (not
 * in the context, or excluded by the ignore file). BuildKit fails the build ("not found"); a builder that
 * mounts the raw context (Buildah 1.43) mounts it anyway, so the two disagree.
 */
import type { DoctorInput, Finding, RuleFamily } from './types.js';

function checkBindMounts(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const sent = new Set(input.entries.map((e) => e.path));
  const onDisk = input.disk ? new Map(input.disk.map((e) => [e.path, e])) : null;
  const out: Finding[] = [];
  for (const ins of model.instructions) {
    for (const m of ins.mounts ?? []) {
      if (m.type !== 'bind' || m.from !== undefined || m.unresolved?.length || m.source === '.' || sent.has(m.source)) continue;
      const disk = onDisk?.get(m.source);
      const excluded = disk?.excluded === true;
      const rule = disk?.rule;
      out.push({
        id: 'bind-mount-not-sent',
        severity: 'error',
        file: model.file,
        line: ins.line,
        message:
          `\`${ins.original.trim()}\` (line ${ins.line}) bind-mounts ${m.source}, which ` +
          (excluded
            ? `${rule ? `${rule.file}:${rule.line} \`${rule.pattern}\`` : 'the ignore file'} excludes from the context: BuildKit fails the build (not found), a builder that mounts the raw context mounts it anyway`
            : `is not in the context: the build fails (not found)`),
        fix: excluded
          ? `re-include it in ${input.ignore?.file ?? '.dockerignore'} (add \`!${m.source}\` after the rule), or mount another path`
          : `create ${m.source} in the context, or fix the mount's source=`,
        paths: [m.source],
      });
    }
  }
  return out;
}

export const MOUNT_RULES: RuleFamily = {
  name: 'bind mounts',
  rules: [
    {
      id: 'bind-mount-not-sent',
      severity: 'error',
      title: 'a RUN bind-mounts a context path the builder does not receive',
      why: 'the path is not in the context or the ignore file excludes it: BuildKit fails the build, a builder that mounts the raw context (Buildah 1.43) mounts it anyway',
      fix: 're-include the path in the ignore file, or mount a path that is sent',
      requires: 'runMount',
    },
  ],
  check: (input) => checkBindMounts(input),
};
