// The console's web app: built into services/console/dist/web (the console serves it); in development
// `npm run dev:web -w @puhui/console` serves it with the console's API behind a proxy on 4104.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const CONSOLE_URL = process.env.CONSOLE_URL ?? 'http://127.0.0.1:4104';
// The console refuses a state-changing call whose Origin is not its own (CSRF defence), so the dev
// server, on another port, presents the console's origin for the page it serves.
const CONSOLE_ORIGIN = process.env.CONSOLE_PUBLIC_ORIGIN ?? 'http://localhost:4104';
const proxied = {
  target: CONSOLE_URL,
  configure: (proxy) => {
    proxy.on('proxyReq', (request) => {
      if (request.getHeader('origin') !== undefined) request.setHeader('origin', CONSOLE_ORIGIN);
    });
  },
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // antd and echarts together are ~1.5 MB minified; a back-office app loaded once per day can carry them.
    chunkSizeWarningLimit: 2000,
  },
  server: {
    port: 5173,
    proxy: { '/console/v1': proxied, '/api': proxied, '/.well-known': proxied },
  },
});
