import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vitest/config';
import type { Rolldown } from 'vite';
import react from '@vitejs/plugin-react';

type Bundle = Rolldown.OutputBundle;
type Chunk = Rolldown.OutputChunk;

// The chunks of the first load: the boot entry, the app (React, the shell;
// src/main.tsx) and the landing page's (the Business overview, where an admin
// lands; src/pages/business/index.tsx), with everything they import.
function firstLoad(bundle: Bundle): Chunk[] {
  const chunks = Object.values(bundle).flatMap((c) => (c.type === 'chunk' ? [c] : []));
  const byFile = new Map(chunks.map((c) => [c.fileName, c]));
  const out = new Map<string, Chunk>();
  const visit = (c: Chunk | undefined) => {
    if (!c || out.has(c.fileName)) return;
    out.set(c.fileName, c);
    for (const f of c.imports) visit(byFile.get(f));
  };
  const root = (re: RegExp) => chunks.filter((c) => re.test(c.facadeModuleId ?? ''));
  for (const c of chunks.filter((c) => c.isEntry)) visit(c);
  for (const c of [...root(/\/src\/main\.tsx$/), ...root(/\/src\/pages\/business\/index\.tsx$/)]) visit(c);
  return [...out.values()];
}

// The entry is the small boot chunk (src/boot.ts), which starts the data
// requests, then imports the app and the landing page. So that their code
// does not wait for the boot chunk to run before it starts downloading, the
// page links them (and the chunks they import) as modulepreload: the browser
// fetches and compiles them alongside the boot chunk, and the data requests
// do not queue behind them for one of the six connections HTTP/1.1 allows.
function preloadApp(): Plugin {
  return {
    name: 'apilens-preload-app',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const files = firstLoad(ctx.bundle ?? {}).flatMap((c) => (c.isEntry ? [] : [c.fileName]));
        return files.map((f) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: '', href: `/${f}` }, injectTo: 'head' as const }));
      },
    },
  };
}

// V8 compiles the functions of a file with this comment at its top eagerly and
// off the main thread while the file streams in, rather than each on the main
// thread when first called. The first load calls most of the code of its
// chunks, and the first chart much of ECharts (which loads once the page has
// settled, src/charts/EChart.tsx), so they carry it; the other pages do not.
function compileHints(): Plugin {
  return {
    name: 'apilens-compile-hints',
    apply: 'build',
    generateBundle: {
      // After Vite has put its preload helper's table at the top of chunks.
      order: 'post',
      handler(_opts, bundle) {
        const charts = Object.values(bundle).flatMap((c) => (c.type === 'chunk' && /\/src\/charts\/echarts\.ts$/.test(c.facadeModuleId ?? '') ? [c] : []));
        for (const c of [...firstLoad(bundle), ...charts]) c.code = '//# allFunctionsCalledOnLoad\n' + c.code;
      },
    },
  };
}

// Each script and style sheet gets a gzip twin (name.gz) that the Go server
// sends to browsers that accept it (web/ui.go): compressing them there, at the
// best level, cost a cold server's first page loads more than 100 ms of CPU
// (ECharts alone is over half a megabyte).
function gzipAssets(): Plugin {
  return {
    name: 'apilens-gzip',
    apply: 'build',
    generateBundle: {
      // After the compile hints are in the chunks.
      order: 'post',
      handler(_opts, bundle) {
        for (const f of Object.values(bundle)) {
          if (!/\.(js|css)$/.test(f.fileName)) continue;
          const source = f.type === 'chunk' ? f.code : f.source;
          this.emitFile({ type: 'asset', fileName: `${f.fileName}.gz`, source: gzipSync(source, { level: 9 }) });
        }
      },
    },
  };
}

// The Go server embeds dist/ (go:embed needs the committed dist/.gitkeep, so the
// build must not empty the directory; the Makefile clears the old build instead).
// APILENS_DEV_API points the dev server's proxy at a running apilens.
export default defineConfig({
  base: '/',
  plugins: [react(), preloadApp(), compileHints(), gzipAssets()],
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
