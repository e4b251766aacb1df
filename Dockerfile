# The Gatekeeper service. Build and run with docker-compose.yml (it brings PostgreSQL along).
# Checked by parsing only (test/ops/docker.test.ts): no Docker engine runs in CI.

# Stage 1: compile the TypeScript (npm ci runs the "prepare" script, which builds dist/),
# then drop the development dependencies (TypeScript, tsx, the test tools).
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
RUN npm ci && npm prune --omit=dev && npm cache clean --force

# Stage 2: the image that runs: compiled JavaScript and production dependencies only.
FROM node:20-slim

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    GATEKEEPER_DATA_DIR=/app/data

WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin

# Never run as root. /app/data is only used when no DATABASE_URL is given (embedded PostgreSQL).
RUN mkdir -p /app/data && chown node:node /app/data
USER node

EXPOSE 8000

# node:20-slim has no curl; Node's own fetch checks /health (503 while the database is unreachable).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node directly (not npm) as PID 1, so SIGTERM from `docker stop` reaches Gatekeeper's clean shutdown.
# The V8 flags are npm start's (package.json): a 4 MiB young generation and a slower-growing heap
# keep memory bounded under request floods (docs/BENCHMARKS.md, "Choices").
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=30", "dist/main.js"]
