import { DatabaseError, escapeLiteral, Pool, QueryResult, QueryResultRow } from 'pg';
import { quoteIdentifier } from './identifiers';

export type SqlValue = string | number | bigint | boolean | null | undefined | Date | readonly string[];

/**
 * Runs the adapter's statements, optionally as the restricted application role, in ONE round trip each.
 *
 * Why not `SET ROLE` on the connection: the pool is shared with the rest of the process (in embedded mode it is a
 * single PGlite session for everybody), so a session-level role would leak into TypeORM and every other user.
 * Instead each statement is sent as one simple-protocol message `SET LOCAL ROLE app; <statement>`: PostgreSQL
 * runs a multi-statement message as one implicit transaction, so the role holds for exactly that statement and
 * is gone afterwards, also when the statement fails. The simple protocol has no bind parameters, so values are
 * rendered as literals here (pg's own escaping; numbers are checked to be finite).
 */
export class ScopedSql {
  private readonly prefix: string;

  constructor(
    private readonly pool: Pool,
    role?: string,
  ) {
    this.prefix = role ? `SET LOCAL ROLE ${quoteIdentifier(role, 'role')}; ` : '';
  }

  async query<R extends QueryResultRow = QueryResultRow>(sql: string, params: readonly SqlValue[] = []): Promise<QueryResult<R>> {
    const text = this.prefix + inlineParameters(sql, params);
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const result = (await client.query(text)) as unknown as QueryResult<R> | QueryResult<R>[];
      return Array.isArray(result) ? result[result.length - 1] : result;
    } catch (error) {
      // A server-side error leaves the connection usable; pg-pool would otherwise drop it, which costs a
      // reconnect (and on the embedded single-session server, a needless detach/attach).
      if (!(error instanceof DatabaseError)) broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/** Replaces `$1`, `$2`, ... with literals. The statements passed in are our own and contain no `$n` in strings. */
export function inlineParameters(sql: string, params: readonly SqlValue[]): string {
  return sql.replace(/\$(\d+)/g, (_match, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= params.length) throw new Error(`missing SQL parameter $${n}`);
    return literal(params[i]);
  });
}

function literal(value: SqlValue): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new Error('SQL text values cannot contain NUL characters');
    return escapeLiteral(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return value < 0 ? `(${value})` : String(value);
  }
  if (typeof value === 'bigint') return value < 0n ? `(${value})` : String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new Error('invalid Date');
    return `${escapeLiteral(value.toISOString())}::timestamptz`;
  }
  return `ARRAY[${value.map((v) => literal(v)).join(', ')}]::text[]`;
}
