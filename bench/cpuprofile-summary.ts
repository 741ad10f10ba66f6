/**
 * Aggregates a V8 .cpuprofile (node --cpu-prof) by self time per function and
 * per package/area, so a benchmark's profile can be summarised in text.
 *
 *   node --import tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top N] [--window FROM,TO]
 *
 * --window restricts the samples to a span of the monotonic clock in µs (what
 * bench/hop-throughput.ts prints as "profile window" for a hop run), so setup
 * such as pre-producing the inputs does not blur the timed part.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: bench/cpuprofile-summary.ts <file.cpuprofile> [--top N]');
  process.exit(2);
}
const topIndex = rest.indexOf('--top');
const top = topIndex >= 0 ? Number(rest[topIndex + 1]) : 25;
const windowIndex = rest.indexOf('--window');
const [from, to] = (windowIndex >= 0 ? (rest[windowIndex + 1] ?? '') : '').split(',').map(Number);

const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
let t = profile.startTime;
let totalUs = 0;
let samples = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  t += delta;
  if (from !== undefined && to !== undefined && (t < from || t > to)) return;
  selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  totalUs += delta;
  samples += 1;
});

/** Where a function lives: a package, our libs, node internals or V8 pseudo-frames. */
function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native/V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node:internal';
  const lib = /\/(libs\/[^/]+|bench|test)\//.exec(url);
  return lib?.[1] ?? url;
}

const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules|work\/main)\//, '');
  const key = `${functionName || '(anonymous)'}  ${file ? `${file}:${lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const a = area(url, functionName);
  byArea.set(a, (byArea.get(a) ?? 0) + us);
}

const pct = (us: number) => ((100 * us) / totalUs).toFixed(1).padStart(5);
const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
console.log(
  `profile ${file}: ${(totalUs / 1e6).toFixed(2)} s wall${from !== undefined && to !== undefined ? ` (window ${from}..${to})` : ''}, ${samples} samples`,
);
console.log('\nself time by area');
for (const [a, us] of [...byArea].sort((x, y) => y[1] - x[1]).slice(0, 15))
  console.log(`${ms(us)} ms ${pct(us)} %  ${a}`);
console.log(`\ntop ${top} functions by self time`);
for (const [f, us] of [...byFunction].sort((x, y) => y[1] - x[1]).slice(0, top))
  console.log(`${ms(us)} ms ${pct(us)} %  ${f}`);
