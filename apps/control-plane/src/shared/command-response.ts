import { ApiProperty } from '@nestjs/swagger';
import type { Response } from 'express';
import { parseStreamName } from '@cmk/domain';
import type { CommandResult } from './aggregates';

export class CommandResponse {
  @ApiProperty({ description: 'Id of the aggregate the command acted on' })
  id: string;
  @ApiProperty({ description: 'Stream revision after the command (also the ETag)' })
  revision: number;
  @ApiProperty({ description: 'Global position of the last event; pass as minPosition to read your write', example: '42' })
  position: string;
  @ApiProperty({ description: 'Event types the command recorded (empty when it changed nothing)', type: [String] })
  events: string[];
}

export function respond(res: Response, result: CommandResult): CommandResponse {
  res.setHeader('ETag', `"${result.revision}"`);
  return {
    id: parseStreamName(result.streamName).id,
    revision: result.revision,
    position: result.position,
    events: result.events.map((e) => e.type),
  };
}
