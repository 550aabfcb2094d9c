import { TestApp } from '../support/test-context.js';

describe('TestApp (the e2e harness)', () => {
  it('puts process.env back as it found it once its apps are closed, in any order', async () => {
    const before = { ...process.env };
    const first = await TestApp.start({ env: { SIDEKIQ_READ_ONLY: 'true' } });
    const second = await TestApp.startOn(first.db, { env: { METRICS_PUBLIC: 'true' } });
    expect(process.env.PRIVATE_TOKEN).not.toBe(before.PRIVATE_TOKEN);
    expect(process.env.METRICS_PUBLIC).toBe('true');
    await first.closeApp();
    await second.close();
    await first.close();
    expect({ ...process.env }).toEqual(before);
  });
});
