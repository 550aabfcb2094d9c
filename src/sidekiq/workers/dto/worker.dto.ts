import { ApiProperty } from '@nestjs/swagger';
import { SidekiqJobDto } from '../../dto/sidekiq-job.dto.js';

export class SidekiqWorkerDto {
  @ApiProperty({ description: 'process identity' })
  process: string;

  @ApiProperty({ description: 'thread id (base-36 string)' })
  thread: string;

  @ApiProperty({ type: String, nullable: true })
  queue: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'epoch seconds the job started' })
  run_at: number | null;

  @ApiProperty({ type: SidekiqJobDto })
  job: SidekiqJobDto;
}
