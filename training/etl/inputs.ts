import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { glob, isDynamicPattern } from 'tinyglobby';
import { SOURCE_HEADER } from '../data/schema.js';
import { EtlError, EtlInputError } from './errors.js';

/** An input file, checked and hashed. */
export interface InputFile {
  file: string;
  bytes: number;
  sha256: string;
}

/** Expands globs and literal paths into a sorted, de-duplicated list of files. */
export async function resolveInputs(inputs: string | readonly string[]): Promise<string[]> {
  const patterns = typeof inputs === 'string' ? [inputs] : [...inputs];
  const files = new Set<string>();
  for (const pattern of patterns) {
    if (isDynamicPattern(pattern)) {
      const matches = await glob(pattern, { absolute: true, onlyFiles: true, expandDirectories: false });
      if (matches.length === 0) throw new EtlInputError('NOT_FOUND', pattern, 'the pattern matches no file');
      for (const m of matches) files.add(m);
    } else {
      files.add(pattern);
    }
  }
  if (files.size === 0) throw new EtlError('NO_INPUTS', 'no input files given');
  return [...files].sort();
}

/** Opens the file as text (gunzipping .gz), failing with a typed error on a bad gzip stream. */
function openText(file: string): NodeJS.ReadableStream {
  const raw = createReadStream(file);
  if (!file.endsWith('.gz')) return raw;
  const gunzip = createGunzip();
  raw.on('error', (e) => gunzip.destroy(e));
  return raw.pipe(gunzip);
}

/**
 * Checks that a file holds the source schema: present, not empty, the exact header, and at least one data
 * line. Reads only the first few kilobytes.
 */
export async function checkHeader(file: string): Promise<void> {
  const info = await stat(file).catch((cause: unknown) => {
    throw new EtlInputError('NOT_FOUND', file, 'file not found or unreadable', { cause });
  });
  if (!info.isFile()) throw new EtlInputError('NOT_FOUND', file, 'not a regular file');
  if (info.size === 0) throw new EtlInputError('EMPTY_FILE', file, 'the file is empty (0 bytes)');
  let head = '';
  const stream = openText(file);
  try {
    for await (const chunk of stream) {
      head += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
      const firstBreak = head.indexOf('\n');
      if (firstBreak >= 0 && head.slice(firstBreak + 1).trim().length > 0) break;
      if (head.length > 65_536) break;
    }
  } catch (cause) {
    throw new EtlInputError('CORRUPT_INPUT', file, `cannot decompress: ${(cause as Error).message}`, {
      cause,
    });
  } finally {
    (stream as unknown as { destroy?: () => void }).destroy?.();
  }
  if (head.trim().length === 0) throw new EtlInputError('EMPTY_FILE', file, 'the file holds no text');
  const header = (head.split('\n', 1)[0] ?? '').replace(/\r$/, '').replace(/^\uFEFF/, '');
  if (header !== SOURCE_HEADER) {
    throw new EtlInputError(
      'WRONG_SCHEMA',
      file,
      `not the clickstream schema: expected header "${SOURCE_HEADER}", found "${header.slice(0, 200)}"`,
    );
  }
  const rest = head.slice(head.indexOf('\n') + 1);
  if (rest.trim().length === 0)
    throw new EtlInputError('HEADER_ONLY', file, 'the file has a header but no data rows');
}

/** Size and SHA-256 of a file's bytes, streamed. */
export async function hashFile(file: string): Promise<InputFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { file, bytes, sha256: hash.digest('hex') };
}
