import type { DataSource } from 'typeorm';

const q = (schema: string) => `"${schema.replace(/"/g, '""')}"`;

/**
 * Explicit, idempotent DDL (no TypeORM synchronize in production paths); the entities mirror it. Guarded by an
 * advisory lock so that several instances starting at once do not race.
 */
export function readModelDdl(schema: string): string {
  const s = q(schema);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.tenants (
  tenant_id text PRIMARY KEY, display_name text NOT NULL, jurisdiction text NOT NULL, home_region text NOT NULL,
  data_classification text NOT NULL, contacts jsonb NOT NULL, status text NOT NULL, revision int NOT NULL,
  created_position bigint NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS tenants_list ON ${s}.tenants (created_position);
CREATE INDEX IF NOT EXISTS tenants_status ON ${s}.tenants (status, created_position);
CREATE INDEX IF NOT EXISTS tenants_jurisdiction ON ${s}.tenants (jurisdiction, created_position);
CREATE TABLE IF NOT EXISTS ${s}.systems (
  system_id text PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL, region text NOT NULL, key_link_id text NOT NULL,
  status text NOT NULL, revision int NOT NULL, created_position bigint NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS systems_tenant ON ${s}.systems (tenant_id, created_position);
CREATE INDEX IF NOT EXISTS systems_key_link ON ${s}.systems (key_link_id);
CREATE INDEX IF NOT EXISTS systems_list ON ${s}.systems (created_position);
CREATE TABLE IF NOT EXISTS ${s}.key_links (
  key_link_id text PRIMARY KEY, tenant_id text NOT NULL, provider_kind text NOT NULL, mode text NOT NULL, key_reference text NOT NULL,
  algorithm text NOT NULL, key_size int NOT NULL, provider_region text NOT NULL, status text NOT NULL, revoked_from text,
  revocation_reason text, revoked_at timestamptz, revision int NOT NULL, created_position bigint NOT NULL,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
ALTER TABLE ${s}.key_links ADD COLUMN IF NOT EXISTS fingerprint text, ADD COLUMN IF NOT EXISTS key_version text,
  ADD COLUMN IF NOT EXISTS health text NOT NULL DEFAULT 'unknown', ADD COLUMN IF NOT EXISTS health_problem_code text,
  ADD COLUMN IF NOT EXISTS last_verified_at timestamptz, ADD COLUMN IF NOT EXISTS imported_at timestamptz,
  ADD COLUMN IF NOT EXISTS import_expires_at timestamptz, ADD COLUMN IF NOT EXISTS credential_ref text,
  ADD COLUMN IF NOT EXISTS key_since timestamptz, ADD COLUMN IF NOT EXISTS rotation_due_why text;
ALTER TABLE ${s}.key_links ADD COLUMN IF NOT EXISTS tenant_key_version int NOT NULL DEFAULT 1,
  ADD COLUMN IF NOT EXISTS tenant_key_since timestamptz;
CREATE INDEX IF NOT EXISTS key_links_tenant ON ${s}.key_links (tenant_id, status);
CREATE INDEX IF NOT EXISTS key_links_list ON ${s}.key_links (created_position);
CREATE TABLE IF NOT EXISTS ${s}.policies (
  policy_id text PRIMARY KEY, name text NOT NULL, description text, latest_version int NOT NULL,
  created_position bigint NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.policy_versions (
  policy_id text NOT NULL, version int NOT NULL, document jsonb NOT NULL, defined_at timestamptz NOT NULL, defined_by text,
  PRIMARY KEY (policy_id, version));
CREATE TABLE IF NOT EXISTS ${s}.policy_assignments (
  scope text NOT NULL, policy_id text NOT NULL, version text NOT NULL, assigned_at timestamptz NOT NULL, PRIMARY KEY (scope, policy_id));
CREATE TABLE IF NOT EXISTS ${s}.audit_index (
  position bigint PRIMARY KEY, stream_name text NOT NULL, revision int NOT NULL, type text NOT NULL, actor_subject text,
  tenant_id text, occurred_at timestamptz, recorded_at timestamptz NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL);
CREATE INDEX IF NOT EXISTS audit_tenant ON ${s}.audit_index (tenant_id, position);
CREATE INDEX IF NOT EXISTS audit_stream ON ${s}.audit_index (stream_name, position);
CREATE INDEX IF NOT EXISTS audit_type ON ${s}.audit_index (type, position);
CREATE INDEX IF NOT EXISTS audit_actor ON ${s}.audit_index (actor_subject, position);
CREATE INDEX IF NOT EXISTS audit_recorded ON ${s}.audit_index (recorded_at);
CREATE TABLE IF NOT EXISTS ${s}.audit_leaves (
  leaf_index bigint PRIMARY KEY, position bigint NOT NULL UNIQUE, leaf_hash bytea NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.audit_checkpoints (
  tree_size bigint PRIMARY KEY, root_hash text NOT NULL, signed_at timestamptz NOT NULL, key_id text NOT NULL, signature text NOT NULL,
  last_position bigint NOT NULL, event_position bigint NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.usage_daily (
  day date NOT NULL, tenant_id text NOT NULL, system_id text NOT NULL, operation text NOT NULL, outcome text NOT NULL,
  region text NOT NULL, count bigint NOT NULL, PRIMARY KEY (day, tenant_id, system_id, operation, outcome, region));
CREATE INDEX IF NOT EXISTS usage_tenant ON ${s}.usage_daily (tenant_id, day);
CREATE TABLE IF NOT EXISTS ${s}.workers (
  worker_id text PRIMARY KEY, region text NOT NULL, started_at timestamptz NOT NULL, ready boolean NOT NULL, liveness text NOT NULL,
  policies jsonb NOT NULL, served_tenants int NOT NULL, last_report_at timestamptz NOT NULL, revision int NOT NULL,
  created_position bigint NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.projection_checkpoints (
  name text PRIMARY KEY, position bigint NOT NULL DEFAULT 0, owner text, lease_until timestamptz,
  status text NOT NULL DEFAULT 'starting', last_error text, updated_at timestamptz NOT NULL DEFAULT now());`;
}

export async function migrateReadModels(dataSource: DataSource, schema: string): Promise<void> {
  await dataSource.transaction(async (manager) => {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`cmk-read-models:${schema}`]);
    await manager.query(readModelDdl(schema));
  });
}
