# lambda-policy-controller image: `docker build -t lambda-policy-controller:0.1.0 .`
# The chart (charts/lambda-policy-controller) runs it as `lambda-policy-controller run ...`.
#
# BASE_IMAGE is the Node 24 base of every stage. Pin it by digest for a reproducible build:
#   docker build --build-arg BASE_IMAGE=node:24-slim@sha256:<digest> .
# (the digest of the current tag: `docker buildx imagetools inspect node:24-slim`). hack/build-image.sh builds
# this file without a Docker daemon (buildah) on a stand-in base tagged node:24-slim.
ARG BASE_IMAGE=node:24-slim

# Build: all dependencies (TypeScript), then the compiled dist/.
FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, without what only a compiler or a reader uses (type declarations, source maps,
# markdown): about a third of the AWS SDK's size.
FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force && \
  find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -iname '*.md' \) -delete && \
  find node_modules -type d -empty -delete

# Runtime: node, production node_modules, dist, the bin and the CRD; no sources, no tests, no npm cache, not root.
FROM ${BASE_IMAGE}
ARG BASE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="lambda-policy-controller" \
  org.opencontainers.image.description="Kubernetes controller that keeps AWS Lambda functions in line with LambdaPolicy resources" \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}" \
  org.opencontainers.image.base.name="${BASE_IMAGE}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY crds ./crds
# 65532: the conventional "nonroot" uid/gid; the chart sets runAsNonRoot and a read-only root filesystem (nothing
# here writes to disk).
USER 65532:65532
# The bin's shebang (env -S node --max-semi-space-size=2) keeps RSS under 200 MB at 10k functions; without src/ it
# runs the compiled dist/. `env` execs node, so node is PID 1: it stops on SIGTERM in every command (`run` and `demo`
# shut down gracefully, releasing the Lease; the bin makes one-shot commands such as `plan` exit), no init needed.
ENTRYPOINT ["/app/bin/lambda-policy-controller.js"]
CMD ["run"]
