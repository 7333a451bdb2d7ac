FROM node:22-bookworm-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
# The sources come first: `npm ci` runs the `prepare` script, which compiles the server.
COPY . .
RUN npm ci --no-audit --no-fund
RUN npm run build && npm prune --omit=dev --ignore-scripts
ENV NODE_ENV=production PORT=3000
EXPOSE 3000
USER node
# node itself on the compiled entry, not an npm wrapper: SIGTERM must reach the server so it drains (README "Operations").
# The same node flags as package.json's start script (README "Production", memory; test/ops/startup.test.ts keeps them equal).
STOPSIGNAL SIGTERM
CMD ["node", "--heap-growing-percent=50", "dist/server/main.js"]
