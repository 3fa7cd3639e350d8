/**
 * Summarizes a .cpuprofile written by `npm run bench -- <scenario> --cpu-prof`: the functions
 * with the most self time, the functions with the most total time (self + callees), and the
 * roomcast functions (server/, shared/) among them, as shares of the profiled time.
 *
 *   node --import tsx bench/tools/cpu-profile-summary.ts file.cpuprofile [rows]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [path, rowsText] = process.argv.slice(2);
if (!path) {
  process.stderr.write('usage: cpu-profile-summary.ts file.cpuprofile [rows]\n');
  process.exit(2);
}
const rows = Number(rowsText ?? 25) || 25;
process.stdout.on('error', () => process.exit(0));

const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

/** Time (µs) attributed to each sampled node. */
const selfTime = new Map<number, number>();
profile.samples.forEach((id, index) => {
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
const total = [...selfTime.values()].reduce((sum, value) => sum + value, 0);

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|main)\//, '');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, time] of selfTime) {
  const node = byId.get(id)!;
  self.set(label(node), (self.get(label(node)) ?? 0) + time);
  // Each function on the stack counts the sample once, even when recursive.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = label(byId.get(at)!);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + time);
  }
}

const share = (time: number) => `${((time / total) * 100).toFixed(1).padStart(5)} %`;
process.stdout.write(`profiled ${(total / 1e6).toFixed(2)} s\n\nself time:\n`);
for (const [name, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
  process.stdout.write(`${share(time)}  ${name}\n`);
}
process.stdout.write('\ntotal time (self + callees):\n');
for (const [name, time] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
  process.stdout.write(`${share(time)}  ${name}\n`);
}
process.stdout.write('\ntotal time of roomcast functions (server/, shared/):\n');
for (const [name, time] of [...inclusive]
  .filter(([name]) => / (server|shared)\/src\//.test(name))
  .sort((a, b) => b[1] - a[1])
  .slice(0, rows)) {
  process.stdout.write(`${share(time)}  ${name}\n`);
}
