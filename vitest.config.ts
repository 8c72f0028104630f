import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'engine/**/*.spec.ts',
      'main/**/*.spec.ts',
      'preload/**/*.spec.ts',
      'renderer/**/*.spec.ts',
      'tests/**/*.spec.ts',
    ],
    exclude: ['node_modules', 'dist'],
    testTimeout: 30000,
    pool: 'forks',
  },
});
