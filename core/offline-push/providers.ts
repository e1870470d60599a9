/**
 * The provider clients for a deployment's credentials: one client per provider, made once
 * per credentials object and reused (their HTTP/2 session, provider and access tokens with it).
 */
import { ApnsClient } from './apns';
import { FcmClient } from './fcm';
import type { Device, Notification, ProviderClient, PushCredentials, PushProvider, SendOutcome } from './types';
import { WebPushClient } from './webpush';

/** A client for a provider that is off: every send fails (its devices cannot be registered, so this is a configuration change after the fact). */
const notConfigured = (provider: PushProvider): ProviderClient => ({
  send: async (): Promise<SendOutcome> => ({ kind: 'failed', reason: `${provider} is not configured for this deployment` }),
});

/** A new client for the provider with these credentials. */
export function providerClient(provider: PushProvider, credentials: PushCredentials): ProviderClient {
  switch (provider) {
    case 'apns':
      return credentials.apns ? new ApnsClient(credentials.apns) : notConfigured(provider);
    case 'fcm':
      return credentials.fcm ? new FcmClient(credentials.fcm) : notConfigured(provider);
    case 'webpush':
      return credentials.webpush ? new WebPushClient(credentials.webpush) : notConfigured(provider);
  }
}

export interface Providers {
  client(provider: PushProvider): ProviderClient;
  /** Sends with the device's provider's client. */
  send(device: Device, notification: Notification): Promise<SendOutcome>;
}

const cache = new WeakMap<PushCredentials, Providers>();

/** The clients for these credentials, the same ones for the same credentials object (the notify function keeps it for the container). */
export function createProviders(credentials: PushCredentials): Providers {
  const cached = cache.get(credentials);
  if (cached) return cached;
  const clients = new Map<PushProvider, ProviderClient>();
  const client = (provider: PushProvider) => {
    let c = clients.get(provider);
    if (!c) clients.set(provider, (c = providerClient(provider, credentials)));
    return c;
  };
  const providers: Providers = { client, send: (device, notification) => client(device.provider).send(device, notification) };
  cache.set(credentials, providers);
  return providers;
}
