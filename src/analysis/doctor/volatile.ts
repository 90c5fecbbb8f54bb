/**
 * Rules about values that change from build to build: a per-build ARG/ENV above expensive steps (it busts
 * them every build), and a RUN whose output depends on the clock, the commit or a "latest" download while
 * its text stays the same (it never busts: the step keeps the first build's output).
 */
import type { Instruction } from '../../dockerfile/model.js';
import { runCommand } from './dependencies.js';
import { VOLATILE_COMMANDS } from './tools.js';
import type { DoctorInput, Finding, RuleFamily } from './types.js';

export const VOLATILE_NAME =
  /^(BUILD_?(DATE|TIME|TIMESTAMP|ID|NUMBER|NUM|REF)|DATE|TIMESTAMP|NOW|(GIT_)?(COMMIT|SHA|REVISION|REV|HASH)(_?(SHA|ID|HASH|SHORT))?|GIT_(BRANCH|TAG|REF|DESCRIBE)|VCS_REF|CI_(COMMIT_[A-Z_]+|PIPELINE_ID|JOB_ID)|GITHUB_(SHA|RUN_ID|RUN_NUMBER)|BUILD_VERSION|IMAGE_TAG)$/i;

export const uses = (ins: Instruction, name: string) => new RegExp(`\\$(\\{)?${name}\\b`).test(ins.original);

function checkVolatileArgs(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  // A build-arg value reaches every later RUN (as its environment) under every builder; an ENV value also
  // changes the image config, which rebuilds every later step where any changed step does (profile chain).
  const anyStep = input.profile.chain === 'any-step';
  const out: Finding[] = [];
  for (const stage of model.stages) {
    const list = stage.instructions;
    const volatile = new Set<string>();
    list.forEach((ins, at) => {
      if ((ins.keyword !== 'ARG' && ins.keyword !== 'ENV') || !ins.pairs) return;
      const fromVolatile = ins.keyword === 'ENV' && [...volatile].some((v) => uses(ins, v));
      const names = ins.pairs.filter((p) => VOLATILE_NAME.test(p.key) || fromVolatile).map((p) => p.key);
      if (names.length === 0) return;
      for (const n of names) volatile.add(n);
      const firstUse = list.findIndex((x, k) => k > at && names.some((n) => uses(x, n)));
      const end = firstUse < 0 ? list.length : firstUse;
      const chainAll = anyStep && ins.keyword === 'ENV';
      const affected = list.slice(at + 1, end).filter((x) => (chainAll ? x.keyword !== 'ARG' && x.keyword !== 'ENV' : x.keyword === 'RUN'));
      if (affected.length === 0) return;
      const use = firstUse >= 0 ? list[firstUse]! : null;
      const what = `${ins.keyword} ${names.join(' ')}`;
      out.push({
        id: 'volatile-build-value',
        severity: 'warning',
        file: model.file,
        line: ins.line,
        message:
          `\`${what}\` (line ${ins.line}) takes a per-build value (a date, commit or build number) and sits above ` +
          `${affected.length} ${chainAll ? 'step' : 'RUN step'}${affected.length === 1 ? '' : 's'} (from line ${affected[0]!.line}) ` +
          `that ${chainAll ? `${input.profile.id} rebuilds` : 'it enters the cache key of'} whenever the value changes ` +
          `(the first: \`${affected[0]!.original.trim()}\`)`,
        fix: use
          ? `move \`${ins.text}\` down to just above line ${use.line} (\`${use.original}\`), its first use`
          : `remove \`${ins.text}\` (nothing uses it), or declare it just above the instruction that needs it`,
      });
    });
  }
  return out;
}

function checkVolatileRuns(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const out: Finding[] = [];
  for (const ins of model.instructions) {
    if (ins.keyword !== 'RUN') continue;
    const command = runCommand(ins);
    const hits = VOLATILE_COMMANDS.filter((v) => v.test.test(command));
    if (hits.length === 0) continue;
    const shown = hits.map((v) => `\`${v.test.exec(command)![0].trim()}\``).join(', ');
    out.push({
      id: 'volatile-run-output',
      severity: 'warning',
      file: model.file,
      line: ins.line,
      message:
        `${shown} (line ${ins.line}) reads ${hits.map((v) => v.what).join(' and ')} at build time, but the builder keys a RUN on its text, which does not change: ` +
        `this does NOT bust the cache, so every later build reuses the output of the build that first ran it (stale, not rebuilt)`,
      fix: hits.map((v) => v.fix).join('\n'),
    });
  }
  return out;
}

export const VOLATILE_RULES: RuleFamily = {
  name: 'per-build values',
  rules: [
    {
      id: 'volatile-build-value',
      severity: 'warning',
      title: 'a per-build ARG/ENV (date, commit, build number) above expensive steps',
      why: 'a changed build-arg value rebuilds the first RUN after the ARG and everything after it (an ENV also rebuilds every later step where any step chains: classic, Buildah)',
      fix: 'move the ARG/ENV down to just above its first use',
    },
    {
      id: 'volatile-run-output',
      severity: 'warning',
      title: 'a RUN reads the date, the commit or a "latest" download',
      why: 'the RUN text does not change, so the step stays cached and keeps the first build\'s output: a stale hit, the opposite of a bust',
      fix: 'pass the value as a build arg (`ARG BUILD_DATE` … `--build-arg`), or pin the version and checksum in the RUN text',
    },
  ],
  check: (input) => [...checkVolatileArgs(input), ...checkVolatileRuns(input)],
};
