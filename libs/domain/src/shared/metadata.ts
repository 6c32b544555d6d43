/** Who did it: taken from the verified token, never from the request body. */
export interface Actor {
  subject: string;
  roles: string[];
  /** Tenants this actor may act on; absent means every tenant (platform-wide roles). */
  tenantScope?: string[];
  issuer?: string;
}

export interface CommandContext {
  actor: Actor;
  commandId: string;
  correlationId: string;
  causationId?: string;
  now: Date;
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
  };
}
