import { defineConfig } from 'vite';
import path from 'node:path';

const root = import.meta.dirname;

// Fixed file names: server-rendered pages reference /assets/<name>.js directly.
export default defineConfig({
  root,
  publicDir: false,
  logLevel: 'warn',
  // JSX compiles to Preact's automatic runtime (no @preact/preset-vite: it would pull in Babel).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rollupOptions: {
      input: {
        login: path.join(root, 'login.ts'),
        enroll: path.join(root, 'enroll.ts'),
        latchkey: path.join(root, 'latchkey.css'),
        // The console (/admin) and the dashboard (/): Preact apps with their shared stylesheet.
        admin: path.join(root, 'admin/main.tsx'),
        dashboard: path.join(root, 'dashboard/main.tsx'),
        console: path.join(root, 'console.css'),
      },
      output: {
        entryFileNames: 'assets/[name].js',
        chunkFileNames: 'assets/[name].js',
        assetFileNames: 'assets/[name][extname]',
      },
    },
  },
});
