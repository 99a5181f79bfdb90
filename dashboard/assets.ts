/**
 * The dashboard's static files: its own ES modules and CSS from dashboard/static/, and uPlot from
 * node_modules (a dependency, so it is there both under `npm start` and in Azure after the remote build).
 * No bundler: the page maps every module URL to one carrying the caller's function key (import map),
 * so the assets sit behind the same key as the data.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { badRequest, notFound } from './deps.js';

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** A static file: its bytes and content type. */
export interface StaticFile {
  body: string;
  contentType: string;
}

const vendorFiles = {
  'vendor/uPlot.esm.js': 'uplot/dist/uPlot.esm.js',
  'vendor/uPlot.min.css': 'uplot/dist/uPlot.min.css',
} as const;

const ownFile = /^[a-z][a-zA-Z0-9-]*\.(js|css|svg)$/;

/** Serves dashboard/static/* and the vendored chart library; files are read once and kept. */
export class DashboardAssets {
  readonly #cache = new Map<string, StaticFile>();
  readonly #staticDir: string;
  readonly #require: NodeJS.Require;

  constructor(appRoot: string) {
    this.#staticDir = path.join(appRoot, 'dashboard', 'static');
    this.#require = createRequire(path.join(appRoot, 'package.json'));
  }

  /** The file at `name` (e.g. `app.js`, `vendor/uPlot.esm.js`); 400 for names outside the set, 404 when absent. */
  async get(name: string): Promise<StaticFile> {
    const cached = this.#cache.get(name);
    if (cached) return cached;
    let file: string;
    if (name in vendorFiles) file = this.#require.resolve(vendorFiles[name as keyof typeof vendorFiles]);
    else if (ownFile.test(name)) file = path.join(this.#staticDir, name);
    else throw badRequest(`'${name}' is not a dashboard asset name.`);
    let body: string;
    try {
      body = await readFile(file, 'utf8');
    } catch {
      throw notFound(`No dashboard asset '${name}'.`);
    }
    const loaded = { body, contentType: contentTypes[path.extname(file)] ?? 'application/octet-stream' };
    this.#cache.set(name, loaded);
    return loaded;
  }

  /** The ES modules the page may import (its own and the chart library), for the import map. */
  async modules(): Promise<string[]> {
    const own = (await readdir(this.#staticDir)).filter((f) => f.endsWith('.js') && ownFile.test(f));
    return [...own.sort(), 'vendor/uPlot.esm.js'];
  }
}

const escapeHtml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page shell. `code` is the function key the page was opened with (`?code=`): every asset and API URL
 * it builds carries it on, since a browser cannot send the `x-functions-key` header by itself.
 */
export function pageHtml(options: {
  /** Path the page was served at (`/api/dashboard`): assets and the API sit below it. */
  basePath: string;
  code?: string;
  modules: string[];
  title: string;
}): string {
  const base = options.basePath.replace(/\/+$/, '');
  const suffix = options.code ? `?code=${encodeURIComponent(options.code)}` : '';
  const url = (file: string) => `${base}/static/${file}${suffix}`;
  const imports: Record<string, string> = { uplot: url('vendor/uPlot.esm.js') };
  for (const module of options.modules) imports[`${base}/static/${module}`] = url(module);
  // JSON inside <script>: only "</" could end the element early.
  const importMap = JSON.stringify({ imports }, null, 2).replace(/<\//g, '<\\/');
  const config = JSON.stringify({
    code: options.code ?? null,
    apiBase: `${base}/api/`,
    appApiBase: `${base.replace(/\/dashboard$/, '')}/`,
  }).replace(/<\//g, '<\\/');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="${escapeHtml(url('vendor/uPlot.min.css'))}">
<link rel="stylesheet" href="${escapeHtml(url('style.css'))}">
<script type="importmap">${importMap}</script>
<script id="dashboard-config" type="application/json">${config}</script>
</head>
<body>
<header>
  <h1>${escapeHtml(options.title)}</h1>
  <nav>
    <a href="#/runs" data-nav="runs">Runs</a>
    <a href="#/models" data-nav="models">Models</a>
    <a href="#/endpoint" data-nav="endpoint">Endpoint</a>
  </nav>
  <span id="refresh-state"></span>
</header>
<main id="app"><p>Loading…</p></main>
<script type="module" src="${escapeHtml(url('app.js'))}"></script>
</body>
</html>
`;
}
