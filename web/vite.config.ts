// Vite build of the web UI into web/dist, which the server serves (src/server/routes/ui.ts).
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // CSP is default-src 'self': no data: URIs and no inline scripts in the built page.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
