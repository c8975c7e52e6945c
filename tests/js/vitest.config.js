import { defineConfig } from "vitest/config";

// The client is plain ES modules for the browser; Node 20 has what it uses (fetch, Blob,
// CompressionStream, TextEncoder), so the tests run in the node environment.
export default defineConfig({
  test: {
    include: ["*.test.js"],
    environment: "node",
    testTimeout: 30_000,
  },
});
