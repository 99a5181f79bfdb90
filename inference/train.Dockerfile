# Image of the Azure ML environment the ETL and training jobs run in (aml/jobs/*.yml use
# `environment: azureml:demand-forecast-jobs@latest` and run `npx tsx training/cli/<step>.ts`).
# Build from the repository root: docker build -f inference/train.Dockerfile -t demand-forecast-jobs .
# The job uploads the repository as its code snapshot without node_modules; the dependencies live at
# /node_modules, which Node's resolution reaches by walking up from the job's working directory.

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PATH=/node_modules/.bin:$PATH
WORKDIR /
COPY package.json package-lock.json /
# Dev dependencies are kept: the jobs run TypeScript through tsx. DuckDB ships its binary in an npm package.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm cache clean --force \
    && node -e "import('@duckdb/node-api').then(() => console.log('duckdb ok'))"
WORKDIR /workspace
USER node
CMD ["node", "--version"]
