import { defineConfig } from 'vite';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  resolve: { alias: { '@cirrus-im/sdk': join(here, '..', 'sdk', 'src', 'index.ts') } },
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // Two pages: the chat demo at `/` and the admin console at `/admin/`.
    rollupOptions: { input: { main: join(here, 'index.html'), admin: join(here, 'admin', 'index.html') } },
  },
});
