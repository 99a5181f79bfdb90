# Image of the scoring server for an Azure ML managed online deployment (custom container).
# Build from the repository root: docker build -f inference/infer.Dockerfile -t demand-forecast-infer .
# Azure ML routes liveness (/health), readiness (/ready) and scoring (/score) to port 8080 (see the
# inference_config in aml/deployments/*.yml) and mounts the registered model at AZUREML_MODEL_DIR.

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY training ./training
COPY inference ./inference
# Compile only the server and the model code it imports (not the Functions app).
RUN npx tsc --outDir dist --rootDir . --module NodeNext --moduleResolution NodeNext --target ES2022 \
      --strict --skipLibCheck --esModuleInterop --resolveJsonModule --types node inference/main.ts

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    AZUREML_INFERENCE_CONTAINER=true \
    INFERENCE_PORT=8080 \
    LOG_LEVEL=info
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
USER node
EXPOSE 8080
# Node is PID 1 and handles SIGTERM itself: readiness turns false, in-flight requests finish, then exit.
CMD ["node", "dist/inference/main.js"]
