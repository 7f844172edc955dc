# The wikit image: `wikit webhook serve` in a cluster (the Helm chart's default entrypoint is `wikit`).
#   docker build -t ghcr.io/wikit/wikit:0.1.0 .
FROM node:26-slim
WORKDIR /opt/wikit
COPY package.json package-lock.json ./
# Runtime dependencies only; the pinned `node` devDependency is not needed, the image's Node runs wikit.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
USER 65532:65532
ENTRYPOINT ["node", "/opt/wikit/bin/wikit.js"]
