import { ApiProperty } from '@nestjs/swagger';

export class SidekiqInstancesDto {
  @ApiProperty({
    description: 'configured instance names, the REDIS_URL one ("default") first',
    example: ['default'],
  })
  instances: string[];

  @ApiProperty({ description: 'SIDEKIQ_READ_ONLY: every change is refused with 403' })
  read_only: boolean;
}
