/**
 * Rules about OS package managers: a package-list refresh in a RUN of its own (its layer stays cached while
 * the lists go stale), and installs without pinned versions. The managers are data (tools.ts).
 */
import type { Instruction } from '../../dockerfile/model.js';
import { commandAt, runCommand } from './dependencies.js';
import { OS_PACKAGE_MANAGERS, type OsPackageManager } from './tools.js';
import type { DoctorInput, Finding, RuleFamily } from './types.js';

/** A shell-form RUN's command with continuations joined, or null for the exec form. */
const shellCommand = (ins: Instruction): string | null => (ins.keyword === 'RUN' && !ins.json ? runCommand(ins).replace(/\\\r?\n/g, ' ') : null);

function checkSeparateUpdate(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const out: Finding[] = [];
  for (const stage of model.stages) {
    const list = stage.instructions;
    list.forEach((ins, at) => {
      const command = shellCommand(ins);
      if (command === null) return;
      for (const pm of OS_PACKAGE_MANAGERS) {
        if (!pm.update.test(command) || pm.install.test(command)) continue;
        const later = list.slice(at + 1).find((x) => {
          const c = shellCommand(x);
          return c !== null && pm.install.test(c);
        });
        if (!later) continue;
        const install = shellCommand(later)!.trim();
        const cleanup = install.includes(pm.cleanup) ? '' : ` && ${pm.cleanup}`;
        out.push({
          id: 'package-update-separate',
          severity: 'warning',
          file: model.file,
          line: ins.line,
          message:
            `\`${commandAt(command, command.search(pm.update))}\` (line ${ins.line}) runs in a RUN of its own: its layer stays cached while the package lists go stale, ` +
            `so when \`${commandAt(install, install.search(pm.install))}\` (line ${later.line}) is edited, it installs from lists as old as that layer ` +
            `(old versions, or "not found" once the mirror drops them). Refresh and install in one RUN`,
          fix: [`replace line ${ins.line} and line ${later.line} with:`, `RUN ${command.trim()} && ${install}${cleanup}`].join('\n'),
        });
      }
    });
  }
  return out;
}

/** The words of an install command after the install verb, up to the end of that command. */
function packagesOf(command: string, pm: OsPackageManager): string[] | null {
  const m = pm.install.exec(command);
  if (!m) return null;
  const words = commandAt(command, m.index + m[0].length).split(/\s+/).filter(Boolean);
  if (words.some((w) => w.includes('$') || w.includes('`'))) return null; // packages from a variable: unknown
  return words.filter((w) => !w.startsWith('-'));
}

function checkUnpinned(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const out: Finding[] = [];
  for (const ins of model.instructions) {
    const command = shellCommand(ins);
    if (command === null) continue;
    for (const pm of OS_PACKAGE_MANAGERS) {
      if (!pm.pinned) continue;
      const pkgs = packagesOf(command, pm);
      const loose = (pkgs ?? []).filter((p) => !pm.pinned!.test(p));
      if (loose.length === 0) continue;
      out.push({
        id: 'package-install-unpinned',
        severity: 'info',
        file: model.file,
        line: ins.line,
        message:
          `\`${commandAt(command, command.search(pm.install))}\` (line ${ins.line}) installs ${loose.join(', ')} without a version: a rebuild installs whatever the ` +
          `package lists hold that day, so two builds of the same Dockerfile can differ (matters only for an image meant to be reproducible)`,
        fix: `pin each version (find them with \`${pm.versions} ${loose.join(' ')}\` in the base image): ${loose.map((p) => `${p}=<version>`).join(' ')}`,
      });
    }
  }
  return out;
}

export const PACKAGE_RULES: RuleFamily = {
  name: 'OS packages',
  rules: [
    {
      id: 'package-update-separate',
      severity: 'warning',
      title: '`apt-get update` (apk update, dnf/yum makecache, zypper refresh) in a RUN of its own',
      why:
        'the update layer stays cached while the package lists go stale: an install RUN edited months later installs old versions or fails on packages the mirror dropped',
      fix: 'one RUN: `apt-get update && apt-get install -y … && rm -rf /var/lib/apt/lists/*`',
    },
    {
      id: 'package-install-unpinned',
      severity: 'info',
      title: '`apt-get install` / `apk add` without pinned versions',
      why: 'each rebuild installs whatever versions the lists hold that day: builds are not reproducible',
      fix: '`package=<version>` for each package (versions from `apt-cache policy` / `apk policy`)',
    },
  ],
  check: (input) => [...checkSeparateUpdate(input), ...checkUnpinned(input)],
};
