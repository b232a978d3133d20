import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The Go server embeds dist/ (go:embed needs the committed dist/.gitkeep, so the
// build must not empty the directory; the Makefile clears the old build instead).
// APILENS_DEV_API points the dev server's proxy at a running apilens.
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1200,
  },
  server: {
    port: 9192,
    proxy: {
      '/api/v1': { target: process.env.APILENS_DEV_API ?? 'http://127.0.0.1:9191', changeOrigin: false },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
