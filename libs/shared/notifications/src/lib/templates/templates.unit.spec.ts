import { type ChannelKind } from '../notification-channel';
import { NotificationError } from '../notification-error';
import { escapeHtml } from './html';
import { renderTemplate, templateCarriesSecret } from './render';
import { TEMPLATE_IDS, type TemplateId, type TemplateVariables } from './templates';

const CHANNELS: readonly ChannelKind[] = ['email', 'sms', 'webhook'];
const CANCEL_URL = 'https://tessera.example/recovery/cancel#token=v1.k1.eyJwIjoicmVjb3ZlcnktY2FuY2VsIn0.abc_DEF-123';

/** Valid variables for every template; the first test fails if a template is added without a sample. */
const SAMPLES: { readonly [T in TemplateId]: TemplateVariables<T> } = {
  'one-time-code': { code: '493817', expiresInMinutes: 5 },
  'factor-bound': { factorKind: 'webauthn', factorName: 'YubiKey 5C', occurredAt: '2026-03-01T09:00:00Z' },
  'factor-removed': { factorKind: 'totp', occurredAt: new Date('2026-03-01T09:00:00Z') },
  'recovery-requested': { requestedAt: '2026-03-01T09:00:00.000Z', cancelUrl: CANCEL_URL },
  'recovery-cooling-off-started': { endsAt: '2026-03-02T09:00:00Z', cancelUrl: CANCEL_URL },
  'recovery-reminder': { endsAt: '2026-03-02T09:00:00Z', cancelUrl: CANCEL_URL },
  'recovery-completed': { completedAt: '2026-03-09T09:00:00Z' },
  'recovery-cancelled': { cancelledAt: '2026-03-01T10:00:00Z' },
  'recovery-pass-issued': { issuedAt: '2026-03-08T09:00:00Z', cancelUrl: CANCEL_URL },
  'recovery-factors-revoked': { revokedAt: '2026-03-08T10:00:00Z', cancelUrl: CANCEL_URL },
  'recovery-rejected': { rejectedAt: '2026-03-01T11:00:00Z' },
  'recovery-expired': { expiredAt: '2026-03-15T09:00:00Z' },
  'authenticator-restored': { restoredAt: '2026-03-01T09:00:00Z' },
  'device-reported-lost': { reason: 'stolen', reportedAt: '2026-03-01T09:00:00Z' },
  'device-revoked': { reason: 'incident', revokedAt: '2026-03-01T09:00:00Z' },
  'account-unfrozen': { unfrozenAt: '2026-03-02T09:00:00Z' },
  'staff-reminder': { reminder: 'approval-pending', reference: 'rec-42', subjectUserId: 'user-7', raisedAt: '2026-03-01T09:00:00Z' },
  'throttle-engaged': { level: 'delayed', occurredAt: '2026-03-01T09:00:00Z' },
  'account-frozen': { frozenAt: '2026-03-01T09:00:00Z' },
  'on-call-page': { reason: 'incident', reference: 'inc-42', subjectUserId: 'user-7', summary: 'Compromise suspected: account frozen', raisedAt: '2026-03-01T09:00:00Z' },
};

/** GSM 03.38 default alphabet, the characters an SMS can carry without falling back to UCS-2. */
const GSM_BASIC = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà]*$/;

function failure(run: () => unknown): NotificationError {
  try {
    run();
  } catch (error) {
    if (error instanceof NotificationError) return error;
    throw error;
  }
  throw new Error('rendered without error');
}

describe('notification templates', () => {
  it('has a sample for every template, and only for templates that exist', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...TEMPLATE_IDS].sort());
  });

  describe.each(TEMPLATE_IDS)('%s', (templateId) => {
    it.each(CHANNELS)('renders for %s', (channel) => {
      const rendered = renderTemplate(templateId, SAMPLES[templateId], channel);
      expect(rendered.channel).toBe(channel);
      expect(rendered.text.length).toBeGreaterThan(20);
      if (rendered.channel !== 'sms') expect(rendered.subject.length).toBeGreaterThan(5);
      if (rendered.channel === 'email') {
        expect(rendered.html).toMatch(/^<!doctype html>/);
        expect(rendered.html).toContain('</html>');
      }
    });

    it('writes its SMS in the GSM 03.38 default alphabet (one other character shrinks a segment to 70)', () => {
      const rendered = renderTemplate(templateId, SAMPLES[templateId], 'sms');
      expect(rendered.text).toMatch(GSM_BASIC);
    });

    it('refuses an unexpected variable (strict schemas: nothing rides along unseen)', () => {
      const error = failure(() => renderTemplate(templateId, { ...SAMPLES[templateId], note: 'extra' }, 'email'));
      expect(error.code).toBe('misconfigured');
      expect(error.message).toContain('unexpected note');
    });
  });

  it.each([
    ['totp', 'An authenticator app was added', 'Tessera: an authenticator app was added'],
    ['webauthn', 'A security key or passkey', 'Tessera: a security key or passkey was added'],
    ['email_otp', 'An email address for sign-in codes', 'Tessera: an email address for sign-in codes was added'],
  ] as const)('names a %s factor with its own article', (factorKind, email, sms) => {
    const variables = { factorKind, occurredAt: '2026-03-01T09:00:00Z' };
    expect(renderTemplate('factor-bound', variables, 'email').text).toContain(email);
    expect(renderTemplate('factor-bound', variables, 'sms').text).toContain(sms);
  });

  describe('escaping', () => {
    const hostile = `<script>alert("x")</script> & 'y'`;

    it('escapes a user-chosen name in the HTML part and keeps it as text in the plain part', () => {
      const rendered = renderTemplate('factor-bound', { ...SAMPLES['factor-bound'], factorName: hostile }, 'email');
      if (rendered.channel !== 'email') throw new Error('expected email');
      expect(rendered.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;');
      expect(rendered.html).not.toContain('<script>');
      expect(rendered.text).toContain(hostile);
    });

    it('escapes the link inside its href attribute', () => {
      const url = `https://tessera.example/cancel?a=1&b="2"#token=v1.k.p.m`;
      const rendered = renderTemplate('recovery-cooling-off-started', { endsAt: '2026-03-02T09:00:00Z', cancelUrl: url }, 'email');
      if (rendered.channel !== 'email') throw new Error('expected email');
      expect(rendered.html).toContain('href="https://tessera.example/cancel?a=1&amp;b=&quot;2&quot;#token=v1.k.p.m"');
    });

    it('escapeHtml encodes the five characters that matter in element content and quoted attributes', () => {
      expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
      expect(escapeHtml('plain text 123')).toBe('plain text 123');
    });

    it('refuses names with control characters or bidirectional overrides (they can disguise one name as another)', () => {
      for (const factorName of ['Key\nBcc: x', 'Key\u202Eevil', '', ' '.repeat(3), 'x'.repeat(65)]) {
        expect(failure(() => renderTemplate('factor-bound', { ...SAMPLES['factor-bound'], factorName }, 'email')).message).toContain('factorName: invalid');
      }
    });

    it('refuses a cancel link that is not https (javascript:, plain http to a real host)', () => {
      for (const cancelUrl of ['javascript:alert(1)', 'http://tessera.example/cancel', 'not a url']) {
        expect(failure(() => renderTemplate('recovery-reminder', { endsAt: '2026-03-02T09:00:00Z', cancelUrl }, 'email')).message).toContain('cancelUrl: invalid');
      }
    });
  });

  describe('validation', () => {
    it('refuses an unknown template, not retryable', () => {
      const error = failure(() => renderTemplate('password-reset' as TemplateId, {}, 'email'));
      expect(error).toMatchObject({ code: 'misconfigured', retryable: false });
      expect(error.message).toBe('unknown notification template');
    });

    it('names a missing variable by path', () => {
      const error = failure(() => renderTemplate('one-time-code', { expiresInMinutes: 5 } as never, 'sms'));
      expect(error).toMatchObject({ code: 'misconfigured', retryable: false, channel: 'sms' });
      expect(error.message).toBe('template one-time-code: code: missing');
    });

    it('refuses variables that are not an object', () => {
      expect(failure(() => renderTemplate('account-frozen', undefined as never, 'email')).message).toContain('(variables): missing');
      expect(failure(() => renderTemplate('account-frozen', null as never, 'email')).message).toContain('(variables): invalid');
      expect(failure(() => renderTemplate('account-frozen', 'x' as never, 'email')).message).toContain('(variables): invalid');
    });

    it('S30: names an invalid variable without quoting its value (it may be a code)', () => {
      const error = failure(() => renderTemplate('one-time-code', { code: '81234', expiresInMinutes: 5 }, 'email'));
      expect(error.message).toBe('template one-time-code: code: invalid');
      expect(JSON.stringify(error)).not.toContain('81234');
    });

    it('accepts instants as Dates or ISO strings with an offset, and renders both in UTC', () => {
      const fromDate = renderTemplate('account-frozen', { frozenAt: new Date('2026-03-01T09:00:00Z') }, 'sms');
      const fromString = renderTemplate('account-frozen', { frozenAt: '2026-03-01T10:00:00+01:00' }, 'sms');
      expect(fromDate.text).toContain('2026-03-01 09:00 UTC');
      expect(fromString.text).toBe(fromDate.text);
      expect(failure(() => renderTemplate('account-frozen', { frozenAt: '1 March 2026' }, 'sms')).message).toContain('frozenAt: invalid');
    });
  });

  describe('one-time codes (S7)', () => {
    it('puts the code in the body only, never in the subject that lock screens show', () => {
      for (const purpose of ['sign-in', 'confirm-address', 'recovery'] as const) {
        const rendered = renderTemplate('one-time-code', { code: '493817', expiresInMinutes: 10, purpose }, 'email');
        if (rendered.channel !== 'email') throw new Error('expected email');
        expect(rendered.subject).not.toContain('493817');
        expect(rendered.text).toContain('493817');
        expect(rendered.html).toContain('493817');
        expect(rendered.text).toContain('10 minutes');
      }
    });

    it('S7: an SMS code may live at most 10 minutes (NIST SP 800-63B-4 §3.1.3)', () => {
      expect(renderTemplate('one-time-code', { code: '493817', expiresInMinutes: 10 }, 'sms').text).toContain('493817');
      const error = failure(() => renderTemplate('one-time-code', { code: '493817', expiresInMinutes: 11 }, 'sms'));
      expect(error).toMatchObject({ code: 'misconfigured', retryable: false });
      expect(error.message).toContain('at most 10 minutes');
    });

    it('S7: an email code may live up to 24 hours (recovery addresses), not longer', () => {
      expect(renderTemplate('one-time-code', { code: '493817', expiresInMinutes: 24 * 60, purpose: 'recovery' }, 'email').text).toContain('1440 minutes');
      expect(failure(() => renderTemplate('one-time-code', { code: '493817', expiresInMinutes: 24 * 60 + 1 }, 'email')).message).toContain('expiresInMinutes: invalid');
    });

    it('ends the SMS with the origin-bound line when a domain is given (WICG origin-bound one-time codes)', () => {
      const rendered = renderTemplate('one-time-code', { code: '493817', expiresInMinutes: 5, domain: 'login.example.com' }, 'sms');
      expect(rendered.text.split('\n').at(-1)).toBe('@login.example.com #493817');
      expect(renderTemplate('one-time-code', SAMPLES['one-time-code'], 'sms').text).not.toContain('#493817');
    });

    it('accepts 6 to 10 digits and nothing else', () => {
      for (const code of ['12345', '12345678901', '12345a', ' 123456']) {
        expect(failure(() => renderTemplate('one-time-code', { code, expiresInMinutes: 5 }, 'email')).message).toContain('code: invalid');
      }
    });
  });

  it.each(['recovery-requested', 'recovery-cooling-off-started', 'recovery-reminder', 'recovery-pass-issued', 'recovery-factors-revoked'] as const)(
    'S22: %s, sent while a recovery runs, carries the "this wasn\'t me" link on every channel',
    (templateId) => {
      for (const channel of CHANNELS) expect(renderTemplate(templateId, SAMPLES[templateId], channel).text).toContain(CANCEL_URL);
    },
  );

  it('S22: every notice says what happened and when, and what to do if it was not them', () => {
    for (const templateId of TEMPLATE_IDS.filter((id) => id !== 'one-time-code' && id !== 'on-call-page' && id !== 'staff-reminder')) {
      const rendered = renderTemplate(templateId, SAMPLES[templateId], 'email');
      expect(rendered.text).toMatch(/20\d\d-\d\d-\d\d \d\d:\d\d UTC/);
      expect(rendered.text).toMatch(/security team|cancel/i);
    }
  });

  it('S22: a removal says who removed it when it was not the user', () => {
    const byRecovery = renderTemplate('factor-removed', { factorKind: 'totp', occurredAt: '2026-03-01T09:00:00Z', reason: 'recovery' }, 'sms');
    const byUser = renderTemplate('factor-removed', { factorKind: 'totp', occurredAt: '2026-03-01T09:00:00Z', reason: 'user_removed' }, 'sms');
    expect(byRecovery.text).toContain('by a recovery of your account');
    expect(byUser.text).not.toContain(' by ');
    expect(renderTemplate('device-revoked', SAMPLES['device-revoked'], 'email').text).toContain('by your security team');
  });

  it('S29/S30: a pass-issued notice never carries the pass, and refuses one passed as a variable', () => {
    const rendered = renderTemplate('recovery-pass-issued', SAMPLES['recovery-pass-issued'], 'email');
    expect(rendered.text).toContain('It is not in this message');
    expect(failure(() => renderTemplate('recovery-pass-issued', { ...SAMPLES['recovery-pass-issued'], pass: 'TAP-123456' } as never, 'email')).message).toContain('unexpected pass');
  });

  it('staff reminders name the recovery and what it waits for', () => {
    const review = renderTemplate('staff-reminder', { ...SAMPLES['staff-reminder'], reminder: 'post-incident-review-open' }, 'webhook');
    if (review.channel !== 'webhook') throw new Error('expected webhook');
    expect(review.subject).toBe('[Tessera] Recovery rec-42 has a post-incident review still open');
    expect(renderTemplate('staff-reminder', SAMPLES['staff-reminder'], 'sms').text).toContain('is waiting for approvals');
  });

  it('marks exactly the templates with a code or a single-use link as carrying a secret', () => {
    expect(TEMPLATE_IDS.filter((id) => templateCarriesSecret(id)).sort()).toEqual([
      'one-time-code',
      'recovery-cooling-off-started',
      'recovery-factors-revoked',
      'recovery-pass-issued',
      'recovery-reminder',
      'recovery-requested',
    ]);
  });

  it('S9: tells the user when delays begin and when codes lock, with the exits that stay open', () => {
    const delayed = renderTemplate('throttle-engaged', { level: 'delayed', occurredAt: '2026-03-01T09:00:00Z' }, 'email');
    const locked = renderTemplate('throttle-engaged', { level: 'locked', occurredAt: '2026-03-01T09:00:00Z' }, 'email');
    expect(delayed.text).toContain('slowed down');
    expect(locked.text).toContain('security key or passkey');
    expect(locked.text).toContain('start a recovery');
  });
});
