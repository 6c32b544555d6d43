import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.CMK_TEST_PG_DIR;
  if (dir) execFileSync(join(__dirname, '../../deploy/local/postgres.sh'), ['stop', dir]);
}
