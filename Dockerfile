# One image for every Cairn program: cairnd, cairn-recorder, cairn-discovery and cairn.
# docker-compose.yml runs one container per process from it; see docs/operations.md.
FROM node:20-bookworm-slim AS build
WORKDIR /opt/cairn
# native addons (lmdb, secp256k1) build against these when no prebuilt binary fits; g++ also
# compiles native/memory.c (npm run build)
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared ./shared
COPY services ./services
COPY scripts ./scripts
COPY native ./native
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /opt/cairn
COPY --from=build /opt/cairn/node_modules ./node_modules
COPY --from=build /opt/cairn/dist ./dist
COPY package.json ./
COPY deploy ./deploy
# cairnd runs through bin/cairnd, which gives node the V8 flags a syncing node needs (its nursery
# size and no allocation-site pretenuring: docs/performance.md); node refuses the second in NODE_OPTIONS
COPY bin/cairnd ./bin/cairnd
# the same nursery for every program (a fifth less peak memory while syncing)
ENV NODE_OPTIONS=--max-semi-space-size=2
RUN for p in recorder:cairn-recorder discovery:cairn-discovery cli:cairn; do \
      printf '#!/bin/sh\nexec node /opt/cairn/dist/services/%s/main.js "$@"\n' "${p%%:*}" > "/usr/local/bin/${p#*:}"; \
      chmod 755 "/usr/local/bin/${p#*:}"; \
    done \
 && ln -s /opt/cairn/bin/cairnd /usr/local/bin/cairnd \
 && mkdir -p /var/lib/cairn /var/lib/cairn-discovery /etc/cairn
# the data directories are volumes: a container can be replaced (upgrade) without losing the chain
VOLUME ["/var/lib/cairn", "/var/lib/cairn-discovery"]
# cairnd stops cleanly on SIGTERM (docker stop); give it time to close LMDB and save its caches
STOPSIGNAL SIGTERM
CMD ["cairnd", "--help"]
