import { KafkaMesh } from '@cmk/mesh';
import { testKafkaBrokers } from '@cmk/testing/kafka';
import { describeBridgeScenarios } from './support/bridge.scenarios';
import { quietLogger } from './support/bridge-fixtures';

// The same scenarios on the real Kafka broker the global setup started (a missing broker fails, never skips).
describeBridgeScenarios('Kafka', () => new KafkaMesh({ brokers: testKafkaBrokers(), clientId: 'bridge-int', logger: quietLogger }), { timeoutMs: 30_000 });
