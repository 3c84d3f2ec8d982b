// Filesystem adapter of the BlobStore port: one file per blob under a root folder. Writes go to a
// temporary file in the same folder, are fsynced, then renamed over the target, so a reader sees the old
// blob or the whole new one.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from './ports.ts';

/** Largest blob `read` reads in one synchronous call (8 MiB: a few ms from the page cache). */
export const SYNC_READ_MAX_BYTES = 8 * 1024 * 1024;

export class FsBlobStore implements BlobStore {
  readonly kind = 'fs' as const;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Maps a blob path to a file, refusing anything that would leave the root. */
  private file(path: string): string {
    if (
      path.length === 0 ||
      path.startsWith('/') ||
      path.split('/').some((s) => s === '..' || s === '.' || s === '')
    ) {
      throw new Error(`invalid blob path: ${JSON.stringify(path)}`);
    }
    const full = resolve(this.root, path);
    if (!full.startsWith(this.root + sep)) throw new Error('blob path escapes the root');
    return full;
  }

  async put(path: string, body: Readable | Uint8Array): Promise<number> {
    const target = this.file(path);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      if (!(body instanceof Readable)) {
        // Bytes in hand (prediction log batches, model files): one write that fsyncs before it closes,
        // without a stream, a second open for the fsync and a stat — the log's writer thread writes
        // thousands of small files a minute with many tenants.
        await writeFile(tmp, body, { mode: 0o600, flush: true });
        await rename(tmp, target);
        return body.byteLength;
      }
      await pipeline(body, createWriteStream(tmp, { mode: 0o600 }));
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
      return (await stat(target)).size;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(path: string): Promise<Readable> {
    const file = this.file(path);
    await stat(file); // rejects with ENOENT before a stream is handed out
    return createReadStream(file);
  }

  /**
   * Read in one synchronous call when the blob is at most SYNC_READ_MAX_BYTES: a model's artifacts are
   * small (KB to a few MB, usually in the page cache), and on a busy server every asynchronous step of a
   * read (stat, open, each chunk, close) waits a whole turn of the event loop behind the requests being
   * served — a cold model load took 125–190 ms under load where its work is ~8 ms (serve bench (b)).
   * A bigger blob (an imported model of many MB) is read asynchronously, not to hold the loop that long.
   */
  async read(path: string): Promise<Buffer> {
    const file = this.file(path);
    if (statSync(file).size > SYNC_READ_MAX_BYTES) return readFile(file);
    return readFileSync(file);
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(this.file(path));
      return true;
    } catch {
      return false;
    }
  }

  async size(path: string): Promise<number> {
    return (await stat(this.file(path))).size;
  }

  async delete(path: string): Promise<void> {
    await rm(this.file(path), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    const dir = this.file(prefix.replace(/\/+$/, ''));
    await rm(dir, { recursive: true, force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const dir = this.file(prefix.replace(/\/+$/, ''));
    const out: string[] = [];
    const walk = async (d: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(d, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (!e.name.includes('.tmp-')) out.push(relative(this.root, p).split(sep).join('/'));
      }
    };
    await walk(dir);
    return out.sort();
  }
}
