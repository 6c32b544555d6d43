import type { RecordedEvent } from '@cmk/event-store/event-store.port';
import { Categories, jurisdictionScope, parseStreamName, policyScopeStream, policyStream, tenantStream } from '@cmk/domain';
import type { BundledStream } from './evidence-bundle';

/** The categories an export reads; everything else never concerns a tenant's evidence. */
export const EVIDENCE_CATEGORIES: readonly string[] = [
  Categories.tenant,
  Categories.keyLink,
  Categories.system,
  Categories.tenantKey,
  Categories.policy,
  Categories.policyScope,
  Categories.approval,
  Categories.enforcement,
  Categories.denied,
  Categories.workerDenied,
  Categories.worker,
];

export interface EvidenceWindow {
  from: Date;
  to: Date;
}

export interface EvidenceSelection {
  /** In global order. */
  events: RecordedEvent[];
  streams: Record<string, BundledStream>;
  /** False when the log holds nothing of the tenant up to the window end. */
  tenantKnown: boolean;
}

type Data = Record<string, unknown>;
const dataOf = (e: RecordedEvent): Data => (e.data && typeof e.data === 'object' ? (e.data as Data) : {});
const categoryOf = (name: string): string => {
  try {
    return parseStreamName(name).category;
  } catch {
    return '';
  }
};

/**
 * Chooses what a tenant's evidence bundle holds, from every event of {@link EVIDENCE_CATEGORIES} recorded up to the
 * window end, in global order:
 *
 * - whole streams from revision 0 (so the report can replay the tenant's state at any date, and each chain starts at
 *   genesis): the tenant's own stream, its key links, systems and L2 key registries, the policy scopes governing it
 *   (global, its jurisdiction, itself) and every policy ever assigned there;
 * - in the window only: the tenant's enforcement receipts, the refusals that named it (at the control plane's edge,
 *   and by regional workers: its `workerdenied-<day>-<tenant>` streams), the approval requests concerning it (each
 *   request's whole stream, so initiator, approvers and outcome are together), and the workers' confirmations that
 *   they enforce a version of a bundled policy (WorkerEnforcementReported naming it).
 *
 *
 * Approvals concern the tenant when they name it, name one of its key links, systems or bundled policies, or ran
 * a command whose result landed in a bundled stream.
 */
export function selectEvidence(events: readonly RecordedEvent[], tenantId: string, window: EvidenceWindow): EvidenceSelection {
  const upTo = events.filter((e) => e.recordedAt.getTime() <= window.to.getTime());
  const inWindow = (e: RecordedEvent) => e.recordedAt.getTime() >= window.from.getTime();

  const owned = new Set<string>([tenantStream(tenantId)]);
  const ownedIds = new Set<string>([tenantId]);
  let jurisdiction: string | undefined;
  for (const e of upTo) {
    const category = categoryOf(e.streamName);
    const d = dataOf(e);
    if (e.streamName === tenantStream(tenantId) && e.type === 'TenantOnboarded' && typeof d.jurisdiction === 'string') jurisdiction = d.jurisdiction;
    if ((category === Categories.keyLink || category === Categories.system || category === Categories.tenantKey) && d.tenantId === tenantId) {
      owned.add(e.streamName);
      ownedIds.add(parseStreamName(e.streamName).id);
    }
  }
  const scopes = [policyScopeStream('global'), policyScopeStream(tenantId), ...(jurisdiction ? [policyScopeStream(jurisdictionScope(jurisdiction))] : [])];
  for (const s of scopes) owned.add(s);
  for (const e of upTo) {
    const d = dataOf(e);
    if (scopes.includes(e.streamName) && e.type === 'PolicyAssigned' && typeof d.policyId === 'string') {
      owned.add(policyStream(d.policyId));
      ownedIds.add(d.policyId);
    }
  }

  const approvals = concerningApprovals(upTo, tenantId, owned, ownedIds, inWindow);
  const picked: RecordedEvent[] = [];
  const selected = new Set<string>();
  for (const e of upTo) {
    const category = categoryOf(e.streamName);
    const d = dataOf(e);
    let take = false;
    if (owned.has(e.streamName) || approvals.has(e.streamName)) take = true;
    else if (category === Categories.enforcement) take = e.streamName === `${Categories.enforcement}-${tenantId}` && inWindow(e);
    else if (category === Categories.workerDenied) take = inWindow(e) && e.streamName.endsWith(`-${tenantId}`) && d.tenantId === tenantId;
    else if (category === Categories.worker && inWindow(e) && e.type === 'WorkerEnforcementReported') {
      take = Array.isArray(d.policies) && (d.policies as Data[]).some((p) => typeof p?.policyId === 'string' && ownedIds.has(p.policyId));
      if (take) selected.add(e.streamName);
    }
    else if (category === Categories.denied && inWindow(e) && e.type === 'AccessDenied') {
      const target = (d.target ?? {}) as Data;
      take = d.refusedTenantId === tenantId || target.tenantId === tenantId;
      if (take) selected.add(e.streamName);
    }
    if (take) picked.push(e);
  }
  return { events: picked, streams: describeStreams(picked, selected), tenantKnown: upTo.some((e) => e.streamName === tenantStream(tenantId)) };
}

function concerningApprovals(
  events: readonly RecordedEvent[],
  tenantId: string,
  owned: ReadonlySet<string>,
  ownedIds: ReadonlySet<string>,
  inWindow: (e: RecordedEvent) => boolean,
): Set<string> {
  const requestedFor = new Map<string, unknown>();
  const matched = new Set<string>();
  const touched = new Set<string>();
  for (const e of events) {
    if (categoryOf(e.streamName) !== Categories.approval) continue;
    if (inWindow(e)) touched.add(e.streamName);
    const d = dataOf(e);
    if (e.type === 'ApprovalRequested') {
      requestedFor.set(e.streamName, d.tenantId);
      if (Object.values((d.target ?? {}) as Data).some((v) => typeof v === 'string' && ownedIds.has(v))) matched.add(e.streamName);
    } else if (e.type === 'ApprovalExecuted' && typeof d.resultStream === 'string' && owned.has(d.resultStream)) matched.add(e.streamName);
  }
  // A request made for another tenant stays out even when it names a shared policy: it is that tenant's evidence.
  const concerning = (stream: string) => {
    const requested = requestedFor.get(stream);
    return requested === tenantId || (requested === undefined && matched.has(stream));
  };
  return new Set([...touched].filter(concerning));
}

function describeStreams(events: readonly RecordedEvent[], selected: ReadonlySet<string>): Record<string, BundledStream> {
  const streams: Record<string, BundledStream> = {};
  for (const e of events) {
    const s = streams[e.streamName];
    if (!s) streams[e.streamName] = { selection: selected.has(e.streamName) ? 'selected' : 'contiguous', firstRevision: e.revision, lastRevision: e.revision, count: 1 };
    else {
      s.lastRevision = Math.max(s.lastRevision, e.revision);
      s.firstRevision = Math.min(s.firstRevision, e.revision);
      s.count++;
    }
  }
  return streams;
}
