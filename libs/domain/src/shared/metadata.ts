/** Who did it: taken from the verified token, never from the request body. */
export interface Actor {
  subject: string;
  roles: string[];
  /** Tenants this actor may act on; absent means every tenant (platform-wide roles). */
  tenantScope?: string[];
  issuer?: string;
}

/** Who asked for a command held by four-eyes approval and who approved it; stamped on the events it appended. */
export interface ApprovalMetadata {
  approvalId: string;
  initiator: Actor;
  approvers: Actor[];
}

export interface CommandContext {
  actor: Actor;
  commandId: string;
  correlationId: string;
  causationId?: string;
  now: Date;
  /** Set only when the command runs because its approval reached quorum (never from a request). */
  approval?: ApprovalMetadata;
}

export const SCHEMA_VERSION = 1;

/** Event metadata every governance event carries (design: Event model). */
export function eventMetadata(ctx: CommandContext): Record<string, unknown> {
  return {
    actor: ctx.actor,
    commandId: ctx.commandId,
    correlationId: ctx.correlationId,
    causationId: ctx.causationId ?? ctx.commandId,
    occurredAt: ctx.now.toISOString(),
    schemaVersion: SCHEMA_VERSION,
    ...(ctx.approval ? { approval: ctx.approval } : {}),
  };
}
