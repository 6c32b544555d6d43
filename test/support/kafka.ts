import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '../../deploy/local/kafka.sh');

/** A broker started by deploy/local/kafka.sh: its bootstrap address and its data directory (its handle). */
export interface KafkaBroker {
  brokers: string;
  dir: string;
}

async function script(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(SCRIPT, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`deploy/local/kafka.sh ${args.join(' ')} failed:\n${stderr ?? String(error)}`);
  }
}

/** Starts a single-node KRaft broker on a free loopback port, with its data in `dir` (default: a new temp dir). */
export async function startKafka(dir = mkdtempSync(join(tmpdir(), 'cmk-test-kafka-'))): Promise<KafkaBroker> {
  try {
    return { brokers: await script(['start', dir]), dir };
  } catch (error) {
    await script(['stop', dir]).catch(() => undefined);
    throw error;
  }
}

/** Stops the broker and deletes its data. */
export async function stopKafka(broker: KafkaBroker | string): Promise<void> {
  await script(['stop', typeof broker === 'string' ? broker : broker.dir]);
}

/** Stops the broker (SIGTERM, or SIGKILL when `hard`) and starts it again on the same port with the same data. */
export async function restartKafka(broker: KafkaBroker, options: { hard?: boolean } = {}): Promise<KafkaBroker> {
  const brokers = await script(['restart', broker.dir, ...(options.hard ? ['--hard'] : [])]);
  return { brokers, dir: broker.dir };
}

/**
 * For the jest global setup: starts the shared test broker unless CMK_TEST_KAFKA_BROKERS already names one,
 * and publishes it to the suites through the environment. Failing to start is fatal: suites never skip.
 */
export async function startTestKafka(): Promise<void> {
  if (process.env.CMK_TEST_KAFKA_BROKERS) return;
  const broker = await startKafka();
  process.env.CMK_TEST_KAFKA_BROKERS = broker.brokers;
  process.env.CMK_TEST_KAFKA_DIR = broker.dir;
}

/** For the jest global teardown: stops the broker startTestKafka started (never one given from outside). */
export async function stopTestKafka(): Promise<void> {
  const dir = process.env.CMK_TEST_KAFKA_DIR;
  if (!dir) return;
  delete process.env.CMK_TEST_KAFKA_DIR;
  delete process.env.CMK_TEST_KAFKA_BROKERS;
  await stopKafka(dir);
}

/** The bootstrap brokers of the real Kafka the suites run against. Missing means the run is broken, never "skip". */
export function testKafkaBrokers(): string[] {
  const brokers = process.env.CMK_TEST_KAFKA_BROKERS;
  if (!brokers) throw new Error('CMK_TEST_KAFKA_BROKERS is not set: the jest global setup must start Kafka');
  return brokers.split(',').map((b) => b.trim()).filter(Boolean);
}

/**
 * Until the global setup starts Kafka for every suite: a suite calls this in beforeAll and the returned
 * release in afterAll. It uses CMK_TEST_KAFKA_BROKERS when set, and otherwise starts a broker of its own.
 */
export async function useTestKafka(): Promise<{ brokers: string[]; release: () => Promise<void> }> {
  if (process.env.CMK_TEST_KAFKA_BROKERS) return { brokers: testKafkaBrokers(), release: async () => undefined };
  const broker = await startKafka();
  return { brokers: broker.brokers.split(','), release: () => stopKafka(broker) };
}
