import Table from 'cli-table3';
import type { CliIo } from './http-client';

export interface OutputOptions {
  json?: boolean;
}

/** Human tables by default; `--json` prints the API's JSON unchanged for scripts. */
export class Output {
  constructor(private readonly io: CliIo, private readonly opts: OutputOptions) {}

  get json(): boolean {
    return Boolean(this.opts.json);
  }

  raw(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  table(rows: Record<string, unknown>[], columns: string[], value: unknown = rows): void {
    if (this.json) return this.raw(value);
    if (rows.length === 0) {
      this.io.stdout.write('(none)\n');
      return;
    }
    const t = new Table({ head: columns, style: { head: [], border: [] } });
    for (const r of rows) t.push(columns.map((c) => cell(r[c])));
    this.io.stdout.write(`${t.toString()}\n`);
  }

  record(value: Record<string, unknown>): void {
    if (this.json) return this.raw(value);
    const t = new Table({ style: { head: [], border: [] } });
    for (const [k, v] of Object.entries(value)) t.push({ [k]: cell(v) });
    this.io.stdout.write(`${t.toString()}\n`);
  }

  done(result: { id: string; revision: number; position: string; events: string[] } | { approvalId: string; status: string; requiredApprovers: number; expiresAt: string }, what: string): void {
    if (this.json) return this.raw(result);
    // Four eyes: the command waits for approvers (202) instead of running now.
    if ('approvalId' in result) {
      this.io.stdout.write(`${what}: waiting for ${result.requiredApprovers} approvers (approval ${result.approvalId}, ${result.status}, expires ${result.expiresAt}); cmk approvals approve ${result.approvalId}\n`);
      return;
    }
    const outcome = result.events.length ? result.events.join(', ') : 'no change';
    this.io.stdout.write(`${what} ${result.id}: ${outcome} (revision ${result.revision}, position ${result.position})\n`);
  }

  line(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
