/**
 * Minimal HTML building for the email templates: every interpolated value is escaped unless it is
 * markup this module produced itself. A factor name such as `<img src=x onerror=…>` arrives in a
 * notification as text, never as markup (OWASP XSS Prevention Cheat Sheet, rule #1: encode for the
 * HTML body; the same five characters cover double- and single-quoted attribute values).
 */
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

/** Markup that is safe to embed. Only `html` creates one, so a caller cannot forge it. */
export interface SafeHtml {
  readonly markup: string;
}

const trusted = new WeakSet<SafeHtml>();

function trust(markup: string): SafeHtml {
  const value = Object.freeze({ markup });
  trusted.add(value);
  return value;
}

export type HtmlValue = string | number | SafeHtml | readonly SafeHtml[];

/** A tagged template: `html\`<p>${text}</p>\`` escapes `text`; nested `html` results are kept as is. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let markup = strings[0];
  values.forEach((value, index) => {
    markup += render(value) + strings[index + 1];
  });
  return trust(markup);
}

function render(value: HtmlValue): string {
  if (Array.isArray(value)) return value.map((item) => render(item)).join('');
  if (typeof value === 'object' && value !== null && trusted.has(value as SafeHtml)) return (value as SafeHtml).markup;
  return escapeHtml(String(value));
}
