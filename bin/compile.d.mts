// Types of bin/compile.mjs (plain JavaScript: it runs before any TypeScript loader), for the tests.
export declare const SOURCE_DIRS: string[];
export declare function fingerprint(root: string, files: string[], esbuildVersion: string): string;
export declare function compiledEntry(opts?: { root?: string; dirs?: string[]; entry?: string; log?: (msg: string) => void }): Promise<string>;
