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
    // Hang guards, not speed targets (those live in `npm run bench`): generous, since CI hosts can be
    // several times slower than a workstation while two test files boot guests side by side.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
