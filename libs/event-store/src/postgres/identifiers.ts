import { createHash } from 'node:crypto';

/**
 * Schema and role names end up inside DDL, function bodies and NOTIFY channel names, where they cannot be bound
 * as parameters. Accepting only plain identifiers (and quoting them anyway) keeps that safe. 50 characters leave
 * room for the `_appended` channel suffix within PostgreSQL's 63-byte name limit.
 */
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,49}$/;

export function quoteIdentifier(name: string, what: 'schema' | 'role'): string {
  if (!PLAIN_IDENTIFIER.test(name)) {
    throw new Error(`Invalid event store ${what} name "${name}": use letters, digits and _ (at most 50, not starting with a digit)`);
  }
  return `"${name}"`;
}

/** Channel the append function notifies on commit (real PostgreSQL only), one per event store schema. */
export function appendChannel(schema: string): string {
  quoteIdentifier(schema, 'schema');
  return `${schema}_appended`;
}

/** Advisory-lock namespace ("CMKE") shared by every event store schema; the second key tells schemas apart. */
const LOCK_NAMESPACE = 0x434d4b45;

/**
 * The advisory lock that serialises appends to one schema. Stores in different schemas never wait for each
 * other. The second key is a stable hash of the schema name, computed here so that DDL and tests agree on it.
 */
export function appendLockKey(schema: string): [number, number] {
  return [LOCK_NAMESPACE, createHash('sha1').update(`append:${schema}`).digest().readInt32BE(0)];
}

/** Separate lock so that concurrent migrations of one schema run one after the other. */
export function migrationLockKey(schema: string): [number, number] {
  return [LOCK_NAMESPACE, createHash('sha1').update(`migrate:${schema}`).digest().readInt32BE(0)];
}
