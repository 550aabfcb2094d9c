import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Global, Module } from '@nestjs/common';
import { ApiToken } from './api-token.entity.js';
import { TokensController } from './tokens.controller.js';
import { TokensService } from './tokens.service.js';
import { TokenVerifier } from './token-verifier.js';

@Global()
@Module({
  imports: [MikroOrmModule.forFeature([ApiToken])],
  controllers: [TokensController],
  providers: [TokensService, TokenVerifier],
  exports: [TokenVerifier],
})
export class AuthModule {}
