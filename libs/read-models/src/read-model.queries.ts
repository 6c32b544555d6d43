import type { DataSource } from 'typeorm';
import { qi } from './projection';

export interface Page {
  limit?: number;
  cursor?: string;
  /** Keyset direction; newest first with 'desc'. */
  order?: 'asc' | 'desc';
}

export interface PageResult<T> {
  items: T[];
  nextCursor: string | null;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not valid for this list');
    this.name = 'InvalidCursorError';
  }
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? v : new Date(String(v)).toISOString());

function encodeCursor(position: string): string {
  return Buffer.from(JSON.stringify({ p: position })).toString('base64url');
}

function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const p = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown }).p;
    if (typeof p === 'string' && /^\d{1,19}$/.test(p)) return p;
  } catch {
    /* fall through */
  }
  throw new InvalidCursorError();
}

const tenantView = (r: Record<string, any>) => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
  tenantId: r.tenant_id,
  displayName: r.display_name,
  jurisdiction: r.jurisdiction,
  homeRegion: r.home_region,
  dataClassification: r.data_classification,
  contacts: r.contacts,
  status: r.status,
  revision: r.revision,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const systemView = (r: Record<string, any>) => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
  systemId: r.system_id,
  tenantId: r.tenant_id,
  name: r.name,
  region: r.region,
  keyLinkId: r.key_link_id,
  status: r.status,
  revision: r.revision,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const keyLinkView = (r: Record<string, any>) => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
  keyLinkId: r.key_link_id,
  tenantId: r.tenant_id,
  providerKind: r.provider_kind,
  mode: r.mode,
  keyReference: r.key_reference,
  algorithm: r.algorithm,
  keySize: r.key_size,
  providerRegion: r.provider_region,
  status: r.status,
  ...(r.revoked_at ? { revokedAt: iso(r.revoked_at), revokedFrom: r.revoked_from, revocationReason: r.revocation_reason } : {}),
  ...(r.credential_ref ? { credentialRef: r.credential_ref } : {}),
  ...(r.fingerprint ? { fingerprint: r.fingerprint } : {}),
  ...(r.key_version ? { keyVersion: r.key_version } : {}),
  health: r.health ?? 'unknown',
  ...(r.health_problem_code ? { healthProblemCode: r.health_problem_code } : {}),
  ...(r.last_verified_at ? { lastVerifiedAt: iso(r.last_verified_at) } : {}),
  ...(r.imported_at ? { importedAt: iso(r.imported_at) } : {}),
  ...(r.key_since ? { keySince: iso(r.key_since) } : {}),
  ...(r.rotation_due_why ? { rotationDue: r.rotation_due_why } : {}),
  tenantKeyVersion: Number(r.tenant_key_version ?? 1),
  ...(r.tenant_key_since ? { tenantKeySince: iso(r.tenant_key_since) } : {}),
  ...(r.import_expires_at ? { importExpiresAt: iso(r.import_expires_at) } : {}),
  revision: r.revision,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const auditView = (r: Record<string, any>) => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
  position: String(r.position),
  streamName: r.stream_name,
  revision: r.revision,
  type: r.type,
  tenantId: r.tenant_id,
  data: r.data,
  metadata: r.metadata,
  recordedAt: iso(r.recorded_at),
});

export type TenantView = ReturnType<typeof tenantView>;
export type SystemView = ReturnType<typeof systemView>;
export type KeyLinkView = ReturnType<typeof keyLinkView>;
export type AuditEntryView = ReturnType<typeof auditView>;

/** Builds a WHERE clause from optional equality filters plus the tenant scope, with keyset pagination. */
class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];
  eq(column: string, value: unknown): this {
    if (value !== undefined && value !== null && value !== '') {
      this.params.push(value);
      this.parts.push(`${qi(column)} = $${this.params.length}`);
    }
    return this;
  }
  op(sql: (placeholder: string) => string, value: unknown): this {
    if (value !== undefined) {
      this.params.push(value);
      this.parts.push(sql(`$${this.params.length}`));
    }
    return this;
  }
  /** Tenant isolation happens here, in the query, whatever the caller asked for. */
  scope(column: string, tenantScope: string[] | undefined): this {
    return tenantScope === undefined ? this : this.op((p) => `${qi(column)} = ANY(${p})`, tenantScope);
  }
  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/**
 * Queries over the read models. Lists are keyset-paginated on the position that created the row (stable under
 * concurrent inserts), `limit` 1..500 (default 50); `tenantScope` restricts every list to those tenants.
 */
export interface KillSwitchScope {
  tenantId?: string;
  jurisdiction?: string;
  providerKind?: string;
  /** Where the root of trust lives. */
  providerRegion?: string;
  /** Where the workloads using the key run. */
  systemRegion?: string;
  all?: boolean;
}

export interface LinkInScope {
  keyLinkId: string;
  tenantId: string;
  status: string;
  providerKind: string;
  providerRegion: string;
  jurisdiction: string | null;
  systems: { systemId: string; region: string }[];
}

export interface UsageLine {
  day?: string;
  tenantId: string;
  systemId: string;
  operation: string;
  outcome: string;
  count: number;
}

export interface WorkerRow {
  workerId: string;
  region: string;
  startedAt: string;
  ready: boolean;
  liveness: 'reporting' | 'silent' | 'stopped';
  policies: { policyId: string; version: number; tenants: number }[];
  servedTenants: number;
  lastReportAt: string;
}

export class ReadModelQueries {
  private readonly s: string;
  constructor(private readonly dataSource: DataSource) {
    this.s = qi((dataSource.options as { schema?: string }).schema ?? 'public');
  }

  private async page<T>(table: string, orderColumn: string, where: Where, page: Page, view: (r: Record<string, unknown>) => T): Promise<PageResult<T>> {
    const limit = Math.min(Math.max(page.limit ?? 50, 1), 500);
    const desc = page.order === 'desc';
    const after = decodeCursor(page.cursor);
    if (after !== undefined) where.op((p) => `${qi(orderColumn)} ${desc ? '<' : '>'} ${p}::bigint`, after);
    where.params.push(limit + 1);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT * FROM ${this.s}.${qi(table)} ${where} ORDER BY ${qi(orderColumn)} ${desc ? 'DESC' : 'ASC'} LIMIT $${where.params.length}`,
      where.params,
    );
    const more = rows.length > limit;
    const items = rows.slice(0, limit);
    return { items: items.map(view), nextCursor: more ? encodeCursor(String(items[items.length - 1][orderColumn])) : null };
  }

  listTenants(filter: { status?: string; jurisdiction?: string }, page: Page = {}, tenantScope?: string[]) {
    const w = new Where().eq('status', filter.status).eq('jurisdiction', filter.jurisdiction).scope('tenant_id', tenantScope);
    return this.page('tenants', 'created_position', w, page, tenantView);
  }

  async getTenant(tenantId: string): Promise<TenantView | null> {
    const rows = await this.dataSource.query(`SELECT * FROM ${this.s}.tenants WHERE tenant_id = $1`, [tenantId]);
    return rows[0] ? tenantView(rows[0]) : null;
  }

  listSystems(filter: { tenantId?: string; region?: string; status?: string; keyLinkId?: string }, page: Page = {}, tenantScope?: string[]) {
    const w = new Where().eq('tenant_id', filter.tenantId).eq('region', filter.region).eq('status', filter.status).eq('key_link_id', filter.keyLinkId).scope('tenant_id', tenantScope);
    return this.page('systems', 'created_position', w, page, systemView);
  }

  async getSystem(systemId: string): Promise<SystemView | null> {
    const rows = await this.dataSource.query(`SELECT * FROM ${this.s}.systems WHERE system_id = $1`, [systemId]);
    return rows[0] ? systemView(rows[0]) : null;
  }

  /**
   * Usage for billing, summed over [from, to] (UTC days, inclusive) per tenant, system, operation and outcome, and
   * per day too with `granularity: 'day'`. Sorted, so CSV exports are stable.
   */
  async usage(filter: { tenantId?: string; systemId?: string; from?: string; to?: string; granularity?: 'total' | 'day' }, tenantScope?: string[]): Promise<UsageLine[]> {
    const w = new Where().eq('tenant_id', filter.tenantId).eq('system_id', filter.systemId).scope('tenant_id', tenantScope);
    w.op((p) => `day >= ${p}::date`, filter.from);
    w.op((p) => `day <= ${p}::date`, filter.to);
    const byDay = filter.granularity === 'day';
    const groups = `${byDay ? "to_char(day, 'YYYY-MM-DD') AS day, " : ''}tenant_id, system_id, operation, outcome`;
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT ${groups}, sum(count)::text AS count FROM ${this.s}.usage_daily ${w}
       GROUP BY ${byDay ? 'day, ' : ''}tenant_id, system_id, operation, outcome
       ORDER BY ${byDay ? 'day, ' : ''}tenant_id, system_id, operation, outcome`,
      w.params,
    );
    return rows.map((r) => ({
      ...(byDay ? { day: String(r.day) } : {}),
      tenantId: String(r.tenant_id),
      systemId: String(r.system_id),
      operation: String(r.operation),
      outcome: String(r.outcome),
      count: Number(r.count),
    }));
  }

  /**
   * The blast radius of a kill switch: every pending or active key link in the scope (exactly one criterion, or
   * `all`), with its tenant and the registered systems that use it. Ordered by link id.
   */
  async linksInScope(scope: KillSwitchScope, tenantScope?: string[]): Promise<LinkInScope[]> {
    const w = new Where().op((p) => `k.status = ANY(${p})`, ['pending', 'active']);
    if (scope.tenantId) w.op((p) => `k.tenant_id = ${p}`, scope.tenantId);
    if (scope.jurisdiction) w.op((p) => `t.jurisdiction = ${p}`, scope.jurisdiction);
    if (scope.providerKind) w.op((p) => `k.provider_kind = ${p}`, scope.providerKind);
    if (scope.providerRegion) w.op((p) => `k.provider_region = ${p}`, scope.providerRegion);
    if (scope.systemRegion) w.op((p) => `EXISTS (SELECT 1 FROM ${this.s}.systems s2 WHERE s2.key_link_id = k.key_link_id AND s2.status = 'registered' AND s2.region = ${p})`, scope.systemRegion);
    if (tenantScope !== undefined) w.op((p) => `k.tenant_id = ANY(${p})`, tenantScope);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT k.key_link_id, k.tenant_id, k.status, k.provider_kind, k.provider_region, t.jurisdiction,
              COALESCE((SELECT jsonb_agg(jsonb_build_object('systemId', s.system_id, 'region', s.region) ORDER BY s.system_id)
                        FROM ${this.s}.systems s WHERE s.key_link_id = k.key_link_id AND s.status = 'registered'), '[]'::jsonb) AS systems
       FROM ${this.s}.key_links k LEFT JOIN ${this.s}.tenants t ON t.tenant_id = k.tenant_id
       ${w} ORDER BY k.key_link_id`,
      w.params,
    );
    return rows.map((r) => ({
      keyLinkId: String(r.key_link_id),
      tenantId: String(r.tenant_id),
      status: String(r.status),
      providerKind: String(r.provider_kind),
      providerRegion: String(r.provider_region),
      jurisdiction: r.jurisdiction === null ? null : String(r.jurisdiction),
      systems: r.systems as { systemId: string; region: string }[],
    }));
  }

  /** Pending and active links with what policy rules look at, for the tenants given (undefined: every tenant). */
  async linksUnderPolicy(tenantIds?: string[]): Promise<{ keyLinkId: string; tenantId: string; jurisdiction: string | null; algorithm: string; keySize: number; providerKind: string; providerRegion: string }[]> {
    const w = new Where().op((p) => `k.status = ANY(${p})`, ['pending', 'active']);
    if (tenantIds !== undefined) w.op((p) => `k.tenant_id = ANY(${p})`, tenantIds);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT k.key_link_id, k.tenant_id, t.jurisdiction, k.algorithm, k.key_size, k.provider_kind, k.provider_region
       FROM ${this.s}.key_links k LEFT JOIN ${this.s}.tenants t ON t.tenant_id = k.tenant_id ${w} ORDER BY k.key_link_id`,
      w.params,
    );
    return rows.map((r) => ({
      keyLinkId: String(r.key_link_id),
      tenantId: String(r.tenant_id),
      jurisdiction: r.jurisdiction === null ? null : String(r.jurisdiction),
      algorithm: String(r.algorithm),
      keySize: Number(r.key_size),
      providerKind: String(r.provider_kind),
      providerRegion: String(r.provider_region),
    }));
  }

  /**
   * The policies in force per tenant (global assignments plus the tenant's own, at the pinned or latest version),
   * for the tenants given. Tenants without any policy are absent from the map.
   */
  async policiesInForceByTenant(tenantIds: string[]): Promise<Map<string, { policyId: string; version: number; document: Record<string, unknown> }[]>> {
    const tenants: { tenant_id: string; jurisdiction: string }[] = await this.dataSource.query(`SELECT tenant_id, jurisdiction FROM ${this.s}.tenants WHERE tenant_id = ANY($1)`, [tenantIds]);
    const jurisdictionOf = new Map(tenants.map((t) => [t.tenant_id, t.jurisdiction]));
    const jurisdictionScopes = [...new Set(tenants.map((t) => `jurisdiction:${t.jurisdiction}`))];
    const rows: { scope: string; policy_id: string; version: number; document: Record<string, unknown> }[] = await this.dataSource.query(
      `SELECT a.scope, a.policy_id, v.version, v.document
       FROM ${this.s}.policy_assignments a
       JOIN ${this.s}.policies p ON p.policy_id = a.policy_id
       JOIN ${this.s}.policy_versions v ON v.policy_id = a.policy_id
        AND v.version = CASE WHEN a.version = 'latest' THEN p.latest_version ELSE a.version::int END
       WHERE a.scope = 'global' OR a.scope = ANY($1) OR a.scope = ANY($2)
       ORDER BY a.policy_id`,
      [tenantIds, jurisdictionScopes],
    );
    const byTenant = new Map<string, { policyId: string; version: number; document: Record<string, unknown> }[]>();
    for (const tenantId of tenantIds) {
      const governing = new Set(['global', `jurisdiction:${jurisdictionOf.get(tenantId)}`, tenantId]);
      const all = rows.filter((r) => governing.has(r.scope)).map((r) => ({ policyId: r.policy_id, version: Number(r.version), document: r.document }));
      if (all.length > 0) byTenant.set(tenantId, all);
    }
    return byTenant;
  }

  /** Every regional worker that ever reported, with the policy versions it last reported enforcing. */
  async workers(): Promise<WorkerRow[]> {
    const rows: Record<string, any>[] = await this.dataSource.query(`SELECT * FROM ${this.s}.workers ORDER BY region, worker_id`); // eslint-disable-line @typescript-eslint/no-explicit-any
    return rows.map((r) => ({
      workerId: String(r.worker_id),
      region: String(r.region),
      startedAt: iso(r.started_at) as string,
      ready: r.ready === true,
      liveness: r.liveness as WorkerRow['liveness'],
      policies: (r.policies as { policyId: string; version: number; tenants: number }[]) ?? [],
      servedTenants: Number(r.served_tenants),
      lastReportAt: iso(r.last_report_at) as string,
    }));
  }

  /** Tenants regions serve (not offboarded) with their jurisdiction, optionally within a tenant scope. */
  async liveTenants(tenantScope?: string[]): Promise<{ tenantId: string; jurisdiction: string }[]> {
    const rows: { tenant_id: string; jurisdiction: string }[] = await this.dataSource.query(
      `SELECT tenant_id, jurisdiction FROM ${this.s}.tenants WHERE status <> 'offboarded' AND ($1::text[] IS NULL OR tenant_id = ANY($1)) ORDER BY tenant_id`,
      [tenantScope ?? null],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, jurisdiction: r.jurisdiction }));
  }

  /** Ids of the tenants (not offboarded) of some jurisdictions. */
  async tenantIdsIn(jurisdictions: string[]): Promise<string[]> {
    const rows: { tenant_id: string }[] = await this.dataSource.query(
      `SELECT tenant_id FROM ${this.s}.tenants WHERE jurisdiction = ANY($1) AND status <> 'offboarded' ORDER BY tenant_id`,
      [jurisdictions],
    );
    return rows.map((r) => r.tenant_id);
  }

  /**
   * Pending and active links with the age of their key, for rotation checks: `keySince` is when the current key
   * material came into use (linked, imported, or last rotated), `rotationDue` the reason a person must rotate it.
   */
  async linkAges(tenantIds?: string[]): Promise<{ keyLinkId: string; tenantId: string; status: string; providerKind: string; createdAt: string; keySince: string; rotationDue: string | null }[]> {
    const w = new Where().op((p) => `status = ANY(${p})`, ['pending', 'active']);
    if (tenantIds !== undefined) w.op((p) => `tenant_id = ANY(${p})`, tenantIds);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT key_link_id, tenant_id, status, provider_kind, created_at, COALESCE(key_since, created_at) AS key_since, rotation_due_why FROM ${this.s}.key_links ${w} ORDER BY key_link_id`,
      w.params,
    );
    return rows.map((r) => ({
      keyLinkId: String(r.key_link_id),
      tenantId: String(r.tenant_id),
      status: String(r.status),
      providerKind: String(r.provider_kind),
      createdAt: new Date(r.created_at as string).toISOString(),
      keySince: new Date(r.key_since as string).toISOString(),
      rotationDue: (r.rotation_due_why as string | null) ?? null,
    }));
  }

  /**
   * Active links with the age of their current tenant key (L2) version, for L2 rotation checks. A row written
   * before the L2 columns existed (not rebuilt since) counts from the link's creation and says version 1; the
   * decider refuses a rotation from a version that is not current, so such a row can delay a rotation until the
   * projection is rebuilt, never cause a second one.
   */
  async tenantKeyAges(tenantIds?: string[]): Promise<{ keyLinkId: string; tenantId: string; tenantKeyVersion: number; tenantKeySince: string }[]> {
    const w = new Where().op((p) => `status = ${p}`, 'active');
    if (tenantIds !== undefined) w.op((p) => `tenant_id = ANY(${p})`, tenantIds);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT key_link_id, tenant_id, tenant_key_version, COALESCE(tenant_key_since, created_at) AS tenant_key_since FROM ${this.s}.key_links ${w} ORDER BY key_link_id`,
      w.params,
    );
    return rows.map((r) => ({
      keyLinkId: String(r.key_link_id),
      tenantId: String(r.tenant_id),
      tenantKeyVersion: Number(r.tenant_key_version),
      tenantKeySince: new Date(r.tenant_key_since as string).toISOString(),
    }));
  }

  /** Scopes ('global' or tenant ids) where a policy is assigned to follow its latest version. */
  async scopesFollowing(policyId: string): Promise<string[]> {
    const rows: { scope: string }[] = await this.dataSource.query(
      `SELECT scope FROM ${this.s}.policy_assignments WHERE policy_id = $1 AND version = 'latest' ORDER BY scope`,
      [policyId],
    );
    return rows.map((r) => r.scope);
  }

  listKeyLinks(filter: { tenantId?: string; status?: string; providerKind?: string }, page: Page = {}, tenantScope?: string[]) {
    const w = new Where().eq('tenant_id', filter.tenantId).eq('status', filter.status).eq('provider_kind', filter.providerKind).scope('tenant_id', tenantScope);
    return this.page('key_links', 'created_position', w, page, keyLinkView);
  }

  async getKeyLink(keyLinkId: string): Promise<KeyLinkView | null> {
    const rows = await this.dataSource.query(`SELECT * FROM ${this.s}.key_links WHERE key_link_id = $1`, [keyLinkId]);
    return rows[0] ? keyLinkView(rows[0]) : null;
  }

  async activeKeyLinkIdsOfTenant(tenantId: string): Promise<string[]> {
    const rows: { key_link_id: string }[] = await this.dataSource.query(
      `SELECT key_link_id FROM ${this.s}.key_links WHERE tenant_id = $1 AND status = 'active' ORDER BY created_position`,
      [tenantId],
    );
    return rows.map((r) => r.key_link_id);
  }

  listPolicies(page: Page = {}) {
    return this.page('policies', 'created_position', new Where(), page, (r) => ({
      policyId: r.policy_id as string,
      name: r.name as string,
      description: (r.description as string | null) ?? undefined,
      latestVersion: r.latest_version as number,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
    }));
  }

  async getPolicy(policyId: string) {
    const [policy] = await this.dataSource.query(`SELECT * FROM ${this.s}.policies WHERE policy_id = $1`, [policyId]);
    if (!policy) return null;
    const versions = await this.dataSource.query(`SELECT * FROM ${this.s}.policy_versions WHERE policy_id = $1 ORDER BY version`, [policyId]);
    const assignments = await this.dataSource.query(`SELECT * FROM ${this.s}.policy_assignments WHERE policy_id = $1 ORDER BY scope`, [policyId]);
    return {
      policyId: policy.policy_id as string,
      name: policy.name as string,
      description: policy.description ?? undefined,
      latestVersion: policy.latest_version as number,
      versions: versions.map((v: Record<string, unknown>) => ({ version: v.version, document: v.document, definedAt: iso(v.defined_at), definedBy: v.defined_by })),
      assignments: assignments.map((a: Record<string, unknown>) => ({ scope: a.scope, version: a.version === 'latest' ? 'latest' : Number(a.version), assignedAt: iso(a.assigned_at) })),
      createdAt: iso(policy.created_at),
      updatedAt: iso(policy.updated_at),
    };
  }

  auditEvents(
    filter: { tenantId?: string; stream?: string; type?: string; actor?: string; from?: Date; to?: Date; afterPosition?: string },
    page: Page = {},
    tenantScope?: string[],
  ) {
    const w = new Where()
      .eq('tenant_id', filter.tenantId)
      .eq('stream_name', filter.stream)
      .eq('type', filter.type)
      .eq('actor_subject', filter.actor)
      .op((p) => `recorded_at >= ${p}`, filter.from)
      .op((p) => `recorded_at <= ${p}`, filter.to)
      .op((p) => `position > ${p}::bigint`, filter.afterPosition)
      .scope('tenant_id', tenantScope);
    return this.page('audit_index', 'position', w, page, auditView);
  }
}
