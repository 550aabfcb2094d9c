import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NO_IOREDIS = {
  paths: [{ name: 'ioredis', message: 'Only src/redis and src/sidekiq talk to Redis.' }],
};
const NO_KEYS = {
  patterns: [
    { group: ['**/sidekiq-keys*'], message: 'Only src/sidekiq spells Sidekiq key names.' },
  ],
};
const NO_JOB_INTERNALS = {
  patterns: [
    {
      group: [
        '**/jobs/job.repository*',
        '**/jobs/job.entity*',
        '**/jobs/job-event.entity*',
        '**/jobs/ingest/ingest-writer*',
        '**/jobs/ingest/event-store*',
      ],
      message: 'Use JobsService: only jobs/ touches its entities and repository.',
    },
  ],
};
const NO_FEATURES = {
  patterns: [
    {
      group: [
        '**/jobs/**',
        '**/sidekiq/**',
        '**/auth/**',
        '**/metrics/**',
        '**/job-manager/**',
        '**/stats-history/**',
        '**/scheduler/**',
        '**/health/**',
      ],
      message: 'common/ and config/ import no feature.',
    },
  ],
};

function boundaries(groups) {
  return groups.flatMap(({ files, ignores = [], rules }) => {
    const merged = {
      paths: rules.flatMap((r) => r.paths ?? []),
      patterns: rules.flatMap((r) => r.patterns ?? []),
    };
    const block = {
      files,
      ignores,
      rules: { 'no-restricted-imports': ['error', merged] },
    };
    return [block];
  });
}

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'clients/**', 'openapi/**', '.local/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      curly: 'error',
      eqeqeq: 'error',
      'no-console': 'error',
    },
  },
  {
    // one validation vocabulary (src/common/validation): one error shape, one name rule
    files: ['src/**/*.ts'],
    ignores: ['src/common/validation/**', 'src/**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "NewExpression[callee.name='DomainError'][arguments.0.value='VALIDATION_FAILED']",
          message: 'Use invalid() or invalidFields() from common/validation/invalid.ts',
        },
        {
          selector: "Literal[regex.pattern='^[A-Za-z0-9_-]{1,64}$']",
          message:
            'Use NAME_PATTERN, IsInstanceName or IsJid from common/validation/identifiers.ts',
        },
      ],
    },
  },
  // module boundaries (STYLE.md §4): each file group gets exactly one no-restricted-imports rule
  ...boundaries([
    {
      files: ['src/**/*.ts'],
      ignores: ['src/sidekiq/**', 'src/redis/**', 'src/jobs/**', 'src/common/**', 'src/config/**'],
      rules: [NO_IOREDIS, NO_KEYS, NO_JOB_INTERNALS],
    },
    { files: ['src/jobs/**/*.ts'], rules: [NO_IOREDIS, NO_KEYS] },
    { files: ['src/redis/**/*.ts'], rules: [NO_KEYS, NO_JOB_INTERNALS] },
    { files: ['src/sidekiq/**/*.ts'], rules: [NO_JOB_INTERNALS] },
    {
      files: ['src/common/**/*.ts', 'src/config/**/*.ts'],
      rules: [NO_IOREDIS, NO_KEYS, NO_FEATURES],
    },
  ]),
  {
    files: ['**/*.js', '**/*.mjs', 'bench/**'],
    languageOptions: { globals: { ...globals.node } },
    rules: { 'no-console': 'off' },
  },
  {
    // the /sidekiq page: browser modules, served as they are
    files: ['dashboard/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'module' },
    rules: { curly: 'error', eqeqeq: 'error', 'no-console': 'error' },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
