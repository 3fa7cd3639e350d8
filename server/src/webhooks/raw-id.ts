/**
 * The webhook id as the sender wrote it. A numeric id is a JavaScript number once parsed, so
 * ids past 2^53 (9007199254740993 and 9007199254740992) or spelled differently (1e3, 1000) would
 * collapse onto one dedup key. The signature covers the parsed value (as the SDK computes it),
 * but dedup takes the id's exact text, read here from the raw body.
 */

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

function skipSpace(text: string, at: number): number {
  while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  return at;
}

/** The index after the string starting at `at` (a `"`). */
function skipString(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

/** The index after the value starting at `at`. */
function skipValue(text: string, at: number): number {
  const first = text[at];
  if (first === '"') return skipString(text, at);
  if (first !== '{' && first !== '[') {
    let i = at;
    while (i < text.length && !',}] \t\n\r'.includes(text[i]!)) i++;
    return i;
  }
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const char = text[i];
    if (char === '"') i = skipString(text, i) - 1;
    else if (char === '{' || char === '[') depth++;
    else if ((char === '}' || char === ']') && --depth === 0) return i + 1;
  }
  return text.length;
}

/**
 * The text of the top-level `id` member when its value is a number literal (the last such
 * member, as JSON.parse keeps the last), else undefined. `json` must be valid JSON.
 */
export function rawNumericId(json: string): string | undefined {
  let at = skipSpace(json, 0);
  if (json[at] !== '{') return undefined;
  let found: string | undefined;
  at = skipSpace(json, at + 1);
  while (at < json.length && json[at] === '"') {
    const keyEnd = skipString(json, at);
    const rawKey = json.slice(at + 1, keyEnd - 1);
    const key = rawKey.includes('\\') ? (JSON.parse(json.slice(at, keyEnd)) as string) : rawKey;
    at = skipSpace(json, skipSpace(json, keyEnd) + 1); // past the colon
    if (key === 'id') {
      NUMBER.lastIndex = at;
      const match = NUMBER.exec(json);
      found = match ? match[0] : undefined;
    }
    at = skipSpace(json, skipValue(json, at));
    if (json[at] !== ',') break;
    at = skipSpace(json, at + 1);
  }
  return found;
}
