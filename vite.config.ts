/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Django serves the build from static/dist/ and finds entries through the manifest
// (annotator/core/templatetags/vite.py), so there is no dev server in the loop.
export default defineConfig({
  base: "/static/dist/",
  build: {
    outDir: "static/dist",
    emptyOutDir: true,
    manifest: true,
    sourcemap: true,
    rollupOptions: {
      input: [
        "frontend/pages/main.ts",
        "frontend/pages/dataset.ts",
        "frontend/pages/ontology.ts",
        "frontend/pages/work.ts",
        "frontend/pages/task-create.ts",
        "frontend/pages/task-detail.ts",
        "frontend/pages/project.ts",
        "frontend/studio/main.ts",
      ],
    },
  },
  test: {
    include: ["frontend/**/*.test.ts"],
    environment: "node",
  },
});
