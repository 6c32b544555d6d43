import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestKafka } from './kafka';

/**
 * Brings up the real services the suites need. Kafka: a single-node KRaft broker (see test/support/kafka.ts). PostgreSQL: reuse CMK_TEST_DATABASE_URL when given,
 * otherwise start a throwaway server from Debian's packages. Failing to start is fatal: suites never skip.
 */
export default async function globalSetup(): Promise<void> {
  await startTestKafka();
  if (process.env.CMK_TEST_DATABASE_URL) return;
  const dir = mkdtempSync(join(tmpdir(), 'cmk-test-pg-'));
  const url = execFileSync(join(__dirname, '../../deploy/local/postgres.sh'), ['start', join(dir, 'pg')], {
    encoding: 'utf8',
    env: { ...process.env, CMK_PG_FSYNC: process.env.CMK_PG_FSYNC ?? 'off' },
  }).trim();
  process.env.CMK_TEST_DATABASE_URL = url;
  process.env.CMK_TEST_PG_DIR = join(dir, 'pg');
}
