/**
 * ASP.NET Core route templates as the Functions host uses them for HTTP triggers
 * (`products/{category:alpha}/{id:int?}`, `files/{*path}`). Written by hand: no maintained npm router speaks
 * this syntax (inline constraints, `?` optionals, `=` defaults, catch-alls), and fastify's router does not.
 */

/** A route template could not be parsed. */
export class RouteTemplateError extends Error {
  readonly code = 'BAD_ROUTE_TEMPLATE';
}

type Constraint = (value: string) => boolean;

interface ParameterPart {
  kind: 'param';
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue: string | undefined;
  constraints: Constraint[];
}
interface LiteralPart {
  kind: 'literal';
  text: string;
}
type Part = ParameterPart | LiteralPart;

/** A compiled template: `match` returns the route values or undefined. */
export interface RouteTemplate {
  readonly template: string;
  /** Orders templates like ASP.NET: literals before constrained parameters before plain ones before catch-alls. */
  readonly precedence: number[];
  match(path: string): Record<string, string> | undefined;
}

const numberPattern = /^-?\d+(\.\d+)?$/;

function argList(arg: string | undefined, name: string, count: number): number[] {
  const values = (arg ?? '').split(',').map((v) => Number(v.trim()));
  if (values.length < count || values.some((v) => !Number.isFinite(v))) {
    throw new RouteTemplateError(
      `Constraint "${name}" needs ${count} numeric argument(s), got "${arg ?? ''}".`,
    );
  }
  return values;
}

function makeConstraint(spec: string): Constraint {
  const m = /^([a-zA-Z]+)(?:\((.*)\))?$/s.exec(spec);
  if (!m?.[1]) throw new RouteTemplateError(`Unknown route constraint "${spec}".`);
  const name = m[1].toLowerCase();
  const arg = m[2];
  switch (name) {
    case 'int':
      return (v) => /^-?\d+$/.test(v) && Math.abs(Number(v)) <= 2_147_483_648;
    case 'long':
      return (v) => /^-?\d+$/.test(v);
    case 'bool':
      return (v) => /^(true|false)$/i.test(v);
    case 'decimal':
    case 'double':
    case 'float':
      return (v) => numberPattern.test(v);
    case 'guid':
      return (v) => /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i.test(v);
    case 'datetime':
      return (v) => !Number.isNaN(Date.parse(v));
    case 'alpha':
      return (v) => /^[a-z]+$/i.test(v);
    case 'minlength': {
      const [min = 0] = argList(arg, name, 1);
      return (v) => v.length >= min;
    }
    case 'maxlength': {
      const [max = 0] = argList(arg, name, 1);
      return (v) => v.length <= max;
    }
    case 'length': {
      const values = argList(arg, name, 1);
      const [a = 0, b] = values;
      return values.length > 1 ? (v) => v.length >= a && v.length <= (b ?? a) : (v) => v.length === a;
    }
    case 'min': {
      const [min = 0] = argList(arg, name, 1);
      return (v) => /^-?\d+$/.test(v) && Number(v) >= min;
    }
    case 'max': {
      const [max = 0] = argList(arg, name, 1);
      return (v) => /^-?\d+$/.test(v) && Number(v) <= max;
    }
    case 'range': {
      const [min = 0, max = 0] = argList(arg, name, 2);
      return (v) => /^-?\d+$/.test(v) && Number(v) >= min && Number(v) <= max;
    }
    case 'regex': {
      const re = new RegExp(arg ?? '', 'i');
      return (v) => re.test(v);
    }
    default:
      throw new RouteTemplateError(`Unknown route constraint "${spec}".`);
  }
}

// Splits `name:int:range(1,5)` on colons outside parentheses.
function splitConstraints(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ':' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

function parseParameter(body: string, template: string): ParameterPart {
  const [head = '', ...constraintSpecs] = splitConstraints(body);
  let name = head;
  let catchAll = false;
  if (name.startsWith('**')) {
    catchAll = true;
    name = name.slice(2);
  } else if (name.startsWith('*')) {
    catchAll = true;
    name = name.slice(1);
  }
  let defaultValue: string | undefined;
  let optional = false;
  const lastSpec = constraintSpecs.at(-1);
  // `?` and `=default` attach to the end of the whole parameter, after any constraints
  const tail = constraintSpecs.length ? lastSpec! : name;
  let trimmedTail = tail;
  const eq = trimmedTail.indexOf('=');
  if (eq >= 0 && !/\(/.test(trimmedTail.slice(0, eq))) {
    defaultValue = trimmedTail.slice(eq + 1);
    trimmedTail = trimmedTail.slice(0, eq);
  }
  if (trimmedTail.endsWith('?')) {
    optional = true;
    trimmedTail = trimmedTail.slice(0, -1);
  }
  if (constraintSpecs.length) constraintSpecs[constraintSpecs.length - 1] = trimmedTail;
  else name = trimmedTail;
  if (!/^[A-Za-z_][\w]*$/.test(name)) {
    throw new RouteTemplateError(`Route "${template}" has an invalid parameter name "{${body}}".`);
  }
  return {
    kind: 'param',
    name,
    optional: optional || defaultValue !== undefined,
    catchAll,
    defaultValue,
    constraints: constraintSpecs.map(makeConstraint),
  };
}

function parseSegment(segment: string, template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < segment.length) {
    const open = segment.indexOf('{', i);
    if (open < 0) {
      parts.push({ kind: 'literal', text: segment.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: 'literal', text: segment.slice(i, open) });
    const close = segment.indexOf('}', open);
    if (close < 0) throw new RouteTemplateError(`Route "${template}" has an unclosed "{".`);
    parts.push(parseParameter(segment.slice(open + 1, close), template));
    i = close + 1;
  }
  return parts;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compiles an ASP.NET-style route template (without the route prefix). */
export function compileRouteTemplate(template: string): RouteTemplate {
  const segments = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s, i, all) => s !== '' || all.length === 1);
  const params: ParameterPart[] = [];
  const precedence: number[] = [];
  let pattern = '^';
  segments.forEach((segment, index) => {
    if (segment === '') return;
    const parts = parseSegment(segment, template);
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only?.kind === 'param') {
      params.push(only);
      if (only.catchAll) {
        if (index !== segments.length - 1) {
          throw new RouteTemplateError(
            `Route "${template}": a catch-all parameter must be the last segment.`,
          );
        }
        pattern += '(?:/(.*))?';
        precedence.push(5);
      } else if (only.optional) {
        pattern += '(?:/([^/]+))?';
        precedence.push(4);
      } else {
        pattern += '/([^/]+)';
        precedence.push(only.constraints.length ? 2 : 3);
      }
      return;
    }
    pattern += '/';
    for (const part of parts) {
      if (part.kind === 'literal') pattern += escapeRegex(part.text);
      else {
        if (part.catchAll)
          throw new RouteTemplateError(`Route "${template}": a catch-all must fill its segment.`);
        params.push(part);
        pattern += part.optional ? '([^/]*?)' : '([^/]+?)';
      }
    }
    precedence.push(parts.every((p) => p.kind === 'literal') ? 1 : 2);
  });
  pattern += '/?$';
  const regex = new RegExp(pattern, 'i');

  return {
    template,
    precedence,
    match(path: string): Record<string, string> | undefined {
      const normalized = path === '' || path.startsWith('/') ? path : `/${path}`;
      const m = regex.exec(normalized);
      if (!m) return undefined;
      const values: Record<string, string> = {};
      for (const [i, param] of params.entries()) {
        const raw = m[i + 1];
        if (raw === undefined || raw === '') {
          if (param.defaultValue !== undefined) values[param.name] = param.defaultValue;
          else if (!param.optional && !param.catchAll) return undefined;
          continue;
        }
        let value: string;
        try {
          value = param.catchAll ? raw.split('/').map(decodeURIComponent).join('/') : decodeURIComponent(raw);
        } catch {
          return undefined;
        }
        if (!param.constraints.every((check) => check(value))) return undefined;
        values[param.name] = value;
      }
      return values;
    },
  };
}

/** Sorts templates so the most specific is tried first (ASP.NET route precedence, simplified). */
export function comparePrecedence(a: RouteTemplate, b: RouteTemplate): number {
  const length = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < length; i++) {
    const x = a.precedence[i] ?? 0;
    const y = b.precedence[i] ?? 0;
    if (x !== y) return x - y;
  }
  return 0;
}
