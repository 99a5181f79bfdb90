import { describe, expect, it } from 'vitest';
import { compileRouteTemplate, comparePrecedence, RouteTemplateError } from './routeTemplate.js';

describe('route templates', () => {
  it('matches literals case-insensitively and captures parameters', () => {
    const t = compileRouteTemplate('products/{category}/{id}');
    expect(t.match('/Products/shoes/42')).toEqual({ category: 'shoes', id: '42' });
    expect(t.match('/products/shoes')).toBeUndefined();
    expect(t.match('/products/a%20b/7')).toEqual({ category: 'a b', id: '7' });
  });

  it('applies inline constraints', () => {
    const t = compileRouteTemplate('items/{id:int}/{kind:alpha:maxlength(5)}');
    expect(t.match('/items/12/shoe')).toEqual({ id: '12', kind: 'shoe' });
    expect(t.match('/items/x/shoe')).toBeUndefined();
    expect(t.match('/items/12/toolong')).toBeUndefined();
    expect(compileRouteTemplate('r/{n:range(1,3)}').match('/r/4')).toBeUndefined();
    expect(
      compileRouteTemplate('g/{id:guid}').match('/g/2d1781af-3a4c-4d7c-bd0c-e34b19da4e66'),
    ).toBeDefined();
  });

  it('supports optional parameters, defaults and catch-alls', () => {
    const opt = compileRouteTemplate('runs/{id?}');
    expect(opt.match('/runs')).toEqual({});
    expect(opt.match('/runs/9')).toEqual({ id: '9' });
    expect(compileRouteTemplate('page/{n:int=1}').match('/page')).toEqual({ n: '1' });
    const all = compileRouteTemplate('files/{*path}');
    expect(all.match('/files/a/b%20c/d.txt')).toEqual({ path: 'a/b c/d.txt' });
    expect(all.match('/files')).toEqual({});
  });

  it('rejects malformed templates', () => {
    expect(() => compileRouteTemplate('a/{*rest}/b')).toThrow(RouteTemplateError);
    expect(() => compileRouteTemplate('a/{id:nope}')).toThrow(/Unknown route constraint/);
    expect(() => compileRouteTemplate('a/{id')).toThrow(/unclosed/);
  });

  it('orders literal routes before parameters before catch-alls', () => {
    const routes = ['x/{*rest}', 'x/{id}', 'x/new', 'x/{id:int}'].map(compileRouteTemplate);
    expect(routes.sort(comparePrecedence).map((r) => r.template)).toEqual([
      'x/new',
      'x/{id:int}',
      'x/{id}',
      'x/{*rest}',
    ]);
  });
});
