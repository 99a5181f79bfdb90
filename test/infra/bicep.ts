/**
 * A small reader for Bicep source, enough to check infra/ in tests: declarations (param, var, resource,
 * module, output), object and array literals, for-loops and nested resources. Any other expression is
 * kept as its source text.
 *
 * Written by hand because there is no Bicep compiler here (no az/bicep binary, no network) and no npm
 * package parses Bicep; this reads structure only and does no type checking.
 */

/** One lexical token of Bicep source. */
export interface Token {
  kind: 'ident' | 'string' | 'number' | 'punct' | 'newline';
  text: string;
  /** For strings without interpolation: the unescaped value. */
  value?: string;
  line: number;
}

/** A parse failure with the line it happened on. */
export class BicepParseError extends Error {
  readonly code = 'BICEP_PARSE';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'BicepParseError';
  }
}

/** An object literal; nested resource declarations inside it are kept apart from its properties. */
export interface BicepObject {
  kind: 'object';
  entries: Map<string, BicepValue>;
  resources: BicepDeclaration[];
}

/** An array literal. */
export interface BicepArray {
  kind: 'array';
  items: BicepValue[];
}

/** `[for item in source: body]`, optionally with `if (condition)` before the body. */
export interface BicepFor {
  kind: 'for';
  header: string;
  condition?: string;
  body: BicepValue;
}

/** Any other expression, as source text with single spaces between tokens. */
export interface BicepExpr {
  kind: 'expr';
  text: string;
  /** Set when the expression is one plain string literal. */
  stringValue?: string;
}

export type BicepValue = BicepObject | BicepArray | BicepFor | BicepExpr;

/** A top-level or nested declaration. */
export interface BicepDeclaration {
  keyword: 'param' | 'var' | 'resource' | 'module' | 'output';
  symbol: string;
  /** Resource type with version ('Microsoft.Web/sites@2024-04-01' or 'config' when nested), module path, or param/output type. */
  type: string;
  existing: boolean;
  condition?: string;
  decorators: string[];
  /** Body of a resource or module, value of a var or output, default of a param. */
  value?: BicepValue;
  line: number;
}

const PUNCT_2 = ['==', '!=', '>=', '<=', '&&', '||', '??', '.?', '=>', '::', '!~', '=~'];

/** Splits Bicep source into tokens; comments are dropped, newlines kept (they end statements). */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const at = (k: number) => source[k] ?? '';

  while (i < source.length) {
    const c = at(i);
    if (c === '\n') {
      tokens.push({ kind: 'newline', text: '\n', line });
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '/' && at(i + 1) === '/') {
      while (i < source.length && at(i) !== '\n') i++;
    } else if (c === '/' && at(i + 1) === '*') {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) throw new BicepParseError('unterminated block comment', line);
      line += countNewlines(source.slice(i, end));
      i = end + 2;
    } else if (source.startsWith("'''", i)) {
      const end = source.indexOf("'''", i + 3);
      if (end < 0) throw new BicepParseError('unterminated multi-line string', line);
      const raw = source.slice(i, end + 3);
      // Bicep drops one newline right after the opening quotes.
      const value = source.slice(i + 3, end).replace(/^\r?\n/, '');
      tokens.push({ kind: 'string', text: raw, value, line });
      line += countNewlines(raw);
      i = end + 3;
    } else if (c === "'") {
      const end = scanString(source, i, line);
      const raw = source.slice(i, end);
      const token: Token = { kind: 'string', text: raw, line };
      if (!hasInterpolation(raw)) token.value = unescape(raw.slice(1, -1));
      tokens.push(token);
      line += countNewlines(raw);
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (/[A-Za-z0-9_]/.test(at(j))) j++;
      tokens.push({ kind: 'ident', text: source.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (/[0-9.]/.test(at(j))) j++;
      tokens.push({ kind: 'number', text: source.slice(i, j), line });
      i = j;
    } else {
      const two = source.slice(i, i + 2);
      if (PUNCT_2.includes(two)) {
        tokens.push({ kind: 'punct', text: two, line });
        i += 2;
      } else {
        tokens.push({ kind: 'punct', text: c, line });
        i++;
      }
    }
  }
  return tokens;
}

function countNewlines(text: string): number {
  let n = 0;
  for (const ch of text) if (ch === '\n') n++;
  return n;
}

/** Returns the index just past the closing quote of the string starting at `start`, skipping `${...}`. */
function scanString(source: string, start: number, line: number): number {
  let i = start + 1;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      i += 2;
    } else if (c === "'") {
      return i + 1;
    } else if (c === '$' && source[i + 1] === '{') {
      i = scanInterpolation(source, i + 2, line);
    } else if (c === '\n') {
      throw new BicepParseError('newline in string', line);
    } else {
      i++;
    }
  }
  throw new BicepParseError('unterminated string', line);
}

/** Skips an interpolation body (which may hold strings and braces); returns the index after its `}`. */
function scanInterpolation(source: string, start: number, line: number): number {
  let depth = 1;
  let i = start;
  while (i < source.length) {
    const c = source[i];
    if (c === "'") {
      i = scanString(source, i, line);
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  throw new BicepParseError('unterminated interpolation', line);
}

function hasInterpolation(raw: string): boolean {
  for (let i = 1; i < raw.length - 1; i++) {
    if (raw[i] === '\\') i++;
    else if (raw[i] === '$' && raw[i + 1] === '{') return true;
  }
  return false;
}

function unescape(body: string): string {
  return body.replace(/\\(.)/g, (_m, ch: string) =>
    ch === 'n' ? '\n' : ch === 'r' ? '\r' : ch === 't' ? '\t' : ch,
  );
}

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSE = new Set([')', ']', '}']);

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parseFile(): BicepDeclaration[] {
    const declarations: BicepDeclaration[] = [];
    for (;;) {
      this.skipNewlines();
      const token = this.peek();
      if (!token) return declarations;
      const decorators = this.parseDecorators();
      const keyword = this.peek();
      if (!keyword) throw new BicepParseError('decorator without declaration', token.line);
      switch (keyword.text) {
        case 'param':
        case 'var':
        case 'output':
        case 'resource':
        case 'module':
          declarations.push(this.parseDeclaration(decorators));
          break;
        default:
          // targetScope, metadata, import, type, func: not needed by the checks.
          this.skipStatement();
      }
    }
  }

  private parseDecorators(): string[] {
    const decorators: string[] = [];
    while (this.peek()?.text === '@') {
      const start = this.pos;
      this.pos++;
      this.expectKind('ident');
      while (this.peek()?.text === '.') {
        this.pos++;
        this.expectKind('ident');
      }
      if (this.peek()?.text === '(') this.skipBalanced();
      decorators.push(this.textOf(start, this.pos));
      this.skipNewlines();
    }
    return decorators;
  }

  private parseDeclaration(decorators: string[]): BicepDeclaration {
    const keywordToken = this.next();
    const keyword = keywordToken.text as BicepDeclaration['keyword'];
    const symbol = this.expectKind('ident').text;
    const declaration: BicepDeclaration = {
      keyword,
      symbol,
      type: '',
      existing: false,
      decorators,
      line: keywordToken.line,
    };
    if (keyword === 'resource' || keyword === 'module') {
      const typeToken = this.expectKind('string');
      declaration.type = typeToken.value ?? typeToken.text;
      if (this.peek()?.text === 'existing') {
        this.pos++;
        declaration.existing = true;
      }
      this.expectText('=');
      if (this.peek()?.text === 'if') {
        this.pos++;
        const start = this.pos;
        this.skipBalanced();
        declaration.condition = this.textOf(start + 1, this.pos - 1);
      }
      declaration.value = this.parseValue();
    } else if (keyword === 'var') {
      this.expectText('=');
      declaration.value = this.parseValue();
    } else {
      // param / output: a type (possibly `resource 'x@v'`), then for outputs `= value`, for params an optional default.
      const start = this.pos;
      while (this.peek() && this.peek()?.text !== '=' && this.peek()?.kind !== 'newline') this.pos++;
      declaration.type = this.textOf(start, this.pos);
      if (this.peek()?.text === '=') {
        this.pos++;
        declaration.value = this.parseValue();
      }
    }
    return declaration;
  }

  /** Parses one value; stops before a newline, `,` or closing bracket at its own nesting level. */
  private parseValue(): BicepValue {
    this.skipNewlines();
    const token = this.peek();
    if (!token) throw new BicepParseError('value expected', this.lastLine());
    if (token.text === '{') return this.parseObject();
    if (token.text === '[') {
      const after = this.peekPastNewlines(1);
      if (after?.text === 'for') return this.parseFor();
      return this.parseArrayOrExpr();
    }
    return this.parseExpr();
  }

  private parseObject(): BicepValue {
    const start = this.pos;
    this.expectText('{');
    const object: BicepObject = { kind: 'object', entries: new Map(), resources: [] };
    for (;;) {
      this.skipSeparators();
      const token = this.peek();
      if (!token) throw new BicepParseError('unterminated object', this.tokens[start]?.line ?? 0);
      if (token.text === '}') {
        this.pos++;
        break;
      }
      if (token.text === '@' || (token.text === 'resource' && this.peekAt(1)?.kind === 'ident')) {
        const decorators = this.parseDecorators();
        object.resources.push(this.parseDeclaration(decorators));
        continue;
      }
      if (token.kind !== 'ident' && token.kind !== 'string') {
        throw new BicepParseError(`property name expected, got '${token.text}'`, token.line);
      }
      this.pos++;
      const key = token.kind === 'string' ? (token.value ?? token.text) : token.text;
      this.expectText(':');
      object.entries.set(key, this.parseValue());
    }
    return this.continueExpr(start, object);
  }

  private parseArrayOrExpr(): BicepValue {
    const start = this.pos;
    this.expectText('[');
    const array: BicepArray = { kind: 'array', items: [] };
    for (;;) {
      this.skipSeparators();
      const token = this.peek();
      if (!token) throw new BicepParseError('unterminated array', this.tokens[start]?.line ?? 0);
      if (token.text === ']') {
        this.pos++;
        break;
      }
      array.items.push(this.parseValue());
    }
    return this.continueExpr(start, array);
  }

  private parseFor(): BicepFor {
    this.expectText('[');
    this.skipNewlines();
    this.expectText('for');
    const headerStart = this.pos;
    let depth = 0;
    while (this.peek()) {
      const text = this.peek()?.text ?? '';
      if (text === ':' && depth === 0) break;
      if (OPEN[text]) depth++;
      if (CLOSE.has(text)) depth--;
      this.pos++;
    }
    const header = this.textOf(headerStart, this.pos);
    this.expectText(':');
    this.skipNewlines();
    const loop: BicepFor = { kind: 'for', header, body: { kind: 'expr', text: '' } };
    if (this.peek()?.text === 'if') {
      this.pos++;
      const start = this.pos;
      this.skipBalanced();
      loop.condition = this.textOf(start + 1, this.pos - 1);
    }
    loop.body = this.parseValue();
    this.skipNewlines();
    this.expectText(']');
    return loop;
  }

  /**
   * A literal may be the start of a longer expression (`{...}.key`, `[...][0]`): if more tokens follow on the
   * same level, the whole thing is read as an expression instead.
   */
  private continueExpr(start: number, literal: BicepValue): BicepValue {
    const next = this.peek();
    if (!next || next.kind === 'newline' || next.text === ',' || CLOSE.has(next.text)) return literal;
    this.pos = start;
    return this.parseExpr();
  }

  private parseExpr(): BicepExpr {
    const start = this.pos;
    let depth = 0;
    while (this.peek()) {
      const token = this.peek() as Token;
      if (depth === 0 && (token.kind === 'newline' || token.text === ',' || CLOSE.has(token.text))) break;
      if (OPEN[token.text]) depth++;
      if (CLOSE.has(token.text)) depth--;
      this.pos++;
    }
    if (this.pos === start)
      throw new BicepParseError('expression expected', this.peek()?.line ?? this.lastLine());
    const expr: BicepExpr = { kind: 'expr', text: this.textOf(start, this.pos) };
    const only = this.tokens[start];
    if (this.pos === start + 1 && only?.kind === 'string' && only.value !== undefined)
      expr.stringValue = only.value;
    return expr;
  }

  private skipStatement(): void {
    let depth = 0;
    while (this.peek()) {
      const text = this.peek()?.text ?? '';
      if (depth === 0 && this.peek()?.kind === 'newline') return;
      if (OPEN[text]) depth++;
      if (CLOSE.has(text)) depth--;
      this.pos++;
    }
  }

  /** Skips a bracketed group starting at the current token, including newlines inside it. */
  private skipBalanced(): void {
    const open = this.next();
    const close = OPEN[open.text];
    if (!close) throw new BicepParseError(`'(' expected, got '${open.text}'`, open.line);
    let depth = 1;
    while (depth > 0) {
      const token = this.next();
      if (OPEN[token.text]) depth++;
      else if (CLOSE.has(token.text)) depth--;
    }
  }

  private skipNewlines(): void {
    while (this.peek()?.kind === 'newline') this.pos++;
  }

  private skipSeparators(): void {
    while (this.peek()?.kind === 'newline' || this.peek()?.text === ',') this.pos++;
  }

  private textOf(from: number, to: number): string {
    return this.tokens
      .slice(from, to)
      .filter((t) => t.kind !== 'newline')
      .map((t) => t.text)
      .join(' ');
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private peekAt(offset: number): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private peekPastNewlines(offset: number): Token | undefined {
    let i = this.pos + offset;
    while (this.tokens[i]?.kind === 'newline') i++;
    return this.tokens[i];
  }

  private next(): Token {
    const token = this.tokens[this.pos];
    if (!token) throw new BicepParseError('unexpected end of file', this.lastLine());
    this.pos++;
    return token;
  }

  private expectText(text: string): Token {
    const token = this.next();
    if (token.text !== text) throw new BicepParseError(`'${text}' expected, got '${token.text}'`, token.line);
    return token;
  }

  private expectKind(kind: Token['kind']): Token {
    const token = this.next();
    if (token.kind !== kind) throw new BicepParseError(`${kind} expected, got '${token.text}'`, token.line);
    return token;
  }

  private lastLine(): number {
    return this.tokens[this.tokens.length - 1]?.line ?? 0;
  }
}

/** Parses Bicep source into its top-level declarations. */
export function parseBicep(source: string): BicepDeclaration[] {
  return new Parser(tokenize(source)).parseFile();
}

/** A resource with its full type (nested ones resolved against their parents) and body. */
export interface ResolvedResource {
  declaration: BicepDeclaration;
  symbol: string;
  /** Full type without version, e.g. 'Microsoft.Web/sites/config'. */
  type: string;
  apiVersion: string;
  existing: boolean;
  /** True when declared with a for-loop. */
  loop: boolean;
  /** The object body (inside the loop when there is one). */
  body: BicepObject;
  /** Symbol path for `a::b` references of nested resources. */
  path: string[];
}

/** Every resource declaration in a file, nested ones included, with full types. */
export function resourcesOf(declarations: BicepDeclaration[]): ResolvedResource[] {
  const out: ResolvedResource[] = [];
  const visit = (
    decl: BicepDeclaration,
    parentType: string | undefined,
    parentApi: string,
    path: string[],
  ) => {
    const [rawType = '', version] = decl.type.split('@');
    const type = parentType ? `${parentType}/${rawType}` : rawType;
    const apiVersion = version ?? parentApi;
    const loop = decl.value?.kind === 'for';
    const body = decl.value?.kind === 'for' ? decl.value.body : decl.value;
    if (body?.kind !== 'object')
      throw new BicepParseError(`resource ${decl.symbol} has no object body`, decl.line);
    const symbolPath = [...path, decl.symbol];
    out.push({
      declaration: decl,
      symbol: decl.symbol,
      type,
      apiVersion,
      existing: decl.existing,
      loop,
      body,
      path: symbolPath,
    });
    for (const child of body.resources) visit(child, type, apiVersion, symbolPath);
  };
  for (const decl of declarations) if (decl.keyword === 'resource') visit(decl, undefined, '', []);
  return out;
}

/** The value at a dotted path of object keys, or undefined. */
export function valueAt(value: BicepValue | undefined, path: string): BicepValue | undefined {
  let current = value;
  for (const key of path.split('.')) {
    if (current?.kind !== 'object') return undefined;
    current = current.entries.get(key);
  }
  return current;
}

/** The source text of a value: expressions as written, literals in a compact form. */
export function textOf(value: BicepValue | undefined): string {
  if (!value) return '';
  switch (value.kind) {
    case 'expr':
      return value.text;
    case 'array':
      return `[ ${value.items.map(textOf).join(' , ')} ]`;
    case 'object':
      return `{ ${[...value.entries].map(([k, v]) => `${k} : ${textOf(v)}`).join(' , ')} }`;
    case 'for':
      return `[ for ${value.header} : ${textOf(value.body)} ]`;
  }
}

/** Finds the one top-level declaration of a keyword and symbol. */
export function declarationOf(
  declarations: BicepDeclaration[],
  keyword: BicepDeclaration['keyword'],
  symbol: string,
): BicepDeclaration | undefined {
  return declarations.find((d) => d.keyword === keyword && d.symbol === symbol);
}

const NOT_SYMBOLS = new Set([
  'param',
  'var',
  'resource',
  'module',
  'output',
  'existing',
  'if',
  'for',
  'in',
  'true',
  'false',
  'null',
  'targetScope',
  'metadata',
  'import',
  'type',
  'func',
  'string',
  'int',
  'bool',
  'object',
  'array',
]);

/**
 * Identifiers used as values that no declaration, loop variable or lambda parameter of the file defines:
 * what the Bicep compiler would report as "name does not exist". Property names (after `.`, `::` or before
 * `:`), function names (before `(`) and decorators are not references.
 */
export function undeclaredReferences(source: string): { name: string; line: number }[] {
  const tokens = tokenize(source);
  // Identifiers inside string interpolations count as references too.
  const expanded: Token[] = [];
  for (const token of tokens) {
    expanded.push(token);
    if (token.kind === 'string' && !token.text.startsWith("'''")) {
      for (const match of token.text.matchAll(/\$\{([^}]*)\}/g)) {
        expanded.push({ kind: 'punct', text: '(', line: token.line });
        expanded.push(...tokenize(match[1] ?? '').map((t) => ({ ...t, line: token.line })));
        expanded.push({ kind: 'punct', text: ')', line: token.line });
      }
    }
  }

  const declared = new Set<string>();
  const collect = (decls: BicepDeclaration[]) => {
    for (const d of decls) {
      declared.add(d.symbol);
      const body = d.value?.kind === 'for' ? d.value.body : d.value;
      if (body?.kind === 'object') collectNested(body);
    }
  };
  const collectNested = (object: BicepObject) => {
    collect(object.resources);
    for (const value of object.entries.values()) if (value.kind === 'object') collectNested(value);
  };
  collect(parseBicep(source));
  expanded.forEach((token, i) => {
    const next = expanded[i + 1];
    // Loop variables: `for x in` / `for (x, i) in`; lambda parameters: `x =>` / `(a, b) =>`.
    if (token.text === 'for') {
      for (let j = i + 1; j < expanded.length && expanded[j]?.text !== 'in'; j++) {
        const t = expanded[j];
        if (t?.kind === 'ident') declared.add(t.text);
      }
    }
    if (token.kind === 'ident' && next?.text === '=>') declared.add(token.text);
    if (token.text === '=>' && expanded[i - 1]?.text === ')') {
      for (let j = i - 2; j >= 0 && expanded[j]?.text !== '('; j--) {
        const t = expanded[j];
        if (t?.kind === 'ident') declared.add(t.text);
      }
    }
  });

  const missing: { name: string; line: number }[] = [];
  for (const ref of referencesIn(expanded)) {
    if (!declared.has(ref.name)) missing.push(ref);
  }
  return missing;
}

/** Identifiers in value position: not property names, function names, decorators or keywords. */
function referencesIn(tokens: Token[]): { name: string; line: number }[] {
  const refs: { name: string; line: number }[] = [];
  tokens.forEach((token, i) => {
    if (token.kind !== 'ident' || NOT_SYMBOLS.has(token.text)) return;
    const prev = tokens[i - 1]?.text;
    const next = tokens[i + 1]?.text;
    if (prev === '.' || prev === '.?' || prev === '::' || prev === '@') return;
    if (next === '(') return;
    // `name:` right after `{`, `,` or a line break is a property name; `in x:` or `? a : b` read `x`/`a`.
    const prevToken = tokens[i - 1];
    const atEntryStart = !prevToken || prevToken.kind === 'newline' || prev === '{' || prev === ',';
    if (next === ':' && atEntryStart) return;
    refs.push({ name: token.text, line: token.line });
  });
  return refs;
}

/** Params and vars that nothing in the file reads (the Bicep linter's no-unused-params / no-unused-vars). */
export function unusedDeclarations(source: string): string[] {
  const tokens = tokenize(source);
  const expanded: Token[] = [];
  for (const token of tokens) {
    expanded.push(token);
    if (token.kind === 'string' && !token.text.startsWith("'''")) {
      for (const match of token.text.matchAll(/\$\{([^}]*)\}/g)) expanded.push(...tokenize(match[1] ?? ''));
    }
  }
  // A declaration's own symbol is followed by its type or `=`, never read there; count the rest.
  const uses = new Map<string, number>();
  for (const ref of referencesIn(expanded)) uses.set(ref.name, (uses.get(ref.name) ?? 0) + 1);
  return parseBicep(source)
    .filter((d) => (d.keyword === 'param' || d.keyword === 'var') && (uses.get(d.symbol) ?? 0) < 2)
    .map((d) => d.symbol);
}
