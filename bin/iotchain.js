#!/usr/bin/env node
// Entry point: registers tsx (TypeScript on the fly), then runs the CLI. lib/polyfill.ts is the
// CLI's first import, so the node runs on the machine's Node 20 as well as on Node 22+.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
