import { type ChannelKind } from '../notification-channel';
import { NotificationError } from '../notification-error';
import { blocksToHtml, blocksToText } from './blocks';
import { isTemplateId, TEMPLATES, type TemplateDefinition, type TemplateId } from './templates';

/** A template rendered for one channel. */
export type RenderedMessage =
  | { readonly channel: 'email'; readonly subject: string; readonly text: string; readonly html: string }
  | { readonly channel: 'sms'; readonly text: string }
  | { readonly channel: 'webhook'; readonly subject: string; readonly text: string };

/**
 * Validates `variables` against the template's schema and renders it for `channel`.
 *
 * Every failure is a `NotificationError` `misconfigured` (not retryable: the same input fails the
 * same way). Messages name the template and the offending variable paths, never a value: a
 * variable may be a code (S30).
 */
export function renderTemplate(templateId: TemplateId, variables: unknown, channel: ChannelKind): RenderedMessage {
  if (!isTemplateId(templateId)) {
    throw new NotificationError('misconfigured', 'unknown notification template', false, { channel });
  }
  const definition = TEMPLATES[templateId] as TemplateDefinition;
  const parsed = definition.variables.safeParse(variables);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(variables)';
      if (issue.code === 'unrecognized_keys') return `${path}: unexpected ${issue.keys.join(', ')}`;
      return `${path}: ${valueAt(variables, issue.path) === undefined ? 'missing' : 'invalid'}`;
    });
    throw new NotificationError('misconfigured', `template ${templateId}: ${[...new Set(problems)].join('; ')}`, false, { channel });
  }
  const refusal = definition.refuseOn?.(parsed.data, channel);
  if (refusal) throw new NotificationError('misconfigured', `template ${templateId}: ${refusal}`, false, { channel });

  const content = definition.render(parsed.data);
  switch (channel) {
    case 'email':
      return { channel, subject: content.subject, text: blocksToText(content.blocks), html: blocksToHtml(content.subject, content.blocks) };
    case 'sms':
      return { channel, text: content.sms };
    case 'webhook':
      return { channel, subject: content.subject, text: blocksToText(content.blocks) };
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

export function templateCarriesSecret(templateId: TemplateId): boolean {
  return isTemplateId(templateId) && TEMPLATES[templateId].carriesSecret;
}
