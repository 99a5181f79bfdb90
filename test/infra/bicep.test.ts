import { describe, expect, it } from 'vitest';
import {
  BicepParseError,
  declarationOf,
  parseBicep,
  resourcesOf,
  textOf,
  tokenize,
  undeclaredReferences,
  unusedDeclarations,
  valueAt,
} from './bicep.js';

const sample = `
targetScope = 'subscription'

@description('Region; braces in text } { must not confuse the reader.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string
param count int = 2 // a trailing comment with { a brace

/* a block comment
   resource fake 'X/y@2020-01-01' = {} */
var tags = { Project: 'p', 'azd-env-name': 'e' }
var text = '''
multi { line }
'''
var names = ['a', 'b']

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'app-\${toLower('X}')}'
  location: location
  tags: union(tags, { Component: 'functions' })
  properties: {
    flag: false
    list: [
      'one'
      { key: 'two' }
    ]
    cond: count > 1 ? [] : [
      'three'
    ]
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: {
      A_SETTING: 'it\\'s'
      B_SETTING: site.properties.defaultHostName
    }
  }
}

resource loop 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for (n, i) in names: if (i > 0) {
  name: n
}]

module mod './app/mod.bicep' = if (count > 1) {
  name: 'mod'
  params: {
    location: location
  }
}

output URL string = 'https://\${site.properties.defaultHostName}'
`;

describe('bicep reader', () => {
  const declarations = parseBicep(sample);

  it('reads declarations with decorators, defaults and conditions', () => {
    const location = declarationOf(declarations, 'param', 'location');
    expect(location?.decorators).toHaveLength(2);
    expect(location?.value).toBeUndefined();
    expect(textOf(declarationOf(declarations, 'param', 'count')?.value)).toBe('2');
    expect(declarationOf(declarations, 'module', 'mod')?.condition).toBe('count > 1');
    expect(declarationOf(declarations, 'module', 'mod')?.type).toBe('./app/mod.bicep');
    expect(textOf(declarationOf(declarations, 'output', 'URL')?.value)).toBe(
      "'https://${site.properties.defaultHostName}'",
    );
  });

  it('ignores comments and reads quoted keys and multi-line strings', () => {
    expect(resourcesOf(declarations).map((r) => r.symbol)).not.toContain('fake');
    const tags = declarationOf(declarations, 'var', 'tags')?.value;
    expect(tags?.kind === 'object' ? [...tags.entries.keys()] : []).toEqual(['Project', 'azd-env-name']);
    const text = declarationOf(declarations, 'var', 'text')?.value;
    expect(text?.kind === 'expr' ? text.stringValue : undefined).toBe('multi { line }\n');
  });

  it('resolves nested resource types and reads their bodies', () => {
    const resources = resourcesOf(declarations);
    const settings = resources.find((r) => r.symbol === 'settings');
    expect(settings?.type).toBe('Microsoft.Web/sites/config');
    expect(settings?.apiVersion).toBe('2024-04-01');
    expect(settings?.path).toEqual(['site', 'settings']);
    const props = valueAt(settings?.body, 'properties');
    expect(props?.kind === 'object' ? [...props.entries.keys()] : []).toEqual(['A_SETTING', 'B_SETTING']);
    expect(valueAt(settings?.body, 'properties.A_SETTING')).toMatchObject({ stringValue: "it's" });
  });

  it('keeps interpolations, ternaries over lines and array items intact', () => {
    const site = resourcesOf(declarations).find((r) => r.symbol === 'site');
    expect(textOf(valueAt(site?.body, 'name'))).toBe("'app-${toLower('X}')}'");
    expect(textOf(valueAt(site?.body, 'tags'))).toBe("union ( tags , { Component : 'functions' } )");
    expect(textOf(valueAt(site?.body, 'properties.flag'))).toBe('false');
    const list = valueAt(site?.body, 'properties.list');
    expect(list?.kind === 'array' ? list.items.map(textOf) : []).toEqual(["'one'", "{ key : 'two' }"]);
    expect(textOf(valueAt(site?.body, 'properties.cond'))).toBe("count > 1 ? [ ] : [ 'three' ]");
  });

  it('reads for-loops with an index and a filter', () => {
    const loop = resourcesOf(declarations).find((r) => r.symbol === 'loop');
    expect(loop?.loop).toBe(true);
    const value = loop?.declaration.value;
    expect(value?.kind === 'for' ? [value.header, value.condition] : []).toEqual([
      '( n , i ) in names',
      'i > 0',
    ]);
    expect(textOf(valueAt(loop?.body, 'name'))).toBe('n');
  });

  it('reports where the source is malformed', () => {
    expect(() => parseBicep("var a = 'open")).toThrow(BicepParseError);
    expect(() => parseBicep('resource r = {}')).toThrow(/line 1: string expected/);
    expect(() => parseBicep('var o = {\n  a: 1\n')).toThrow(/unterminated object/);
    expect(() => tokenize('/* never closed')).toThrow(/unterminated block comment/);
  });
});

describe('undeclaredReferences', () => {
  it('finds names used but never declared, in expressions and interpolations', () => {
    const source = [
      'param known string',
      "var a = '${known}-${unknownInString}'",
      'var b = union(known, missingVar)',
      "var c = filter(list, item => item.kind == 'x')",
      'var list = [for (n, i) in range(0, 2): { key: n, at: i, other: typo.prop }]',
      "resource r 'T/x@2020-01-01' = { name: known, properties: { ref: r.id, cond: known ? known : known } }",
    ].join('\n');
    expect(undeclaredReferences(source).map((m) => `${m.name}@${m.line}`)).toEqual([
      'unknownInString@2',
      'missingVar@3',
      'typo@5',
    ]);
  });
});

describe('unusedDeclarations', () => {
  it('lists params and vars nothing reads, counting reads inside interpolations', () => {
    const source = [
      'param used string',
      'param unused string',
      "param inString string = 'x'",
      "var v = '${inString}-${used}'",
      'var dead = 1',
      'output o string = v',
    ].join('\n');
    expect(unusedDeclarations(source)).toEqual(['unused', 'dead']);
  });
});
