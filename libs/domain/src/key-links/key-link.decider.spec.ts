import fc from 'fast-check';
import type { Decider } from '../shared/decider';
import { given } from '../testing';
import type { KeyLinkCommand, TenantFact } from './key-link.commands';
import { keyLinkDecider as d, KeyLinkState } from './key-link.decider';
import type { KeyLinkEvent } from './key-link.events';

const K = 'k-1';
const T = 't-1';
const linked: KeyLinkEvent = {
  type: 'KeyLinked',
  data: { keyLinkId: K, tenantId: T, providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=a;object=b', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' },
};
const link = { type: 'LinkKey' as const, ...linked.data, tenant: 'active' as TenantFact };
const activated: KeyLinkEvent = { type: 'KeyLinkActivated', data: { keyLinkId: K, tenantId: T } };
const revokedFrom = (previousStatus: 'pending' | 'active', reason = 'incident'): KeyLinkEvent => ({ type: 'KeyLinkRevoked', data: { keyLinkId: K, tenantId: T, reason, previousStatus } });
const restoredTo = (restoredStatus: 'pending' | 'active', reason = 'fixed'): KeyLinkEvent => ({ type: 'KeyLinkRestored', data: { keyLinkId: K, tenantId: T, reason, restoredStatus } });
const unlinked: KeyLinkEvent = { type: 'KeyUnlinked', data: { keyLinkId: K, tenantId: T, reason: 'retired' } };

const proof = { algorithm: 'AES', sizeBits: 256, fingerprint: 'kcv:a1b2c3', latencyMs: 1.5 };
const proven: KeyLinkEvent = { type: 'KeyPossessionProven', data: { keyLinkId: K, tenantId: T, fingerprint: 'kcv:a1b2c3', latencyMs: 1.5 } };
const activate = (tenant: TenantFact = 'active'): KeyLinkCommand => ({ type: 'ActivateKeyLink', keyLinkId: K, tenant, proof });
const revoke = (reason = 'incident'): KeyLinkCommand => ({ type: 'RevokeKeyLink', keyLinkId: K, reason });
const restore = (tenant: TenantFact = 'active', reason = 'fixed'): KeyLinkCommand => ({ type: 'RestoreKeyLink', keyLinkId: K, reason, tenant });
const unlink = (reason = 'retired'): KeyLinkCommand => ({ type: 'UnlinkKey', keyLinkId: K, reason });

/** Histories by the status they leave the link in. */
const pending = [linked];
const active = [linked, activated];
const revokedActive = [linked, activated, revokedFrom('active')];
const revokedPending = [linked, revokedFrom('pending')];
const gone = [linked, unlinked];

describe('key link decider', () => {
  describe('LinkKey', () => {
    it('links a key for an active tenant as pending', () => void given(d).when(link).then([linked]));

    it.each([
      ['AES', 128], ['AES', 192], ['AES', 256],
      ['RSA', 2048], ['RSA', 3072], ['RSA', 4096],
      ['EC', 256], ['EC', 384], ['EC', 521],
    ])('accepts %s-%i', (algorithm, keySize) => {
      given(d).when({ ...link, algorithm, keySize } as KeyLinkCommand).then([{ type: 'KeyLinked', data: { ...linked.data, algorithm, keySize } } as KeyLinkEvent]);
    });

    it('records only the declared fields, never the tenant fact or anything else the command carries', () => {
      given(d).when({ ...link, privateKeyPem: '-----BEGIN PRIVATE KEY-----' } as never).then([linked]);
    });

    it.each([
      ['missing', 'not-found', 'tenant.not-found'],
      ['suspended', 'invalid-state', 'tenant.not-active'],
      ['offboarded', 'invalid-state', 'tenant.not-active'],
    ])('refuses linking for a %s tenant (%s)', (tenant, kind, code) => void given(d).when({ ...link, tenant: tenant as TenantFact }).thenThrows({ kind: kind as never, code }));

    it.each([
      [{ providerKind: 'vault' }, 'key-link.providerKind'],
      [{ mode: 'BYOB' }, 'key-link.mode'],
      [{ algorithm: 'DES' }, 'key-link.algorithm'],
      [{ keySize: 100 }, 'key-link.keySize'],
      [{ algorithm: 'RSA', keySize: 256 }, 'key-link.keySize'],
      [{ algorithm: 'EC', keySize: 2048 }, 'key-link.keySize'],
      [{ keyReference: ' ' }, 'key-link.keyReference'],
      [{ providerRegion: 'Frankfurt!' }, 'region.format'],
    ])('refuses %j (%s)', (over, code) => void given(d).when({ ...link, ...over } as never).thenThrows({ kind: 'validation', code }));

    it('refuses a command without a key reference or provider region', () => {
      given(d).when({ ...link, keyReference: undefined } as never).thenThrows({ kind: 'validation', code: 'key-link.keyReference' });
      given(d).when({ ...link, providerRegion: undefined } as never).thenThrows({ kind: 'validation', code: 'region.format' });
    });

    it.each([
      ['pending', pending],
      ['active', active],
      ['revoked', revokedActive],
      ['unlinked', gone],
    ])('refuses a second link with the same id when it is %s', (_status, history) => void given(d, history).when(link).thenThrows({ kind: 'invalid-state', code: 'key-link.exists' }));
  });

  describe('ActivateKeyLink', () => {
    it('activates a pending link with a proof of possession, recording both', () => void given(d, pending).when(activate()).then([proven, activated]));
    it('refuses activation without a proof of possession', () =>
      void given(d, pending).when({ type: 'ActivateKeyLink', keyLinkId: K, tenant: 'active' }).thenThrows({ kind: 'invalid-state', code: 'key-link.possession-not-proven' }));
    it('activating an active link records nothing', () => void given(d, active).when(activate()).thenNothing());

    it('re-checks the tenant', () => {
      given(d, pending).when(activate('suspended')).thenThrows({ kind: 'invalid-state', code: 'tenant.not-active' });
      given(d, pending).when(activate('offboarded')).thenThrows({ kind: 'invalid-state', code: 'tenant.not-active' });
      given(d, pending).when(activate('missing')).thenThrows({ kind: 'not-found', code: 'tenant.not-found' });
    });

    it('refuses unknown and unlinked links', () => {
      given(d).when(activate()).thenThrows({ kind: 'not-found', code: 'key-link.not-found' });
      given(d, gone).when(activate()).thenThrows({ kind: 'invalid-state', code: 'key-link.unlinked' });
    });
  });

  describe('RevokeKeyLink', () => {
    it('revokes an active link, remembering it was active', () => void given(d, active).when(revoke()).then([revokedFrom('active')]));
    it('revokes a pending link, remembering it was pending', () => void given(d, pending).when(revoke('x')).then([revokedFrom('pending', 'x')]));

    it('revoking a revoked link records nothing', () => {
      given(d, revokedActive).when(revoke('again')).thenNothing();
      given(d, revokedPending).when(revoke('again')).thenNothing();
    });

    it('requires a reason', () => {
      given(d, pending).when(revoke('')).thenThrows({ kind: 'validation', code: 'reason.required' });
      given(d, active).when(revoke('  ')).thenThrows({ kind: 'validation', code: 'reason.required' });
    });

    it('refuses unknown and unlinked links', () => {
      given(d).when(revoke()).thenThrows({ kind: 'not-found', code: 'key-link.not-found' });
      given(d, gone).when(revoke()).thenThrows({ kind: 'invalid-state', code: 'key-link.unlinked' });
    });
  });

  describe('revocation wins', () => {
    it('activation cannot undo a revocation, whatever the link was before', () => {
      given(d, revokedActive).when(activate()).thenThrows({ kind: 'invalid-state', code: 'key-link.revoked' });
      given(d, revokedPending).when(activate()).thenThrows({ kind: 'invalid-state', code: 'key-link.revoked' });
    });

    it('says "revoked" before looking at the tenant', () => void given(d, revokedActive).when(activate('suspended')).thenThrows({ code: 'key-link.revoked' }));

    it('only a restore brings the link back, to the status it was revoked from', () => {
      given(d, revokedActive).when(restore()).then([restoredTo('active')]);
      given(d, revokedPending).when(restore()).then([restoredTo('pending')]);
    });

    it('after a restore, the link behaves as it did before the revocation', () => {
      given(d, [...revokedActive, restoredTo('active')]).when(activate()).thenNothing();
      given(d, [...revokedPending, restoredTo('pending')]).when(activate()).then([proven, activated]);
      given(d, [...revokedActive, restoredTo('active')]).when(unlink()).thenThrows({ code: 'key-link.active' });
    });

    it('a second revocation remembers the status at that time', () => {
      given(d, [...revokedPending, restoredTo('pending'), activated]).when(revoke()).then([revokedFrom('active')]);
      given(d, [...revokedPending, restoredTo('pending'), activated, revokedFrom('active')]).when(restore()).then([restoredTo('active')]);
    });
  });

  describe('RestoreKeyLink', () => {
    it.each([
      ['pending', pending],
      ['active', active],
      ['restored', [...revokedActive, restoredTo('active')]],
    ])('refuses restoring a %s link (key-link.not-revoked)', (_status, history) => void given(d, history).when(restore()).thenThrows({ kind: 'invalid-state', code: 'key-link.not-revoked' }));

    it('requires a reason', () => void given(d, revokedActive).when(restore('active', '')).thenThrows({ kind: 'validation', code: 'reason.required' }));

    it.each([
      ['suspended', 'invalid-state', 'tenant.not-active'],
      ['offboarded', 'invalid-state', 'tenant.not-active'],
      ['missing', 'not-found', 'tenant.not-found'],
    ])('refuses restoring for a %s tenant', (tenant, kind, code) => void given(d, revokedActive).when(restore(tenant as TenantFact)).thenThrows({ kind: kind as never, code }));

    it('refuses unknown and unlinked links', () => {
      given(d).when(restore()).thenThrows({ kind: 'not-found', code: 'key-link.not-found' });
      given(d, gone).when(restore()).thenThrows({ kind: 'invalid-state', code: 'key-link.unlinked' });
      given(d, [...revokedActive, unlinked]).when(restore()).thenThrows({ kind: 'invalid-state', code: 'key-link.unlinked' });
    });
  });

  describe('UnlinkKey', () => {
    it('unlinks a revoked or pending link', () => {
      given(d, revokedActive).when(unlink()).then([unlinked]);
      given(d, revokedPending).when(unlink()).then([unlinked]);
      given(d, pending).when(unlink()).then([unlinked]);
    });

    it('refuses unlinking an active link: revoke it first', () => {
      const error = given(d, active).when(unlink()).thenThrows({ kind: 'invalid-state', code: 'key-link.active' });
      expect(error.message).toMatch(/revoke it before unlinking/);
    });

    it('requires a reason', () => void given(d, pending).when(unlink(' ')).thenThrows({ kind: 'validation', code: 'reason.required' }));

    it('unlinking is final: every command is refused afterwards', () => {
      given(d, gone).when(unlink()).thenThrows({ code: 'key-link.unlinked' });
      given(d, gone).when(activate()).thenThrows({ code: 'key-link.unlinked' });
      given(d, gone).when(revoke()).thenThrows({ code: 'key-link.unlinked' });
      given(d, gone).when(restore()).thenThrows({ code: 'key-link.unlinked' });
      given(d, gone).when(link).thenThrows({ code: 'key-link.exists' });
    });

    it('refuses unknown links', () => void given(d).when(unlink()).thenThrows({ kind: 'not-found', code: 'key-link.not-found' }));
  });

  describe('RotateTenantKey', () => {
    const rotateTenantKey: KeyLinkCommand = { type: 'RotateTenantKey', keyLinkId: K };
    const requestedFrom = (from: number, extra: Record<string, unknown> = {}): KeyLinkEvent => ({
      type: 'TenantKeyRotationRequested',
      data: { keyLinkId: K, tenantId: T, previousL2Version: from, l2Version: from + 1, ...extra },
    });
    const requested = requestedFrom(1);
    /** Recorded before the events carried versions: still counts as one rotation. */
    const legacyRequested: KeyLinkEvent = { type: 'TenantKeyRotationRequested', data: { keyLinkId: K, tenantId: T } };
    const scheduled = (fromVersion: number): KeyLinkCommand => ({ type: 'RotateTenantKey', keyLinkId: K, fromVersion, maxAgeDays: 30, policy: { policyId: 'p-1', version: 3 } });

    it('records a request for a new L2 version on an active link, every time it is asked, naming the versions', () => {
      given(d, active).when(rotateTenantKey).then([requested]);
      given(d, [...active, requested]).when(rotateTenantKey).then([requestedFrom(2)]);
      given(d, [...active, legacyRequested, requested]).when(rotateTenantKey).then([requestedFrom(3)]);
    });

    it('rotates a scheduled version once: refuses a second request from the same version (two instances, a restart)', () => {
      const fromOne = requestedFrom(1, { maxAgeDays: 30, policyId: 'p-1', policyVersion: 3 });
      given(d, active).when(scheduled(1)).then([fromOne]);
      given(d, [...active, fromOne]).when(scheduled(1)).thenThrows({ kind: 'invalid-state', code: 'tenant-key.version-moved' });
      given(d, [...active, fromOne]).when(scheduled(2)).then([requestedFrom(2, { maxAgeDays: 30, policyId: 'p-1', policyVersion: 3 })]);
    });

    it('refuses a scheduled request for a version the link has not reached', () => {
      given(d, active).when(scheduled(2)).thenThrows({ code: 'tenant-key.version-moved' });
      given(d, active).when(scheduled(0)).thenThrows({ code: 'tenant-key.version-moved' });
    });

    it('counts the version across revocation and restore (a restored link keeps its L2 history)', () => {
      given(d, [...active, requested, revokedFrom('active'), restoredTo('active')]).when(scheduled(2)).then([requestedFrom(2, { maxAgeDays: 30, policyId: 'p-1', policyVersion: 3 })]);
    });

    it('refuses a scheduled request on a revoked link before looking at versions', () => {
      given(d, revokedActive).when(scheduled(1)).thenThrows({ code: 'key-link.not-active' });
    });

    it('changes nothing the link decides on: a revocation after it still cuts the link', () => {
      given(d, [...active, requested]).when(revoke()).then([revokedFrom('active')]);
    });

    it.each([
      ['pending', pending],
      ['revoked', revokedActive],
    ])('refuses a %s link', (_status, history) => void given(d, history).when(rotateTenantKey).thenThrows({ kind: 'invalid-state', code: 'key-link.not-active' }));

    it('refuses unknown and unlinked links', () => {
      given(d).when(rotateTenantKey).thenThrows({ kind: 'not-found', code: 'key-link.not-found' });
      given(d, gone).when(rotateTenantKey).thenThrows({ code: 'key-link.unlinked' });
    });
  });

  describe('property: revocation wins', () => {
    const tenant = fc.constantFrom<TenantFact>('active', 'active', 'active', 'suspended', 'offboarded', 'missing');
    const reason = fc.constantFrom('r', 'r', '', ' ');
    const command: fc.Arbitrary<KeyLinkCommand> = fc.oneof(
      { weight: 1, arbitrary: tenant.map((t): KeyLinkCommand => ({ ...link, tenant: t })) },
      { weight: 3, arbitrary: tenant.map(activate) },
      { weight: 3, arbitrary: reason.map(revoke) },
      { weight: 3, arbitrary: fc.tuple(tenant, reason).map(([t, r]) => restore(t, r)) },
      { weight: 1, arbitrary: reason.map(unlink) },
    );
    // Most sequences start by linking, so that the other commands have something to act on.
    const sequence = fc.tuple(fc.boolean(), fc.array(command, { maxLength: 40 })).map(([startLinked, rest]) => (startLinked ? [link as KeyLinkCommand, ...rest] : rest));

    /**
     * Apply the commands in order, skipping those the decider refuses. From the first KeyLinkRevoked until a
     * KeyLinkRestored, the link is never pending or active: every event either keeps it revoked or unlinks it
     * (final; an active link can only be unlinked after revocation, so unlinking from revoked is the designed way
     * out). A KeyLinkRestored only ever comes from a RestoreKeyLink, and restores the status revoked from.
     */
    const revocationWins = (decider: Decider<KeyLinkCommand, KeyLinkEvent, KeyLinkState>) =>
      fc.property(sequence, (commands) => {
        let state = decider.initialState;
        let revokedFrom: 'pending' | 'active' | undefined; // set while a revocation is in force
        for (const c of commands) {
          let events: KeyLinkEvent[];
          try {
            events = decider.decide(c, state);
          } catch {
            continue;
          }
          for (const e of events) {
            if (e.type === 'KeyLinkRestored') {
              if (c.type !== 'RestoreKeyLink') throw new Error(`${c.type} produced ${e.type}`);
              if (revokedFrom === undefined) throw new Error('restored a link that was not revoked');
              if (e.data.restoredStatus !== revokedFrom) throw new Error(`restored to ${e.data.restoredStatus}, but it was revoked from ${revokedFrom}`);
            }
            const before = state;
            state = decider.evolve(state, e);
            if (e.type === 'KeyLinkRevoked' && before.exists && revokedFrom === undefined) revokedFrom = before.status as 'pending' | 'active';
            if (e.type === 'KeyLinkRestored') revokedFrom = undefined;
            if (revokedFrom !== undefined && !(state.exists && (state.status === 'revoked' || state.status === 'unlinked')))
              throw new Error(`${c.type} produced ${e.type}, which left the revoked link ${state.exists ? state.status : 'gone'}`);
          }
        }
      });

    it('holds for the key link decider', () => {
      fc.assert(revocationWins(d), { numRuns: 1000 });
    });

    // The property must be able to fail: each of these deciders lets a revoked link escape without a restore.
    const escape = (name: string, breach: (c: KeyLinkCommand, s: KeyLinkState) => KeyLinkEvent[] | undefined) =>
      [name, { ...d, decide: (c: KeyLinkCommand, s: KeyLinkState) => breach(c, s) ?? d.decide(c, s) }] as const;
    const isRevoked = (s: KeyLinkState): s is Extract<KeyLinkState, { exists: true }> => s.exists && s.status === 'revoked';
    it.each([
      escape('activation re-enables a revoked link', (c, s) => (c.type === 'ActivateKeyLink' && isRevoked(s) ? [activated] : undefined)),
      escape('a repeated revocation restores', (c, s) => (c.type === 'RevokeKeyLink' && isRevoked(s) ? [restoredTo(s.revokedFrom ?? 'pending')] : undefined)),
      escape('re-linking a revoked link resets it to pending', (c, s) => (c.type === 'LinkKey' && isRevoked(s) ? [linked] : undefined)),
      escape('restore always returns to active', (c, s) => (c.type === 'RestoreKeyLink' && isRevoked(s) && c.reason.trim() ? [restoredTo('active')] : undefined)),
    ])('catches a decider where %s', (_name, broken) => {
      expect(fc.check(revocationWins(broken), { numRuns: 1000, seed: 20260101 }).failed).toBe(true);
    });
  });
});
