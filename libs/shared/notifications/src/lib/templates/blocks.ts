import { html, type SafeHtml } from './html';

/**
 * A template body is written once as blocks and rendered to plain text and to HTML from the same
 * blocks, so the two parts of an email cannot say different things and escaping happens in one place.
 */
export type Block =
  | string
  | { readonly kind: 'code'; readonly value: string }
  | { readonly kind: 'link'; readonly label: string; readonly url: string };

export const code = (value: string): Block => ({ kind: 'code', value });
export const link = (label: string, url: string): Block => ({ kind: 'link', label, url });

const FOOTER = 'This message is about the security of your account. Nobody from Tessera or your security team will ever ask you for a code or a password.';

export function blocksToText(blocks: readonly Block[]): string {
  const paragraphs = blocks.map((block) => {
    if (typeof block === 'string') return block;
    if (block.kind === 'code') return `    ${block.value}`;
    return `${block.label}\n${block.url}`;
  });
  // `-- ` on its own line is the signature separator mail clients recognise (RFC 3676 §4.3).
  return `${paragraphs.join('\n\n')}\n\n-- \n${FOOTER}\n`;
}

export function blocksToHtml(subject: string, blocks: readonly Block[]): string {
  const body: SafeHtml[] = blocks.map((block) => {
    if (typeof block === 'string') return html`<p>${block}</p>`;
    if (block.kind === 'code') {
      return html`<p style="font-family:monospace;font-size:28px;letter-spacing:4px"><strong>${block.value}</strong></p>`;
    }
    return html`<p><a href="${block.url}" style="font-weight:bold">${block.label}</a></p>`;
  });
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${subject}</title></head>
<body style="font-family:sans-serif;line-height:1.5;color:#1a1a1a;max-width:36em">
${body}
<p style="color:#555;font-size:13px">${FOOTER}</p>
</body>
</html>
`.markup;
}
