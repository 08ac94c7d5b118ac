import { defineConfig } from "vitest/config";

// The browser suite (`npm run test:browser`): test/browser/*.browser.test.ts drive a real Chromium
// (playwright-core, Debian's chromium) through bundles of the built package; see test/browser/harness.ts.
export default defineConfig({
  resolve: { conditions: ["tsadjoint-source"] },
  ssr: { resolve: { conditions: ["tsadjoint-source"], externalConditions: ["tsadjoint-source"] } },
  test: {
    include: ["test/browser/**/*.browser.test.ts"],
    setupFiles: ["test/setup.ts"],
    globalSetup: ["test/browser/global-setup.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
  },
});
