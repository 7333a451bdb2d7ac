import { defineConfig } from 'vite';
import path from 'node:path';

const root = import.meta.dirname;

// Fixed file names: server-rendered pages reference /assets/<name>.js directly.
export default defineConfig({
  root,
  publicDir: false,
  logLevel: 'warn',
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
      },
      output: {
        entryFileNames: 'assets/[name].js',
        chunkFileNames: 'assets/[name].js',
        assetFileNames: 'assets/[name][extname]',
      },
    },
  },
});
