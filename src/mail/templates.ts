/**
 * Every mail's subject, plain text and HTML in one place, and the operator's way to
 * override them: a folder (GATEKEEPER_MAIL_TEMPLATES_DIR) holding files with the same
 * names, `<template>.subject`, `<template>.txt`, `<template>.html`; a file there wins over the
 * built-in one. `{{name}}` is replaced by a value; in HTML every value is escaped.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const TEMPLATE_NAMES = [
  'password-reset',
  'password-changed',
  'email-verification',
  'email-change-notice',
  'sessions-revoked',
  'new-address-login',
  'mfa-enabled',
  'mfa-disabled',
  'mfa-reset',
  'test',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

interface TemplateText {
  subject: string;
  text: string;
  html: string;
}

/** `{{product}}` is always available; each template names the other values it uses. */
const BUILT_IN: Record<TemplateName, TemplateText> = {
  'password-reset': {
    subject: 'Reset your {{product}} password',
    text: [
      'Hello {{username}},',
      '',
      'Someone (hopefully you) asked to reset the password of your {{product}} account.',
      'Open this link to choose a new password (it works once, for {{minutes}} minutes):',
      '',
      '{{link}}',
      '',
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ].join('\n'),
    html: [
      '<p>Hello {{username}},</p>',
      '<p>Someone (hopefully you) asked to reset the password of your {{product}} account.',
      'Open this link to choose a new password (it works once, for {{minutes}} minutes):</p>',
      '<p><a href="{{link}}">{{link}}</a></p>',
      '<p>If you did not ask for this, ignore this mail: your password stays as it is.</p>',
    ].join('\n'),
  },
  'mfa-enabled': {
    subject: 'Two-factor sign-in is on for your {{product}} account',
    text: [
      'Hello {{username}},',
      '',
      'Two-factor sign-in (an authenticator app) was turned on for your {{product}} account.',
      'Keep your recovery codes somewhere safe. If this was not you, contact your administrator at once.',
    ].join('\n'),
    html: [
      '<p>Hello {{username}},</p>',
      '<p>Two-factor sign-in (an authenticator app) was turned on for your {{product}} account.</p>',
      '<p>Keep your recovery codes somewhere safe. If this was not you, contact your administrator at once.</p>',
    ].join('\n'),
  },
  'mfa-disabled': {
    subject: 'Two-factor sign-in is off for your {{product}} account',
    text: [
      'Hello {{username}},',
      '',
      'Two-factor sign-in was turned off for your {{product}} account: a password alone signs in now.',
      'If this was not you, change your password at once and contact your administrator.',
    ].join('\n'),
    html: [
      '<p>Hello {{username}},</p>',
      '<p>Two-factor sign-in was turned off for your {{product}} account: a password alone signs in now.</p>',
      '<p>If this was not you, change your password at once and contact your administrator.</p>',
    ].join('\n'),
  },
  'mfa-reset': {
    subject: 'An administrator turned off two-factor sign-in for your {{product}} account',
    text: [
      'Hello {{username}},',
      '',
      'An administrator removed the authenticator app from your {{product}} account: a password alone signs in now.',
      'You can set up two-factor sign-in again from your account page. If you did not ask for this, contact your administrator.',
    ].join('\n'),
    html: [
      '<p>Hello {{username}},</p>',
      '<p>An administrator removed the authenticator app from your {{product}} account: a password alone signs in now.</p>',
      '<p>You can set up two-factor sign-in again from your account page. If you did not ask for this, contact your administrator.</p>',
    ].join('\n'),
  },
  'password-changed': {
    subject: 'Your {{product}} password was changed',
    text: [
      'Hello {{username}},',
      '',
      'The password of your {{product}} account was changed, and every session was signed out.',
      'If this was not you, reset your password at once and contact your administrator.',
    ].join('\n'),
    html: [
      '<p>Hello {{username}},</p>',
      '<p>The password of your {{product}} account was changed, and every session was signed out.</p>',
      '<p>If this was not you, reset your password at once and contact your administrator.</p>',
    ].join('\n'),
  },
  'email-verification': {
    subject: 'Confirm your email address for {{product}}',
    text: [
      'Hello {{username}},',
      '',
      'Your confirmation code is {{code}}.',
      'Or open this link (it works once, for {{minutes}} minutes):',
      '',
      '{{link}}',
      '',
      'If you did not ask for this, ignore this mail.',
    ].join('\n'),
    html: [
      '<p>Hello {{username}},</p>',
      '<p>Your confirmation code is <strong>{{code}}</strong>.</p>',
      '<p>Or open this link (it works once, for {{minutes}} minutes):</p>',
      '<p><a href="{{link}}">{{link}}</a></p>',
      '<p>If you did not ask for this, ignore this mail.</p>',
    ].join('\n'),
  },
  'email-change-notice': {
    subject: 'The email address of your {{product}} account is changing',
    text: [
      'Hello {{username}},',
      '',
      'The email address of your {{product}} account is being changed to {{newEmail}}.',
      'If this was not you, reset your password at once and contact your administrator.',
    ].join('\n'),
    html: [
      '<p>Hello {{username}},</p>',
      '<p>The email address of your {{product}} account is being changed to {{newEmail}}.</p>',
      '<p>If this was not you, reset your password at once and contact your administrator.</p>',
    ].join('\n'),
  },
  'sessions-revoked': {
    subject: 'All your {{product}} sessions were signed out',
    text: [
      'Hello {{username}},',
      '',
      'Every session of your {{product}} account was signed out ({{count}} in all); sign in again to continue.',
      'If you did not expect this, change your password and contact your administrator.',
    ].join('\n'),
    html: [
      '<p>Hello {{username}},</p>',
      '<p>Every session of your {{product}} account was signed out ({{count}} in all); sign in again to continue.</p>',
      '<p>If you did not expect this, change your password and contact your administrator.</p>',
    ].join('\n'),
  },
  'new-address-login': {
    subject: 'New sign-in to your {{product}} account',
    text: [
      'Hello {{username}},',
      '',
      'Your {{product}} account was signed in to at {{time}} from an address not seen for it before:',
      '',
      'Address: {{ip}}',
      'Browser or app: {{userAgent}}',
      '',
      'If this was you, nothing needs doing. If not, change your password at once and end that session',
      'in your account page.',
    ].join('\n'),
    html: [
      '<p>Hello {{username}},</p>',
      '<p>Your {{product}} account was signed in to at {{time}} from an address not seen for it before:</p>',
      '<ul><li>Address: {{ip}}</li><li>Browser or app: {{userAgent}}</li></ul>',
      '<p>If this was you, nothing needs doing. If not, change your password at once and end that session',
      'in your account page.</p>',
    ].join('\n'),
  },
  test: {
    subject: '{{product}} test mail',
    text: ['This is a test mail from {{product}} ({{link}}).', '', 'If you can read it, mail delivery works.'].join(
      '\n',
    ),
    html: [
      '<p>This is a test mail from {{product}} (<a href="{{link}}">{{link}}</a>).</p>',
      '<p>If you can read it, mail delivery works.</p>',
    ].join('\n'),
  },
};

/** One rendered mail, ready for a transport. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

function fill(template: string, values: Record<string, string>, escape: (v: string) => string): string {
  return template.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (whole, name: string) => {
    const value = values[name];
    // An unknown name stays visible, so a typo in an operator's template shows in the mail, not as a gap.
    return value === undefined ? whole : escape(value);
  });
}

/** The built-in templates with an operator folder's files laid over them. */
export class MailTemplates {
  readonly #templates: Record<TemplateName, TemplateText>;

  /**
   * Reads the operator folder once, at start, so a missing folder is a start error and not a lost mail.
   * @throws Error naming the folder when it does not exist.
   */
  constructor(
    private readonly productName: string,
    overrideDir: string | null = null,
  ) {
    if (overrideDir !== null && !existsSync(overrideDir)) {
      throw new Error(`GATEKEEPER_MAIL_TEMPLATES_DIR ${JSON.stringify(overrideDir)} does not exist`);
    }
    const read = (file: string, fallback: string): string => {
      if (overrideDir === null) return fallback;
      const full = path.join(overrideDir, file);
      return existsSync(full) ? readFileSync(full, 'utf8').replace(/\r?\n$/, '') : fallback;
    };
    this.#templates = Object.fromEntries(
      TEMPLATE_NAMES.map((name) => {
        const builtIn = BUILT_IN[name];
        const own: TemplateText = {
          subject: read(`${name}.subject`, builtIn.subject),
          text: read(`${name}.txt`, builtIn.text),
          html: read(`${name}.html`, builtIn.html),
        };
        return [name, own];
      }),
    ) as Record<TemplateName, TemplateText>;
  }

  render(name: TemplateName, values: Record<string, string>): RenderedMail {
    const template = this.#templates[name];
    const all = { product: this.productName, ...values };
    const plain = (v: string) => v;
    // A subject is one header line: a value with a newline must not start another header.
    const oneLine = (v: string) => v.replace(/[\r\n]+/g, ' ');
    return {
      subject: oneLine(fill(template.subject, all, oneLine)),
      text: fill(template.text, all, plain),
      html: fill(template.html, all, escapeHtml),
    };
  }
}
