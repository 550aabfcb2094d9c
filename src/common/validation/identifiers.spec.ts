import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  INSTANCE_MESSAGE,
  IsJid,
  IsQueueName,
  isInstanceName,
  isJid,
  JID_MESSAGE,
} from './identifiers.js';
import { InstanceNameProperty, JidParamDto } from './params.dto.js';

class Probe {
  @InstanceNameProperty() instance?: string;
  @IsJid({ each: true }) jids!: string[];
  @IsQueueName() queue!: string;
}

function messages(plain: Record<string, unknown>): Record<string, string[]> {
  const errors = validateSync(plainToInstance(Probe, plain));
  return Object.fromEntries(errors.map((e) => [e.property, Object.values(e.constraints ?? {})]));
}

describe('identifiers', () => {
  it('accept a Sidekiq jid and instance names, refuse globs, separators and over-long names', () => {
    expect(isJid('b4a577edbccf1d805744efa9')).toBe(true);
    expect(isInstanceName('eu-west_2')).toBe(true);
    for (const bad of ['', 'a*', 'a:b', 'a b', 'x'.repeat(65), 42, null, undefined]) {
      expect(isJid(bad), String(bad)).toBe(false);
      expect(isInstanceName(bad), String(bad)).toBe(false);
    }
    expect(isJid('x'.repeat(64))).toBe(true);
  });

  it('the decorators say the same rule as the service-side checks', () => {
    expect(messages({ jids: ['ok'], queue: 'default' })).toEqual({});
    expect(messages({ instance: 'a*', jids: ['ok', 'no pe'], queue: 'a b' })).toEqual({
      instance: [`instance ${INSTANCE_MESSAGE}`],
      jids: [`each of jids ${JID_MESSAGE}`],
      queue: ['queue must be a queue name (letters, digits, _ . : -)'],
    });
  });

  it('JidParamDto refuses a jid that is not one', () => {
    const errors = validateSync(plainToInstance(JidParamDto, { jid: '../etc' }));
    expect(errors.flatMap((e) => Object.values(e.constraints ?? {}))).toEqual([
      `jid ${JID_MESSAGE}`,
    ]);
  });
});
