import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { EVENT_STORE, EventStore } from '@cmk/event-store';
import { AnyRole, Public } from '../http/auth.decorators';
import { ReadSide } from '../shared/read-side';

const READY_MAX_LAG_EVENTS = 10_000;

/**
 * Probes are public (orchestrators cannot present tokens) and say only up/down; the detailed view needs a token.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore, private readonly readSide: ReadSide) {}

  @Get('live')
  @Public()
  live() {
    return { status: 'up' };
  }

  @Get('ready')
  @Public()
  async ready(@Res({ passthrough: true }) res: Response) {
    const report = await this.check();
    res.status(report.status === 'up' ? 200 : 503);
    return { status: report.status };
  }

  @Get()
  @AnyRole()
  async details(@Res({ passthrough: true }) res: Response) {
    const report = await this.check();
    res.status(report.status === 'up' ? 200 : 503);
    return report;
  }

  private async check() {
    let store: { status: 'up' | 'down'; error?: string } = { status: 'up' };
    try {
      await this.store.ping();
    } catch {
      store = { status: 'down', error: 'event store unreachable' };
    }
    const projections = store.status === 'up' ? await this.readSide.projections.status().catch(() => []) : [];
    const lagging = projections.filter((p) => p.lag > READY_MAX_LAG_EVENTS || p.status === 'failing');
    const status = store.status === 'up' && lagging.length === 0 && projections.length > 0 ? 'up' : 'down';
    return {
      status,
      eventStore: store,
      projections: projections.map((p) => ({ name: p.name, status: p.status, position: p.position.toString(), lag: p.lag, lastError: p.lastError })),
    };
  }
}
