import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Global, Module } from '@nestjs/common';
import { ApiToken } from './api-token.entity.js';
import { TokensController } from './tokens.controller.js';
import { TokensService } from './tokens.service.js';
import { TokenVerifierService } from './token-verifier.service.js';

@Global()
@Module({
  imports: [MikroOrmModule.forFeature([ApiToken])],
  controllers: [TokensController],
  providers: [TokensService, TokenVerifierService],
  exports: [TokenVerifierService],
})
export class AuthModule {}
