import { Counter, Gauge, Registry } from 'prom-client';

/** The bridge's own metrics, in a registry the hosting process serves (or merges into its own). */
export function createBridgeMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  return {
    registry,
    publishedMessages: new Counter({
      name: 'cmk_bridge_published_messages_total',
      help: 'Messages the mesh acknowledged, by kind (state, delta, revocation, heartbeat)',
      labelNames: ['kind'],
      registers,
    }),
    publishFailures: new Counter({ name: 'cmk_bridge_publish_failures_total', help: 'Publish attempts the mesh rejected (each is retried)', registers }),
    foldedEvents: new Counter({ name: 'cmk_bridge_folded_events_total', help: 'Governance events folded after start (replay excluded)', registers }),
    feedback: new Counter({
      name: 'cmk_bridge_feedback_messages_total',
      help: 'Acks and usage reports consumed, by outcome (appended, duplicate, invalid)',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    dispatchesRecorded: new Counter({ name: 'cmk_bridge_dispatches_recorded_total', help: 'RevocationDispatched events recorded', registers }),
    checkpoint: new Gauge({ name: 'cmk_bridge_checkpoint_position', help: 'Stored checkpoint (global position)', registers }),
    published: new Gauge({ name: 'cmk_bridge_published_position', help: 'Everything at or below this position was acknowledged by the mesh', registers }),
    checkpointLag: new Gauge({
      name: 'cmk_bridge_checkpoint_lag_events',
      help: 'Governance events recorded after the checkpoint (counted up to 1000)',
      registers,
    }),
    pendingDispatches: new Gauge({ name: 'cmk_bridge_pending_dispatches', help: 'Published revocations whose RevocationDispatched is not recorded yet', registers }),
    epoch: new Gauge({ name: 'cmk_bridge_epoch', help: 'Epoch of this bridge instance (heartbeats carry it)', registers }),
    ready: new Gauge({ name: 'cmk_bridge_ready', help: '1 when caught up and publishing', registers }),
  };
}
export type BridgeMetrics = ReturnType<typeof createBridgeMetrics>;
