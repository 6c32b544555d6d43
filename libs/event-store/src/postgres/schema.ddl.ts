import { appendLockKey, quoteIdentifier } from './identifiers';

/**
 * Tables, indexes and the append-only triggers of one event store schema. Every statement is idempotent, so the
 * migration can run at every start-up.
 *
 * - `global_position` (bigserial) is the order of the global log; `(stream_name, revision)` and `event_id` are
 *   unique, which backs expected-revision checks and idempotency even for writers that bypass the function.
 * - `category` is derived from the stream name (the part before the first `-`) and indexed with the position,
 *   so category-filtered reads and subscriptions do not scan the whole log.
 * - `command_id` records which command wrote an event, so a re-sent command can be answered with exactly the
 *   events of its first append (the event ids alone do not tell how many events that append had).
 * - The statement-level insert trigger takes the same advisory lock as the append function: even a raw INSERT
 *   (the application role may insert) gets its positions only after earlier appends committed.
 * - UPDATE, DELETE and TRUNCATE are rejected by a trigger, whoever runs them; the application role is in
 *   addition granted nothing but SELECT and INSERT.
 */
export function tablesDdl(schema: string): string {
  const s = quoteIdentifier(schema, 'schema');
  const [k1, k2] = appendLockKey(schema);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};

CREATE TABLE IF NOT EXISTS ${s}.events (
  global_position bigserial PRIMARY KEY,
  stream_name text NOT NULL CHECK (stream_name <> ''),
  category text GENERATED ALWAYS AS (split_part(stream_name, '-', 1)) STORED,
  revision bigint NOT NULL CHECK (revision >= 0),
  event_id uuid NOT NULL,
  type text NOT NULL CHECK (type <> ''),
  data jsonb NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  command_id text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_event_id_key UNIQUE (event_id),
  CONSTRAINT events_stream_revision_key UNIQUE (stream_name, revision)
);
CREATE INDEX IF NOT EXISTS events_category_position_idx ON ${s}.events (category, global_position);

CREATE TABLE IF NOT EXISTS ${s}.checkpoints (
  consumer text PRIMARY KEY,
  position bigint NOT NULL CHECK (position >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION ${s}.events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'event store is append-only: % on %.% is not allowed', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege', HINT = 'Events are never changed; append a compensating event instead.';
END
$fn$;

CREATE OR REPLACE FUNCTION ${s}.events_serialize_appends() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock(${k1}, ${k2});
  RETURN NULL;
END
$fn$;

DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '${s}.events'::regclass AND tgname = 'events_append_only') THEN
    CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${s}.events
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.events_reject_change();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '${s}.events'::regclass AND tgname = 'events_serialize_appends') THEN
    CREATE TRIGGER events_serialize_appends BEFORE INSERT ON ${s}.events
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.events_serialize_appends();
  END IF;
END
$do$;`;
}

/**
 * The application role: exactly SELECT and INSERT on events (REVOKE first, so a role that once had more ends up
 * with exactly this), the sequence behind positions, and read/insert/update on checkpoints. Creating the role
 * tolerates a concurrent migration of another schema creating it at the same moment.
 */
export function roleDdl(schema: string, role: string): string {
  const s = quoteIdentifier(schema, 'schema');
  const r = quoteIdentifier(role, 'role');
  return `
DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
    BEGIN
      CREATE ROLE ${r} NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
END
$do$;
GRANT USAGE ON SCHEMA ${s} TO ${r};
REVOKE ALL ON ${s}.events, ${s}.checkpoints FROM ${r};
GRANT SELECT, INSERT ON ${s}.events TO ${r};
GRANT USAGE ON SEQUENCE ${s}.events_global_position_seq TO ${r};
GRANT SELECT, INSERT, UPDATE ON ${s}.checkpoints TO ${r};`;
}
