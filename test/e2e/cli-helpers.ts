// Shared by the CLI's end-to-end tests: run `tenantml` as a child process, and a small training set.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../../src/cli/program.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
// Children run in temp folders, where a bare `--import tsx` would not resolve.
export const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
export const MAIN = join(ROOT, 'src/cli/main.ts');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** This process's environment without any TENANTML_ variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('TENANTML_') && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

export function cli(args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, MAIN, ...args],
      { cwd, env: cleanEnv(env), timeout: 30_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

/** The CLI in this process (fast, for output that needs no separate process): its exit code and output. */
export async function cliInProcess(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  opts: { cwd?: string; stdin?: NodeJS.ReadableStream } = {},
): Promise<Run & { keepRunning: boolean }> {
  let stdout = '';
  let stderr = '';
  const r = await runCli(argv, {
    env,
    cwd: opts.cwd ?? process.cwd(),
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code: r.exitCode, stdout, stderr, keepRunning: r.keepRunning };
}

/** Two numbers and a colour decide a yes/no label. */
export function leadsCsv(n: number): string {
  const lines = ['x1,x2,colour,label'];
  for (let i = 0; i < n; i++) {
    const x1 = ((i * 37) % 101) / 10;
    const x2 = ((i * 53) % 89) / 10;
    const colour = ['red', 'green', 'blue'][i % 3];
    lines.push(`${x1},${x2},${colour},${x1 + x2 + (colour === 'red' ? 2 : 0) > 10 ? 'yes' : 'no'}`);
  }
  return `${lines.join('\n')}\n`;
}
