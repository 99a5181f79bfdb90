import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The keys file the local host keeps in its state folder, shaped like the real host's secrets. */
export interface HostKeysFile {
  masterKey: string;
  functionKeys: Record<string, string>;
  systemKeys: Record<string, string>;
}

/** An HTTP trigger's `authLevel`. */
export type AuthLevel = 'anonymous' | 'function' | 'admin';

function newKey(): string {
  // same alphabet and length class as the real host's generated keys
  return randomBytes(30).toString('base64url');
}

/** Access keys for function-level and admin routes, loaded from (or created in) `<stateDir>/keys.json`. */
export class HostKeys {
  private constructor(
    private readonly file: string,
    private data: HostKeysFile,
    /** True when this start created the file (the CLI prints the keys once, then). */
    readonly created: boolean,
  ) {}

  /** Loads the keys file, creating it with fresh keys on first start. */
  static async load(stateDir: string): Promise<HostKeys> {
    const file = path.join(stateDir, 'keys.json');
    try {
      const data = JSON.parse(await readFile(file, 'utf8')) as Partial<HostKeysFile>;
      if (typeof data.masterKey !== 'string' || data.masterKey.length === 0) {
        throw new Error(`${file} has no masterKey`);
      }
      return new HostKeys(
        file,
        {
          masterKey: data.masterKey,
          functionKeys: data.functionKeys ?? {},
          systemKeys: data.systemKeys ?? {},
        },
        false,
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const keys = new HostKeys(
      file,
      { masterKey: newKey(), functionKeys: { default: newKey() }, systemKeys: {} },
      true,
    );
    await keys.save();
    return keys;
  }

  private async save(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    await writeFile(this.file, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600 });
  }

  get masterKey(): string {
    return this.data.masterKey;
  }

  /** The host-wide function key (`default`), accepted by every function-level route. */
  get defaultFunctionKey(): string {
    return this.data.functionKeys.default ?? this.data.masterKey;
  }

  get path(): string {
    return this.file;
  }

  /** The system key for an extension webhook (`durabletask_extension`, `eventgrid_extension`), created on first use. */
  systemKey(name: string): string {
    let key = this.data.systemKeys[name];
    if (!key) {
      key = newKey();
      this.data.systemKeys[name] = key;
      // best effort: a lost write only means a new key next start
      this.save().catch(() => undefined);
    }
    return key;
  }

  /** True when `key` grants access at `level`: function keys for `function`, the master key for everything. */
  authorizes(level: AuthLevel, key: string | undefined): boolean {
    if (level === 'anonymous') return true;
    if (!key) return false;
    if (key === this.data.masterKey) return true;
    if (level === 'admin') return false;
    return Object.values(this.data.functionKeys).includes(key);
  }
}
