import type { CheckpointStore, Position } from '@cmk/event-store';
import type { MeshLogger } from '@cmk/mesh';
import { describeError, sleep } from './retry';

/** Someone else moved the bridge's checkpoint: another bridge instance runs. This one must stop. */
export class CheckpointFencedError extends Error {
  constructor(
    readonly consumer: string,
    readonly expected: Position | null,
  ) {
    super(`checkpoint "${consumer}" is no longer at ${expected === null ? 'nothing' : expected}: another bridge instance moved it`);
    this.name = 'CheckpointFencedError';
  }
}

/**
 * Moves the bridge's checkpoint, compare-and-set, to the highest position that is both
 * - published: the mesh acknowledged every message of every event at or below it, and
 * - recorded: every revocation at or below it has its RevocationDispatched appended.
 * Everything above the checkpoint is re-published (and re-recorded, idempotently) after a crash, so holding it
 * back is what makes both "never lost". Moves are coalesced and run one at a time in the background: the
 * publishing path never waits for the database.
 */
export class CheckpointKeeper {
  private stored: Position | null;
  private published: Position;
  private readonly held = new Set<Position>();
  private running: Promise<void> | null = null;
  private wanted = false;
  private closed = false;
  private fenced = false;
  private readonly stopping = new AbortController();

  constructor(
    private readonly checkpoints: CheckpointStore,
    private readonly consumer: string,
    initial: Position | null,
    private readonly logger: MeshLogger,
    private readonly onFenced: (error: CheckpointFencedError) => void,
  ) {
    this.stored = initial;
    this.published = initial ?? 0n;
  }

  /** The stored checkpoint (null before the first one). */
  get position(): Position | null {
    return this.stored;
  }

  /** Everything at or below this was acknowledged by the mesh (heartbeats carry it). */
  get publishedPosition(): Position {
    return this.published;
  }

  /** A revocation at `position` was published; the checkpoint stays below it until it is recorded. */
  hold(position: Position): void {
    this.held.add(position);
  }

  release(position: Position): void {
    if (this.held.delete(position)) this.schedule();
  }

  /** Everything at or below `position` was acknowledged by the mesh. */
  markPublished(position: Position): void {
    if (position > this.published) this.published = position;
    this.schedule();
  }

  /** Where the checkpoint may go now. */
  target(): Position {
    let target = this.published;
    for (const position of this.held) if (position - 1n < target) target = position - 1n;
    return target;
  }

  /** Waits for the move in progress, then tries one last move (a failure only means more re-sending later). */
  async close(): Promise<void> {
    this.closed = true;
    this.stopping.abort();
    await this.running;
    if (this.fenced) return;
    await this.moveOnce().catch((error) => this.logger.warn({ err: describeError(error) }, 'final checkpoint move failed'));
  }

  private schedule(): void {
    if (this.closed) return;
    this.wanted = true;
    this.running ??= this.run().finally(() => (this.running = null));
  }

  private async run(): Promise<void> {
    for (let attempt = 0; this.wanted && !this.closed; ) {
      this.wanted = false;
      try {
        await this.moveOnce();
        attempt = 0;
      } catch (error) {
        if (error instanceof CheckpointFencedError) {
          this.closed = this.fenced = true;
          this.onFenced(error);
          return;
        }
        // The database is unavailable: keep publishing, try again later; the checkpoint only lags.
        this.logger.warn({ err: describeError(error), attempt: ++attempt }, 'moving the checkpoint failed; retrying');
        this.wanted = true;
        await sleep(Math.min(100 * 2 ** attempt, 2_000), this.stopping.signal);
      }
    }
  }

  private async moveOnce(): Promise<void> {
    const target = this.target();
    if (this.stored !== null && target <= this.stored) return;
    if (this.stored === null && target <= 0n) return;
    if (!(await this.checkpoints.compareAndSet(this.consumer, this.stored, target))) throw new CheckpointFencedError(this.consumer, this.stored);
    this.stored = target;
  }
}
