import type { KeyHealthCondition } from './key-link.commands';
import type { KeyLinked } from './key-link.events';

export type KeyLinkStatus = 'pending' | 'active' | 'revoked' | 'unlinked';

export interface IssuedImport {
  importToken: string;
  expiresAt: string;
}

export type KeyLinkState =
  | { exists: false }
  | ({
      exists: true;
      status: KeyLinkStatus;
      revokedFrom?: 'pending' | 'active';
      revocationReason?: string;
      /** What the provider last said identifies the key (from an import or a proof of possession). */
      fingerprint?: string;
      keyVersion?: string;
      /** `unknown` until the first proof or health sync. */
      health: KeyHealthCondition | 'unknown';
      /** BYOK: material imported at the provider. */
      imported: boolean;
      /** BYOK: import parameters issued and not used yet. */
      imports: IssuedImport[];
      /** A scheduled rotation recorded as started and not completed yet (the version it started from). */
      rotationInProgress?: { previousVersion?: string };
      /** The key (by when it came into use) an overdue finding was recorded for. */
      rotationDueFor?: string;
      /** The L2 version new data keys are sealed under: 1 plus the rotations requested (absent: 1). */
      tenantKeyVersion?: number;
    } & KeyLinked['data']);
