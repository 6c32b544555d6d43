import { InProcessMesh } from '@cmk/mesh';
import { describeBridgeScenarios } from './support/bridge.scenarios';

// The embedded mode's wiring: the bridge on the in-process mesh, the event store on the real PostgreSQL.
describeBridgeScenarios('the in-process mesh', () => new InProcessMesh({ redeliveryDelayMs: 10 }), { timeoutMs: 10_000 });
