import { Command } from 'commander';
import { ApiClient, CliIo } from '../http-client';
import { UsageError } from '../errors';
import { Output } from '../output';

/** What every command needs: the API client and the output, built from the global options. */
export interface Ctx {
  api: ApiClient;
  out: Output;
  io: CliIo;
}

export type Action = (ctx: Ctx, ...args: any[]) => Promise<void>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function contextOf(cmd: Command, io: CliIo): Ctx {
  const g = cmd.optsWithGlobals() as { url?: string; token?: string; tokenFile?: string; json?: boolean };
  return { api: new ApiClient(g, io), out: new Output(io, { json: g.json }), io };
}

export function int(name: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new UsageError(`${name} must be an integer (got "${value}")`);
    return Number(value);
  };
}

export function isoTime(name: string) {
  return (value: string): string => {
    const t = new Date(value);
    if (Number.isNaN(t.getTime())) throw new UsageError(`${name} must be a date/time like 2026-11-28T12:00:00Z (got "${value}")`);
    return t.toISOString();
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Follows nextCursor when asked to, so `--all` lists everything. */
export async function listAll(ctx: Ctx, path: string, query: Record<string, string | number | undefined>, all: boolean) {
  const items: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.api.get<{ items: Record<string, unknown>[]; nextCursor: string | null }>(path, { ...query, cursor });
    items.push(...page.items);
    cursor = all && page.nextCursor ? page.nextCursor : undefined;
    if (!all && page.nextCursor) return { items, nextCursor: page.nextCursor };
  } while (cursor);
  return { items, nextCursor: null };
}
