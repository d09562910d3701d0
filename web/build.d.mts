/** Types of web/build.mjs (plain JS so `npm run build:web` needs no TypeScript loader). */
export declare const DEFAULT_OUT: string;
export declare const ORT_FILES: readonly string[];
export declare function buildWeb(options?: { outdir?: string; dev?: boolean; log?: (line: string) => void }): Promise<string>;
