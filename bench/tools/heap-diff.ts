/**
 * Compares two V8 heap snapshots (e.g. a fan-out server before and after N subscribers, written
 * by `npm run bench -- ws --heap-snapshots`) and prints which kinds of objects grew, by count and
 * by shallow size, optionally divided by N:
 *
 *   node --import tsx bench/tools/heap-diff.ts before.heapsnapshot after.heapsnapshot [N]
 *   node --import tsx bench/tools/heap-diff.ts --retainers 'object ServerResponse' after.heapsnapshot
 *   node --import tsx bench/tools/heap-diff.ts --closures request after.heapsnapshot
 *
 * The second form lists what holds objects of one kind (retainer kind and edge name), to find
 * out why a per-connection object stays alive. The third lists the closures whose scope holds a
 * variable of that name (function name, script id:line:column, scope variables): the usual way a
 * per-request object outlives its request.
 *
 * A kind is the node type plus its name (the constructor for objects, e.g. `object WebSocket`,
 * `closure onMessage`), which is usually enough to tell what each connection keeps alive.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
      location_fields?: string[];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
  /** [node offset ÷ node field count… see location_fields] when V8 recorded them */
  locations?: number[];
}

interface Kind {
  count: number;
  bytes: number;
}

/** The kind of the node at `offset` of `data.nodes`. */
function kindAt(data: Snapshot, offset: number): string {
  const fields = data.snapshot.meta.node_fields;
  const type =
    data.snapshot.meta.node_types[0][data.nodes[offset + fields.indexOf('type')]!] ?? '?';
  // Strings are grouped as one kind: their text is not the point.
  const name =
    type === 'string' || type === 'concatenated string' || type === 'sliced string'
      ? ''
      : (data.strings[data.nodes[offset + fields.indexOf('name')]!] ?? '?').slice(0, 60);
  return `${type} ${name}`.trim();
}

function load(path: string): Snapshot {
  return JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
}

function kinds(path: string): Map<string, Kind> {
  const data = load(path);
  const fields = data.snapshot.meta.node_fields;
  const stride = fields.length;
  const sizeAt = fields.indexOf('self_size');
  const byKind = new Map<string, Kind>();
  for (let offset = 0; offset < data.nodes.length; offset += stride) {
    const key = kindAt(data, offset);
    const kind = byKind.get(key) ?? { count: 0, bytes: 0 };
    kind.count++;
    kind.bytes += data.nodes[offset + sizeAt]!;
    byKind.set(key, kind);
  }
  return byKind;
}

/** Prints what retains objects of `target` kind: retainer kind and edge name, by count. */
function retainers(path: string, target: string): void {
  const data = load(path);
  const {
    node_fields: fields,
    edge_fields: edgeFields,
    edge_types: edgeTypes,
  } = data.snapshot.meta;
  const stride = fields.length;
  const edgeStride = edgeFields.length;
  const edgeCountAt = fields.indexOf('edge_count');
  const edgeTypeAt = edgeFields.indexOf('type');
  const edgeNameAt = edgeFields.indexOf('name_or_index');
  const toAt = edgeFields.indexOf('to_node');
  const counts = new Map<string, number>();
  let edge = 0;
  for (let offset = 0; offset < data.nodes.length; offset += stride) {
    const edgeCount = data.nodes[offset + edgeCountAt]!;
    for (let i = 0; i < edgeCount; i++, edge += edgeStride) {
      const to = data.edges[edge + toAt]!;
      if (kindAt(data, to) !== target) continue;
      const type = edgeTypes[0][data.edges[edge + edgeTypeAt]!] ?? '?';
      if (type === 'weak') continue;
      const nameOrIndex = data.edges[edge + edgeNameAt]!;
      const name =
        type === 'element' || type === 'hidden' ? `[${nameOrIndex}]` : data.strings[nameOrIndex];
      const key = `${kindAt(data, offset)} --${type}:${name}--> ${target}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  for (const [key, count] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    process.stdout.write(`${String(count).padStart(7)}  ${key}\n`);
  }
}

/** Prints closures whose context holds a variable named `variable`, grouped and counted. */
function closures(path: string, variable: string): void {
  const data = load(path);
  const meta = data.snapshot.meta;
  const stride = meta.node_fields.length;
  const edgeStride = meta.edge_fields.length;
  const typeAt = meta.node_fields.indexOf('type');
  const edgeCountAt = meta.node_fields.indexOf('edge_count');
  const edgeTypeAt = meta.edge_fields.indexOf('type');
  const edgeNameAt = meta.edge_fields.indexOf('name_or_index');
  const toAt = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const firstEdge = new Map<number, number>();
  let edge = 0;
  for (let offset = 0; offset < data.nodes.length; offset += stride) {
    firstEdge.set(offset, edge);
    edge += data.nodes[offset + edgeCountAt]! * edgeStride;
  }
  const edgesOf = function* (offset: number) {
    const first = firstEdge.get(offset)!;
    for (let i = 0; i < data.nodes[offset + edgeCountAt]!; i++) {
      const at = first + i * edgeStride;
      yield {
        type: edgeTypes[data.edges[at + edgeTypeAt]!],
        name: data.strings[data.edges[at + edgeNameAt]!],
        to: data.edges[at + toAt]!,
      };
    }
  };
  const where = new Map<number, string>();
  const locationFields = meta.location_fields?.length ?? 4;
  for (let i = 0; data.locations && i < data.locations.length; i += locationFields) {
    const [node, script, line, column] = data.locations.slice(i, i + 4) as number[];
    where.set(node!, `${script}:${line! + 1}:${column}`);
  }
  const counts = new Map<string, number>();
  for (let offset = 0; offset < data.nodes.length; offset += stride) {
    if (nodeTypes[data.nodes[offset + typeAt]!] !== 'closure') continue;
    for (const { type, name, to } of edgesOf(offset)) {
      if (type !== 'internal' || name !== 'context') continue;
      const names = [...edgesOf(to)].filter((e) => e.type === 'context').map((e) => e.name);
      if (!names.includes(variable)) continue;
      const key = `${kindAt(data, offset)} @${where.get(offset) ?? '?'} scope [${names.join(', ')}]`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  for (const [key, count] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    process.stdout.write(`${String(count).padStart(7)}  ${key.slice(0, 300)}\n`);
  }
}

// `| head` closing the pipe is not an error.
process.stdout.on('error', () => process.exit(0));

const args = process.argv.slice(2);
if (args[0] === '--closures') {
  if (!args[1] || !args[2]) {
    process.stderr.write('usage: heap-diff.ts --closures <variable> file.heapsnapshot\n');
    process.exit(2);
  }
  closures(args[2], args[1]);
  process.exit(0);
}
if (args[0] === '--retainers') {
  if (!args[1] || !args[2]) {
    process.stderr.write(
      "usage: heap-diff.ts --retainers 'object ServerResponse' file.heapsnapshot\n",
    );
    process.exit(2);
  }
  retainers(args[2], args[1]);
  process.exit(0);
}
const [beforePath, afterPath, perText] = args;
if (!beforePath || !afterPath) {
  process.stderr.write('usage: heap-diff.ts before.heapsnapshot after.heapsnapshot [N]\n');
  process.exit(2);
}
const per = Number(perText ?? 1) || 1;
const before = kinds(beforePath);
const after = kinds(afterPath);
const rows = [...after].map(([key, kind]) => {
  const old = before.get(key) ?? { count: 0, bytes: 0 };
  return { key, count: kind.count - old.count, bytes: kind.bytes - old.bytes };
});
rows.sort((a, b) => b.bytes - a.bytes);
const total = rows.reduce((sum, row) => sum + row.bytes, 0);
process.stdout.write(
  `shallow heap growth: ${(total / 1024 / per).toFixed(2)} KiB${per > 1 ? ` per unit (N=${per})` : ''}\n\n`,
);
process.stdout.write(`${'bytes/N'.padStart(9)} ${'count/N'.padStart(8)}  kind\n`);
for (const row of rows.slice(0, 40)) {
  if (row.bytes <= 0) break;
  process.stdout.write(
    `${(row.bytes / per).toFixed(0).padStart(9)} ${(row.count / per).toFixed(2).padStart(8)}  ${row.key}\n`,
  );
}
