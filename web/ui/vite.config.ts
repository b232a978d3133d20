import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The entry is the small boot chunk (src/boot.ts), which starts the session
// check and the data requests, then imports the app. So that the app's code
// does not wait for the boot chunk to run before it starts downloading, the
// page links it (and the chunks it imports) as modulepreload: the browser
// fetches and compiles them alongside the boot chunk.
function preloadApp(): Plugin {
  return {
    name: 'apilens-preload-app',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const chunks = Object.values(ctx.bundle ?? {}).flatMap((c) => (c.type === 'chunk' ? [c] : []));
        const main = chunks.find((c) => c.facadeModuleId?.endsWith('/src/main.tsx'));
        if (!main) return [];
        const entries = new Set(chunks.filter((c) => c.isEntry).map((c) => c.fileName));
        const files = [main.fileName, ...main.imports].filter((f) => !entries.has(f));
        return files.map((f) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: '', href: `/${f}` }, injectTo: 'head' as const }));
      },
    },
  };
}

// The Go server embeds dist/ (go:embed needs the committed dist/.gitkeep, so the
// build must not empty the directory; the Makefile clears the old build instead).
// APILENS_DEV_API points the dev server's proxy at a running apilens.
export default defineConfig({
  base: '/',
  plugins: [react(), preloadApp()],
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
