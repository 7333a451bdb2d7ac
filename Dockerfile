FROM node:22-bookworm-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:web
ENV NODE_ENV=production PORT=3000
EXPOSE 3000
USER node
# node itself, not npx/tsx wrappers: SIGTERM must reach the server so it drains (README "Operations").
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "server/main.ts"]
