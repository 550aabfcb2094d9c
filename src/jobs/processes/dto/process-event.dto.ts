import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PROCESS_STATES, ProcessState } from '../process-event.js';

const TIME = 'ISO 8601 date-time with a time zone, or epoch seconds (milliseconds above 1e11)';

/** Documents a process event in a batch; validation is done by parseProcessEvent. */
export class ProcessEventDto {
  @ApiProperty({ enum: ['process'] }) type!: 'process';

  @ApiProperty({
    enum: PROCESS_STATES,
    description:
      'startup, heartbeat (every SIDEKIQ_SUPERVISOR_HEARTBEAT_INTERVAL), quiet, shutdown, or exit (Sidekiq 8, after shutdown)',
    example: ProcessState.Heartbeat,
  })
  state!: ProcessState;

  @ApiProperty({
    description: "Sidekiq's process identity, as in its processes set (hostname:pid:nonce)",
    example: 'worker-1:4242:0f1e2d3c4b5a',
  })
  identity!: string;

  @ApiPropertyOptional({ description: 'Sidekiq installation name; default: default' })
  instance?: string;

  @ApiPropertyOptional({ description: `When it happened (client clock). ${TIME}.` })
  occurred_at?: string;

  @ApiPropertyOptional({ description: 'occurred_at as integer epoch microseconds (not both)' })
  occurred_at_us?: number;

  @ApiPropertyOptional({
    description: `When this process life began. ${TIME}. A newer one for the same identity is a new life`,
  })
  started_at?: string;

  @ApiPropertyOptional({ description: 'started_at as integer epoch microseconds (not both)' })
  started_at_us?: number;

  @ApiPropertyOptional({
    description: "The hostname the process's job events carry (joined with their pid)",
  })
  hostname?: string;

  @ApiPropertyOptional() pid?: number;
  @ApiPropertyOptional() tag?: string;
  @ApiPropertyOptional({ example: '6.4.1' }) sidekiq_version?: string;
  @ApiPropertyOptional({ description: "the reporting gem's version" }) client_version?: string;
  @ApiPropertyOptional() concurrency?: number;
  @ApiPropertyOptional({ type: [String], example: ['default', 'mail'] }) queues?: string[];
}
