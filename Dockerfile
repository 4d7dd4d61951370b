# lambda-policy-controller image: `docker build -t lambda-policy-controller:0.1.0 .`
# The chart (charts/lambda-policy-controller) runs it as `lambda-policy-controller run ...`.

# Build: all dependencies (TypeScript), then the compiled dist/.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# Runtime: node, production node_modules, dist, the bin and the CRD; no sources, no npm cache, not root.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY crds ./crds
# 65532: the conventional "nonroot" uid/gid; the chart sets runAsNonRoot and a read-only root filesystem.
USER 65532:65532
# The bin's shebang (env -S node --max-semi-space-size=2) keeps RSS under 200 MB at 10k functions; without
# src/ it runs the compiled dist/.
ENTRYPOINT ["/app/bin/lambda-policy-controller.js"]
CMD ["run"]
