import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { stopTestKafka } from './kafka';

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.CMK_TEST_PG_DIR;
  try {
    if (dir) execFileSync(join(__dirname, '../../deploy/local/postgres.sh'), ['stop', dir]);
  } finally {
    await stopTestKafka();
  }
}
