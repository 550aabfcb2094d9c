import 'reflect-metadata';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { repl } from '@nestjs/core';
import { AuditService } from './audit/audit.service.js';
import { JobManagerService } from './job-manager/job-manager.service.js';
import { createReplJobManager, replError } from './job-manager/job-manager.repl.js';
import { ReplModule } from './repl.module.js';

// `npm run repl` / `node dist/src/repl.js`: the Nest REPL with a `JobManager` object whose commands
// work as written (`JobManager.queued_jobs('abc')`): results are awaited before printing.
const server = await repl(ReplModule);
const jobManager = createReplJobManager(
  server.context.get(JobManagerService) as JobManagerService,
  server.context.get(AuditService) as AuditService,
  osUser(),
);
server.context.JobManager = jobManager;

type Eval = (
  code: string,
  context: object,
  file: string,
  callback: (error: Error | null, result?: unknown) => void,
) => void;
const evaluate = server.eval as unknown as Eval;
(server as unknown as { eval: Eval }).eval = (code, context, file, callback) => {
  evaluate(code, context, file, (error, result) => {
    if (error || !result || typeof (result as Promise<unknown>).then !== 'function') {
      callback(error, result);
      return;
    }
    (result as Promise<unknown>).then(
      (value) => callback(null, value),
      (failure: unknown) => callback(replError(failure)),
    );
  });
};
server.setupHistory(join(homedir(), '.sidekiq_supervisor_repl_history'), () => undefined);
process.stdout.write(`\n${String(jobManager.help())}\n\n`);
server.displayPrompt();

// the OS user the REPL's changes are recorded under; uid when the account has no name (a container)
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}
