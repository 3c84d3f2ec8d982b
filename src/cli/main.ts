// Entry of the `tenantml` command (bin/tenantml.mjs, `npm run cli`, `npm start`).
import { runCli } from './program.ts';

// `tenantml audit list | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const result = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdin: process.stdin,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTTY: process.stdout.isTTY === true,
  columns: process.stdout.columns,
});
if (!result.keepRunning) {
  // Exit now rather than waiting for idle keep-alive sockets; flush stdout first (pipes may be async).
  process.stdout.write('', () => process.exit(result.exitCode));
}
