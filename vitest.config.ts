import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["tsadjoint-source"] },
  ssr: { resolve: { conditions: ["tsadjoint-source"], externalConditions: ["tsadjoint-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "test/browser/**"], // the browser suite: npm run test:browser
    setupFiles: ["test/setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
