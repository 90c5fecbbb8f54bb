/**
 * Entry point of the command-line interface (bin/ctxdiff.js): the program is in program.ts, each command in
 * commands/. Before it loads them, a command that may walk a context directory starts its reader threads (context/threads.ts) and the
 * loading of the walk's code: both happen while the commands load instead of after them.
 */
import { startReaderThreads, stopReaderThreads } from '../context/threads.js';
import * as errorsModule from '../core/errors.js';

/** Commands that may read and hash a context directory on reader threads (why, du and doctor hash nothing). */
const WALKING_COMMANDS = new Set(['snapshot', 'tree', 'ls', 'diff', 'explain']);

/** Run the CLI on `argv` (as process.argv); sets process.exitCode. */
export async function main(argv: string[]): Promise<void> {
  // A closed pipe (`ctxdiff … | head`) ends the run quietly, as for any Unix filter; any other failure to
  // write the output (a full disk, a closed descriptor) is one line and exit 2: the answer did not get out.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    const { IoError } = errorsModule;
    process.stderr.write(`ctxdiff: ${IoError.from('<stdout>', e).message.replace(/[\u0000-\u001f]/g, ' ')}\n`);
    process.exit(2);
  });
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  if (command !== undefined && WALKING_COMMANDS.has(command) && !argv.includes('--help') && !argv.includes('-h')) {
    startReaderThreads();
    // The code that loads and walks contexts loads along with the commands instead of after them (their
    // files are read in parallel); a failure shows where the command imports it.
    void import('../sources/index.js').catch(() => {});
    void import('../snapshot/writer.js').catch(() => {});
  }
  try {
    const { run } = await import('./program.js');
    await run(argv);
  } finally {
    await stopReaderThreads();
  }
}
