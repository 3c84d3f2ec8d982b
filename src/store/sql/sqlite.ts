// The SQLite adapter: one better-sqlite3 connection in WAL mode. SQLite has one writer at a time, so this
// store is for the embedded profile (API and workers in one process tree); there is no row-level security,
// and isolation rests on every query naming its tenant.
import Database from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';
import type { SqlContext } from './context.ts';
import { migrate } from './migrations.ts';
import type { DB } from './schema.ts';

const STATEMENT_CACHE = 256;

/**
 * better-sqlite3 refuses to bind booleans, and preparing is a good part of a small query's cost; this
 * wrapper binds true/false as 1/0 and keeps recently used statements prepared.
 */
function wrap(raw: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  const bind = (params: ReadonlyArray<unknown>): unknown[] =>
    params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
  return {
    close: () => raw.close(),
    prepare(text: string): SqliteStatement {
      let stmt = cache.get(text);
      if (stmt) {
        cache.delete(text); // re-insert below: the Map's order is the recency order
      } else {
        stmt = raw.prepare(text);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, stmt);
      const s = stmt;
      return {
        reader: s.reader,
        all: (params) => s.all(...bind(params)),
        run: (params) => s.run(...bind(params)),
        iterate: (params) => s.iterate(...bind(params)),
      };
    },
  };
}

export interface SqliteHandle {
  ctx: SqlContext;
  close(): Promise<void>;
}

/** Opens (creating if needed) the database file, or an in-memory one for `:memory:`, and migrates it. */
export async function openSqlite(path: string): Promise<SqliteHandle> {
  const raw = new Database(path);
  try {
    raw.pragma('journal_mode = WAL');
    raw.pragma('busy_timeout = 5000');
    raw.pragma('foreign_keys = ON');
    raw.pragma('synchronous = NORMAL');
  } catch (e) {
    raw.close();
    throw e;
  }
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: wrap(raw) }) });
  try {
    await migrate(db, 'sqlite');
  } catch (e) {
    await db.destroy();
    throw e;
  }
  const ctx: SqlContext = {
    dialect: 'sqlite',
    capabilities: { rowLevelSecurity: false, singleWriter: true, crossProcess: false },
    db,
    scoped: (_scope, fn) => db.transaction().execute(fn),
    system: (fn) => db.transaction().execute(fn),
    lockTenant: async () => {},
  };
  return { ctx, close: () => db.destroy() };
}
