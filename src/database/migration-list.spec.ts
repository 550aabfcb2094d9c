import { readdirSync } from 'node:fs';
import { MIGRATIONS } from '../../ormconfig.js';

// The migrator runs the list in ormconfig (compiled code cannot glob its own sources), so a
// migration file that is not registered there would silently never run.
describe('migration list', () => {
  it('registers every file of src/database/migrations, in name order, under its own name', () => {
    const files = readdirSync(new URL('./migrations/', import.meta.url))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(files.length).toBeGreaterThan(0);
    expect(MIGRATIONS.map((m) => m.name)).toEqual(files);
    for (const migration of MIGRATIONS) {
      expect(migration.class.name).toBe(migration.name);
    }
  });
});
