# The feed server as one executable on a slim base, run as a non-root user.
#   docker build -t mongo-feed .
#   docker run -p 8080:8080 -e MONGODB_URI="mongodb://db1,db2,db3/social_network?replicaSet=rs0" mongo-feed
# (compose.yaml runs it next to a single-node replica set.)

FROM oven/bun:1.4.5 AS build
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
# The workspace's manifest too, so the frozen lockfile matches (the emulator is a dev dependency, never installed here).
COPY packages/mongo-emulator/package.json ./packages/mongo-emulator/
RUN bun install --frozen-lockfile --production
COPY tsconfig.json ./
COPY src ./src
# `bun run build` itself (bytecode-compiled for a faster start); the live page is bundled into the executable.
RUN bun run build --outfile /app/mongo-feed

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin feed
COPY --from=build /app/mongo-feed /usr/local/bin/mongo-feed
USER feed
ENV PORT=8080 HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["mongo-feed", "--health-check"]
# SIGTERM shuts down in order (sockets get 1001, the position is persisted) within 5 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["mongo-feed"]
