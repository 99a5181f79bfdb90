// The dashboard's JSON calls. The page was opened with ?code=<function key>; every call carries it on,
// since a browser cannot add the x-functions-key header to a link the user opened.
const config = JSON.parse(document.getElementById('dashboard-config')?.textContent ?? '{}');

/** A URL below the dashboard API (`runs/x`) or the app API (`app:runs?type=release`), with the key. */
export function apiUrl(path) {
  const appCall = path.startsWith('app:');
  const base = appCall ? config.appApiBase : config.apiBase;
  const url = new URL(appCall ? path.slice(4) : path, new URL(base, location.href));
  if (config.code) url.searchParams.set('code', config.code);
  return url.toString();
}

/** GETs JSON; throws an Error with the API's message on 4xx/5xx. */
export async function getJson(path) {
  const res = await fetch(apiUrl(path), { headers: { accept: 'application/json' } });
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { message: text };
  }
  if (!res.ok) {
    const err = new Error(`${res.status}: ${body.message ?? res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return body;
}
