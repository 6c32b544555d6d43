import type { CommandBus } from '@nestjs/cqrs';
import { DomainError } from '@cmk/domain';
import type { TenantKeyRotationStatus } from '@cmk/policy';
import { logger } from '../../infrastructure/logger';
import type { CommandResult } from '../../shared/aggregates';
import { RotateTenantKeyCommand } from '../rotate-tenant-key/rotate-tenant-key.handler';
import { ROTATION_ACTOR } from './rotation-actor';

export interface TenantKeyRotated {
  keyLinkId: string;
  fromVersion: number;
  toVersion: number;
  policyId: string;
  policyVersion: number;
}

/** The L2 half of a rotation round. */
export interface TenantKeyRound {
  overdue: number;
  rotated: TenantKeyRotated[];
  /** Due versions an earlier round (or another instance) had already replaced: nothing was appended. */
  alreadyRotated: string[];
  failed: { keyLinkId: string; code: string }[];
}

/**
 * The command id of the one rotation a due L2 version may get. The event store appends nothing for a command id
 * it has seen, and the decider refuses a request from a version that is no longer current, so a version is
 * rotated once whichever instance, round or restart asks.
 */
export const tenantKeyRotationCommandId = (keyLinkId: string, fromVersion: number) => `l2-rotation:${keyLinkId}:${fromVersion}`;

/**
 * Requests a new L2 version for every overdue one, through the same handler as `POST
 * /v1/key-links/{id}/rotate-tenant-key` (tenant scope, decider, append). The events carry the round's clock:
 * the new version's age is then measured on the clock that found the old one due, so a round run as of a later
 * time does not find the version it just made overdue as well.
 */
export async function rotateDueTenantKeys(commands: CommandBus, due: TenantKeyRotationStatus[], round: { id: string; now: Date; stopped: () => boolean }): Promise<TenantKeyRound> {
  const result: TenantKeyRound = { overdue: 0, rotated: [], alreadyRotated: [], failed: [] };
  for (const status of due) {
    if (round.stopped()) break;
    if (status.state !== 'overdue') continue;
    result.overdue++;
    const { keyLinkId, tenantKeyVersion: fromVersion, maxAgeDays, policyId, policyVersion } = status;
    const ctx = { actor: ROTATION_ACTOR, commandId: tenantKeyRotationCommandId(keyLinkId, fromVersion), correlationId: round.id, now: round.now };
    try {
      const done: CommandResult = await commands.execute(new RotateTenantKeyCommand(keyLinkId, ctx, { fromVersion, maxAgeDays, policy: { policyId, version: policyVersion } }));
      // A command id already in the stream answers with its first result, appended by an earlier round.
      if (done.events.length > 0 && done.events[0].metadata.correlationId === round.id)
        result.rotated.push({ keyLinkId, fromVersion, toVersion: fromVersion + 1, policyId, policyVersion });
      else result.alreadyRotated.push(keyLinkId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-key.version-moved') {
        result.alreadyRotated.push(keyLinkId);
        continue;
      }
      const code = error instanceof DomainError ? error.code : (error as Error).name;
      result.failed.push({ keyLinkId, code });
      logger.warn({ keyLinkId, fromVersion, code }, 'scheduled tenant key rotation failed; it is retried next round');
    }
  }
  return result;
}
