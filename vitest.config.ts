import { defineConfig } from 'vitest/config';

// Vite 8 compiles TypeScript with oxc, which honours experimentalDecorators and
// emitDecoratorMetadata from tsconfig.json (Nest DI and MikroORM need the metadata).
export default defineConfig({
  test: {
    globals: true,
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.spec.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int-spec.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e-spec.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
