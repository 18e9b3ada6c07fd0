// Worker thread of presignLoad (bench/lib/presign.ts): signs the transactions of senders [from, to).
import { parentPort, workerData } from 'node:worker_threads';
import { presignRange, type LoadSpec } from './presign.js';

const { spec, from, to } = workerData as { spec: LoadSpec; from: number; to: number };
parentPort!.postMessage(presignRange(spec, from, to));
