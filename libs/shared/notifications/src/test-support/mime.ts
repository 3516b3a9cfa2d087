/**
 * Just enough MIME (RFC 2045/2046) to read what the SMTP adapter sends in integration tests:
 * headers, multipart bodies, and the quoted-printable, base64 and 7bit transfer encodings.
 */
export interface ParsedPart {
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
  readonly parts: readonly ParsedPart[];
}

export function parseMime(raw: string): ParsedPart {
  const normalised = raw.replace(/\r\n/g, '\n');
  const split = normalised.indexOf('\n\n');
  const headerText = split < 0 ? normalised : normalised.slice(0, split);
  const bodyText = split < 0 ? '' : normalised.slice(split + 2);
  const headers = new Map<string, string>();
  for (const line of headerText.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const contentType = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (contentType.toLowerCase().startsWith('multipart/') && boundary) {
    const sections = bodyText.split(`--${boundary}`).slice(1);
    const parts = sections.filter((section) => !section.startsWith('--')).map((section) => parseMime(section.replace(/^\n/, '')));
    return { headers, body: '', parts };
  }
  return { headers, body: decode(bodyText, headers.get('content-transfer-encoding') ?? '7bit'), parts: [] };
}

function decode(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable': {
      const bytes = body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    default:
      return body;
  }
}

/** The first leaf part whose content type starts with `type`. */
export function findPart(part: ParsedPart, type: string): ParsedPart | undefined {
  if (part.parts.length === 0) return (part.headers.get('content-type') ?? 'text/plain').toLowerCase().startsWith(type) ? part : undefined;
  for (const child of part.parts) {
    const found = findPart(child, type);
    if (found) return found;
  }
  return undefined;
}
