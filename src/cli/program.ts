/**
 * The command-line program: the table of commands (one module each under commands/), and the mapping of
 * errors to one-line messages and exit codes. Commands only parse arguments, call the core, pick a reporter
 * and set the exit code.
 * Exit codes: 0 fine; 1 a change that busts a step (with --exit-code); 2 usage or I/O error.
 */
import { Command, CommanderError } from './common.js';
import { CtxdiffError } from '../core/errors.js';
import { escapeControls } from '../core/names.js';
import { VERSION } from '../core/version.js';
import { registerSnapshot } from './commands/snapshot.js';
import { registerTree } from './commands/tree.js';
import { registerLs } from './commands/ls.js';
import { registerDiff } from './commands/diff.js';
import { registerWhy } from './commands/why.js';
import { registerDu } from './commands/du.js';
import { registerDoctor } from './commands/doctor.js';
import { registerExplain } from './commands/explain.js';
import { registerBuilders } from './commands/builders.js';

/** Every command, in the order `--help` lists them. */
const COMMANDS: readonly ((program: Command) => void)[] = [
  registerSnapshot,
  registerTree,
  registerLs,
  registerDiff,
  registerWhy,
  registerDu,
  registerDoctor,
  registerExplain,
  registerBuilders,
];

export function buildProgram(): Command {
  const program = new Command('ctxdiff')
    .description('Tells you exactly why your Docker build cache was invalidated.')
    .version(VERSION, '-V, --version')
    .option('--debug', 'show stack traces for errors, and why the stat cache or the native helpers are not used')
    // --debug is the program's option: the command's own options (what its action reads) say it too.
    .hook('preAction', (root, action) => {
      if (root.opts().debug) action.setOptionValue('debug', true);
    })
    .showHelpAfterError('(run ctxdiff --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Run the commands on `argv` (as process.argv); sets process.exitCode. */
export async function run(argv: string[]): Promise<void> {
  const program = buildProgram();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
  } catch (e) {
    process.exitCode = handleError(e, debug);
  }
}

function handleError(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) {
    // Help and version exit 0; commander has already printed its message.
    return e.exitCode === 0 ? 0 : 2;
  }
  if (e instanceof CtxdiffError) {
    process.stderr.write(`ctxdiff: ${escapeControls(e.message)}\n`);
    if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  process.stderr.write(`ctxdiff: internal error: ${escapeControls(err?.message ?? String(e))}${debug ? '' : ' (run with --debug for details)'}\n`);
  if (debug && err?.stack) process.stderr.write(`${err.stack}\n`);
  return 2;
}
