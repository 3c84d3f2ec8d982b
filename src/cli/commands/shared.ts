// What every command module receives: the I/O, the merged options and a client built from them.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { TenantmlClient } from '../../sdk/client.ts';
import type { FetchLike } from '../../sdk/transport.ts';
import { type ClientSettings, clientFor, type GlobalOptions, resolveSettings } from '../context.ts';
import { type CliIo, UsageError } from '../output.ts';

export interface CommandContext {
  readonly io: CliIo;
  readonly fetch?: FetchLike;
  /** Set by `start`: the process keeps serving after the command returns. */
  keepRunning: boolean;
  /** The settings the last client was built with, for hints when a request fails. */
  settings?: ClientSettings;
}

export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

function settingsOf(ctx: CommandContext, cmd: Command): ClientSettings {
  return resolveSettings(globalsOf(cmd), ctx.io);
}

export function clientOf(ctx: CommandContext, cmd: Command): TenantmlClient {
  ctx.settings = settingsOf(ctx, cmd);
  if (!/^https?:\/\/[^/]/i.test(ctx.settings.baseUrl)) {
    throw new UsageError(
      `--url / TENANTML_URL must be an http:// or https:// URL (got "${ctx.settings.baseUrl}")`,
    );
  }
  return clientFor(ctx.settings, ctx.fetch as typeof fetch | undefined);
}

export const wantsJson = (cmd: Command): boolean => globalsOf(cmd).json === true;

/** Option parser for whole numbers ≥ 0. */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number');
  return Number(value.trim());
}

/** Option parser for whole numbers with a sign (priorities go below zero). */
export function integer(value: string): number {
  if (!/^[-+]?\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number');
  return Number(value.trim());
}

/** Option parser for numbers above 0. */
export function positiveNumber(value: string): number {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a number above 0');
  return n;
}

/** Option parser for any finite number (`0.05`, `12`, `-1`); the server checks the range. */
export function decimalNumber(value: string): number {
  const n = value.trim() === '' ? Number.NaN : Number(value.trim());
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

/** The text of a file named on the command line (relative to the working directory), or a usage error. */
export function readTextFile(ctx: CommandContext, file: string): Promise<string> {
  return readFile(resolve(ctx.io.cwd, file), 'utf8').catch(() => {
    throw new UsageError(`${file} is not a readable file`);
  });
}

/** The whole stream as UTF-8 text. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}
