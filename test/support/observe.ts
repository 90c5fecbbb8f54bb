/**
 * Run every cache scenario on every available real builder and print, as Markdown, what happened to each
 * scenario's step, marking every observation that differs from builder-facts.md.
 *
 * Usage: npx tsx test/support/observe.ts [substring of scenario names]
 * Progress goes to stderr, the report to stdout. Exit status 1 if no builder is available.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ALL_REAL_BUILDERS, realBuilders, STORE_BUILDERS, type RealBuilderId } from './realbuilders.js';
import { runScenario, type ScenarioRun } from './scenario-runner.js';
import { expectedEffect, scenarios } from './scenarios.js';

const stepList = (run: ScenarioRun) =>
  run.changed.map((s) => `${s.line}:${s.cached ? 'hit' : 'miss'}`).join(' ');

function cell(run: ScenarioRun | undefined): string {
  if (!run) return 'n/a';
  const expected = expectedEffect(run.scenario, run.builder);
  let text = expected !== undefined && expected !== run.effect ? `**${run.effect}** ≠ facts (${expected})` : run.effect;
  if (run.anomalies.length > 0) text += ' ⚠';
  return text;
}

async function main(): Promise<number> {
  const { available, reason } = await realBuilders();
  if (available.length === 0) {
    console.error(reason ?? 'no real builder available');
    return 1;
  }
  if (reason) console.error(reason);
  const filter = process.argv[2] ?? '';
  const selected = scenarios.filter((s) => s.name.includes(filter));
  const workRoot = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-observe-'));
  const runs = new Map<string, ScenarioRun>();
  const failures: string[] = [];
  const started = Date.now();
  try {
    for (const scenario of selected) {
      for (const builder of scenario.builders ?? ALL_REAL_BUILDERS) {
        if (!available.includes(builder)) continue;
        try {
          const run = await runScenario(scenario, builder, workRoot);
          runs.set(`${scenario.name}/${builder}`, run);
          console.error(`${scenario.name} / ${builder}: ${run.effect} [${stepList(run)}]${run.anomalies.length ? ` ⚠ ${run.anomalies.join('; ')}` : ''}`);
        } catch (error) {
          const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
          failures.push(`${scenario.name} / ${builder}: ${message}`);
          console.error(`${scenario.name} / ${builder}: FAILED ${message}`);
        }
      }
    }
  } finally {
    await rm(workRoot, { recursive: true, force: true });
  }

  const builders: RealBuilderId[] = [...ALL_REAL_BUILDERS, ...STORE_BUILDERS].filter((b) => available.includes(b));
  const lines: string[] = [];
  lines.push(`| scenario | facts | ${builders.join(' | ')} |`);
  lines.push(`|---|---|${builders.map(() => '---|').join('')}`);
  for (const scenario of selected) {
    const cells = builders.map((b) => cell(runs.get(`${scenario.name}/${b}`)));
    lines.push(`| ${scenario.name} | ${scenario.facts} | ${cells.join(' | ')} |`);
  }
  const differences = [...runs.values()].filter((r) => {
    const expected = expectedEffect(r.scenario, r.builder);
    return expected !== undefined && expected !== r.effect;
  });
  lines.push('', `Differences from builder-facts.md: ${differences.length}`);
  for (const r of differences) {
    lines.push(`- ${r.scenario.name} / ${r.builder}: observed ${r.effect}, facts say ${expectedEffect(r.scenario, r.builder)} (steps after change: ${stepList(r)})`);
  }
  const doubtful = [...runs.values()].filter((r) => r.anomalies.length > 0);
  if (doubtful.length > 0) {
    lines.push('', 'Anomalies:');
    for (const r of doubtful) lines.push(`- ${r.scenario.name} / ${r.builder}: ${r.anomalies.join('; ')}`);
  }
  if (failures.length > 0) {
    lines.push('', 'Failed runs:');
    for (const f of failures) lines.push(`- ${f}`);
  }
  lines.push('', `${runs.size} runs in ${Math.round((Date.now() - started) / 1000)} s`);
  process.stdout.write(lines.join('\n') + '\n');
  return failures.length > 0 ? 2 : 0;
}

process.exitCode = await main();
