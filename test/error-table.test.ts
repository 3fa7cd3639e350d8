/**
 * The error table (`ERRORS` in shared/src/codes.ts): complete, consistent with the code tables
 * and with docs/protocol.md, and the only place a code is spelled: no bare code strings in
 * server/src or client/src (the client's few are literals typed against `ErrorCode`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloseCode, ERRORS, ErrorCode } from '../shared/src/codes.ts';
import type { ErrorSpec } from '../shared/src/codes.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const specs = ERRORS as Record<string, ErrorSpec>;

test('every error code has an entry, and every entry a status, a close code or a frame', () => {
  assert.deepEqual(Object.keys(ERRORS).sort(), Object.keys(ErrorCode).sort());
  for (const [name, code] of Object.entries(ErrorCode)) assert.equal(name, code);
  const closes = new Set<number>(Object.values(CloseCode));
  for (const [code, spec] of Object.entries(specs)) {
    assert.ok(spec.status || spec.close || spec.frame, `${code} travels nowhere`);
    if (spec.status) assert.ok(spec.status >= 400 && spec.status < 600, `${code}: ${spec.status}`);
    if (spec.close)
      assert.ok(closes.has(spec.close), `${code}: close ${spec.close} is no CloseCode`);
  }
});

test('docs/protocol.md lists every code with the status and close code of the table', () => {
  const text = readFileSync(join(root, 'docs/protocol.md'), 'utf8');
  const section = text.slice(text.indexOf('## Error codes'));
  const rows = [...section.matchAll(/^\| `([A-Z_]+)`\s+\| ([^|]+)\| ([^|]+)\|/gm)];
  const documented = new Map(rows.map(([, code, http, ws]) => [code!, [http!.trim(), ws!.trim()]]));
  assert.deepEqual([...documented.keys()].sort(), Object.keys(ErrorCode).sort());
  for (const [code, spec] of Object.entries(specs)) {
    const [http, ws] = documented.get(code)!;
    assert.equal(http, spec.status ? String(spec.status) : '—', `${code}: HTTP column`);
    const expected = [spec.frame ? 'frame' : '', spec.close ? `close ${spec.close}` : '']
      .filter(Boolean)
      .join(', ');
    assert.equal(ws, expected || '—', `${code}: WebSocket column`);
  }
});

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

test('no bare error-code strings in server/src or client/src', () => {
  const names = Object.keys(ErrorCode).join('|');
  const bare = new RegExp(`(['"])(${names})\\1`, 'g');
  // What may spell one: a literal typed against the table (`X: typeof ErrorCode.X = 'X'`), and
  // the client's close-code names (`4001: 'TOKEN_EXPIRED'`: a `CloseCode` key, typed as one).
  const typed = new RegExp(`: typeof ErrorCode\\.(${names}) = '\\1'`);
  const closeName = /^\s*\d{4}: '[A-Z_]+',$/;
  const found: string[] = [];
  for (const file of [...sources('server/src'), ...sources('client/src')]) {
    readFileSync(join(root, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (typed.test(line) || closeName.test(line)) return;
        for (const match of line.matchAll(bare)) found.push(`${file}:${i + 1}: ${match[0]}`);
      });
  }
  assert.deepEqual(found, []);
});
