import { appendChannel, appendLockKey, quoteIdentifier } from './identifiers';

/**
 * Appends as one PL/pgSQL function taking a batch, so that appends cost one round trip (also through the
 * embedded single-session server) and nobody can get between check and insert:
 *
 * 1. Take the schema's append lock (transaction-scoped advisory lock). Appends are serialised on purpose: a
 *    global position is then handed out only after every earlier append committed, so positions increase in
 *    commit order and a reader that saw position N can never later find a committed event below N. This is the
 *    design's answer to late commits; the price is one writer at a time per schema. The lock is taken in its
 *    own statement, before any read, so that every later statement's snapshot includes all earlier appends: this
 *    is also what makes the idempotency check race-free (a re-send waits for the original, then sees it).
 * 2. For each append of the batch, in order:
 *    - a re-send (the first event's id exists and was written for the same command id) is answered with the
 *      original append's events, outcome `duplicate`;
 *    - else the expected revision is checked against the stream's current one, outcome `conflict` with the
 *      actual revision (a result, not an error: the other appends of the batch go on, and the caller gets a
 *      typed answer without an error round trip);
 *    - else the events are linked into the stream's hash chain and inserted in one statement with consecutive
 *      revisions, outcome `appended`.
 *    Later appends of a batch see the earlier ones, exactly as if they had been sent one after the other.
 * 3. Notify listeners once, delivered at commit (real PostgreSQL only).
 *
 * The hash chain (defined in libs/audit/src/hash-chain.ts): the caller sends each event's content digest, SHA-256
 * over its canonical JSON (RFC 8785, which JavaScript computes faithfully and PL/pgSQL could not); the function
 * links it to the hash of the stream's last event as read under the append lock, so the link is right whatever the
 * expected revision and however many writers race: metadata.audit = { alg, prevHash, hash = sha256(prevHash ||
 * digest) }, revision 0 linking to 32 zero bytes. When the stream's last event carries no valid chain fields
 * (written before chains existed, or around this function) the chain restarts from those zero bytes: refusing the
 * append would block revocations on every pre-chain stream, and a verifier reports the unchained event anyway.
 *
 * Batching is group commit: appends are serialised anyway, so under concurrency the limit is one commit (one
 * WAL flush) at a time; sharing a commit among the appends that queued up meanwhile lifts it.
 *
 * `recorded_at` is the clock when the append ran (not the transaction start), so it does not decrease along the
 * global order, truncated to milliseconds so a JavaScript Date round-trips exactly (`until` filters).
 *
 * Input: a JSON array of { stream, expected: 'any'|'no_stream'|'stream_exists'|'revision', revision, command_id,
 * events: [{ id, type, data, metadata, digest }] }. Output rows carry the 0-based index of their append; for
 * appended rows the metadata column holds only the chain fields written (the caller has the rest).
 */
export function appendFunctionDdl(schema: string): string {
  const s = quoteIdentifier(schema, 'schema');
  const [k1, k2] = appendLockKey(schema);
  return `
CREATE OR REPLACE FUNCTION ${s}.append_batch(p_appends jsonb, p_notify boolean)
RETURNS TABLE (append_index int, outcome text, actual_revision bigint, global_position bigint, stream_name text, revision bigint,
               event_id uuid, type text, data jsonb, metadata jsonb, recorded_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  v_append jsonb;
  v_stream text;
  v_expected text;
  v_revision bigint;
  v_command_id text;
  v_events jsonb;
  v_count int;
  v_current bigint;
  v_last_audit jsonb;
  v_prev_hash text;
  v_digest text;
  v_prevs text[];
  v_hashes text[];
  v_now timestamptz;
  v_original ${s}.events%ROWTYPE;
BEGIN
  PERFORM pg_advisory_xact_lock(${k1}, ${k2});
  FOR i IN 0 .. jsonb_array_length(p_appends) - 1 LOOP
    v_append := p_appends->i;
    v_stream := v_append->>'stream';
    v_expected := v_append->>'expected';
    v_revision := (v_append->>'revision')::bigint;
    v_command_id := v_append->>'command_id';
    v_events := v_append->'events';
    IF jsonb_typeof(v_events) IS DISTINCT FROM 'array' OR jsonb_array_length(v_events) = 0 THEN
      RAISE EXCEPTION 'append % needs a non-empty JSON array of events', i USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_count := jsonb_array_length(v_events);

    IF v_command_id IS NOT NULL THEN
      SELECT * INTO v_original FROM ${s}.events e WHERE e.event_id = (v_events->0->>'id')::uuid AND e.command_id = v_command_id;
      IF FOUND THEN
        RETURN QUERY
          SELECT i, 'duplicate'::text, NULL::bigint, e.global_position, e.stream_name, e.revision, e.event_id, e.type, e.data, e.metadata, e.recorded_at
          FROM ${s}.events e
          WHERE e.stream_name = v_original.stream_name AND e.revision >= v_original.revision AND e.command_id = v_command_id
          ORDER BY e.revision;
        CONTINUE;
      END IF;
    END IF;

    -- The stream's last event: its revision for the expected-revision check, its hash for the chain.
    SELECT e.revision, e.metadata->'audit' INTO v_current, v_last_audit
    FROM ${s}.events e WHERE e.stream_name = v_stream ORDER BY e.revision DESC LIMIT 1;
    IF NOT FOUND THEN
      v_current := -1;
    END IF;
    IF NOT (CASE v_expected
              WHEN 'any' THEN true
              WHEN 'no_stream' THEN v_current = -1
              WHEN 'stream_exists' THEN v_current >= 0
              ELSE v_current = v_revision
            END) THEN
      RETURN QUERY SELECT i, 'conflict'::text, v_current, NULL::bigint, NULL::text, NULL::bigint, NULL::uuid, NULL::text, NULL::jsonb, NULL::jsonb, NULL::timestamptz;
      CONTINUE;
    END IF;

    v_prev_hash := v_last_audit->>'hash';
    IF v_current = -1 OR v_last_audit->>'alg' IS DISTINCT FROM 'sha256' OR v_prev_hash IS NULL OR v_prev_hash !~ '^[0-9a-f]{64}$' THEN
      v_prev_hash := repeat('0', 64);
    END IF;
    -- Plain text arrays, not JSON, while linking: this runs under the append lock, once per event.
    v_prevs := ARRAY[]::text[];
    v_hashes := ARRAY[]::text[];
    FOR j IN 0 .. v_count - 1 LOOP
      v_digest := v_events->j->>'digest';
      IF length(v_digest) IS DISTINCT FROM 64 THEN
        RAISE EXCEPTION 'event % of append % needs a content digest (64 hex digits)', j, i USING ERRCODE = 'invalid_parameter_value';
      END IF;
      v_prevs := v_prevs || v_prev_hash;
      v_prev_hash := encode(sha256(decode(v_prev_hash, 'hex') || decode(v_digest, 'hex')), 'hex');
      v_hashes := v_hashes || v_prev_hash;
    END LOOP;

    v_now := date_trunc('milliseconds', clock_timestamp());
    RETURN QUERY
      INSERT INTO ${s}.events AS e (stream_name, revision, event_id, type, data, metadata, command_id, recorded_at)
      SELECT v_stream, v_current + x.n, (x.ev->>'id')::uuid, x.ev->>'type', x.ev->'data',
             coalesce(x.ev->'metadata', '{}'::jsonb)
               || jsonb_build_object('audit', jsonb_build_object('alg', 'sha256', 'prevHash', v_prevs[x.n], 'hash', v_hashes[x.n])),
             v_command_id, v_now
      FROM jsonb_array_elements(v_events) WITH ORDINALITY AS x(ev, n)
      ORDER BY x.n
      RETURNING i, 'appended'::text, NULL::bigint, e.global_position, NULL::text, e.revision, e.event_id, NULL::text, NULL::jsonb, e.metadata->'audit', e.recorded_at;
  END LOOP;
  IF p_notify THEN
    PERFORM pg_notify('${appendChannel(schema)}', '');
  END IF;
END
$fn$;`;
}

/** Parameters: $1 the JSON array of appends described at {@link appendFunctionDdl}, $2 notify. */
export function appendCallSql(schema: string): string {
  return `SELECT * FROM ${quoteIdentifier(schema, 'schema')}.append_batch($1::jsonb, $2)`;
}
