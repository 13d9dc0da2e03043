// An event callback signed the way Twilio signs it.
import { createHmac } from 'node:crypto';

import { AUTH_TOKEN } from './callbacks.mjs';

export function signEvent(url, params, token = AUTH_TOKEN) {
  const payload = Object.keys(params).sort().reduce((text, key) => text + key + params[key], url);
  return { body: new URLSearchParams(params).toString(), signature: createHmac('sha1', token).update(payload).digest('base64') };
}
