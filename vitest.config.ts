import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The SDK's Node 22 notice is for deployers (see docs/deploy.md); in test output it is noise.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      // Beside the code (`x.ts` + `x.test.ts`): pure modules, no DynamoDB, no processes. `npm run test:unit`.
      { extends: true, test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'] } },
      // Integration and end-to-end suites: one DynamoDB Local for the run, the simulator, real processes.
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'] } },
    ],
  },
})
