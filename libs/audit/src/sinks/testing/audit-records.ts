import type { AuditRecord } from '../audit-record';

const TYPES = ['KeyLinkCreated', 'KeyLinkActivated', 'KeyLinkRotated', 'KeyLinkRevoked', 'PolicyChanged', 'ApprovalGranted'];

/**
 * Governance events shaped like the control plane's, with the characters that break naive formatters in the
 * fields a SIEM sees: CEF separators (| \ =), line breaks, quotes and `]` (syslog SD), and non-ASCII text.
 */
export function auditRecords(count: number, firstPosition = 1, options: { padBytes?: number } = {}): AuditRecord[] {
  const base = Date.parse('2025-03-01T10:00:00.000Z');
  return Array.from({ length: count }, (_, i) => {
    const position = firstPosition + i;
    const stream = `keylink-${(position % 7).toString().padStart(8, '0')}-0000-4000-8000-000000000000`;
    return {
      position: String(position),
      streamId: stream,
      revision: Math.floor(position / 7),
      type: TYPES[position % TYPES.length],
      occurredAt: new Date(base + position * 1001).toISOString(),
      data: {
        keyRef: `arn:aws:kms:eu-central-1:111122223333:key/${position}`,
        fingerprint: `sha256:${position.toString(16).padStart(64, '0')}`,
        reason: `rotation|quarterly \\ policy=strict\nline two "quoted" [x] ü€ #${position}`,
        ...(options.padBytes ? { note: 'n'.repeat(options.padBytes) } : {}),
      },
      metadata: {
        actor: { subject: `user-${position % 3}@example.com`, roles: ['key-admin', 'auditor'], tenantScope: ['tenant-a', 'tenant=b'] },
        commandId: `cmd-${position}`,
        correlationId: `corr-${position}`,
      },
    };
  });
}

/** Positions as numbers, for order assertions. */
export function positions(records: Array<{ position: string }>): number[] {
  return records.map((r) => Number(r.position));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `check` returns a value that is not undefined/false, or fails naming `what`. */
export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
