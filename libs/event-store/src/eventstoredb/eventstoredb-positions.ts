import type { Position } from '../event-store.port';

/**
 * EventStoreDB addresses $all by a pair (commit, prepare). Events appended over gRPC (EventStoreDB 20+, all this
 * adapter writes) each carry commit == prepare, so the port's single ordered bigint is that number. A pair with
 * commit != prepare comes only from multi-record transactions (the legacy TCP API) and is refused loudly instead
 * of being mis-ordered.
 */
export interface EsdbPosition {
  commit: bigint;
  prepare: bigint;
}

/** What the server reports as commit position of an event read from a stream: unknown (ulong max). */
const UNKNOWN_COMMIT = 0xffff_ffff_ffff_ffffn;

export class UnsupportedPositionError extends Error {
  readonly name = 'UnsupportedPositionError';
}

export function toPortPosition(position: EsdbPosition | undefined, what: string): Position {
  if (!position) throw new UnsupportedPositionError(`${what} has no $all position`);
  if (position.commit === UNKNOWN_COMMIT) return position.prepare;
  if (position.commit !== position.prepare) {
    throw new UnsupportedPositionError(
      `${what} is part of a multi-record transaction (commit ${position.commit} != prepare ${position.prepare}); this adapter supports events written over gRPC only`,
    );
  }
  return position.commit;
}

export function toEsdbPosition(position: Position): EsdbPosition {
  return { commit: position, prepare: position };
}
