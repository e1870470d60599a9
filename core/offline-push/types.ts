/**
 * Offline push: what Cirrus sends to Apple Push Notification service, Firebase Cloud
 * Messaging and Web Push services when a recipient has no foreground connection. The
 * provider clients (apns.ts, fcm.ts, webpush.ts) turn a `Notification` into each service's
 * request and its answer into a `SendOutcome`; the notify function decides who gets what.
 */

/** The services Cirrus calls directly from Lambda (no SNS; see docs/architecture.md, "Offline push"). */
export const PUSH_PROVIDERS = ['apns', 'fcm', 'webpush'] as const;
export type PushProvider = (typeof PUSH_PROVIDERS)[number];

/** A browser's push subscription (PushSubscription.toJSON() without expirationTime). */
export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** A registered device of a user, as the Devices table keeps it. */
export interface Device {
  userId: string;
  /** Chosen by the app, stable per installation (e.g. a UUID kept in the app's storage). */
  deviceId: string;
  provider: PushProvider;
  /** APNs: the device token (hex); FCM: the registration token; Web Push: the subscription as JSON. */
  token: string;
  /** The platform (1 iOS, 2 Android, 5 Web, …) as in the protocol's PlatformId. */
  platformId: number;
  /** APNs: the bundle id (the apns-topic); FCM: the Android package or Firebase app id; Web Push: the site's origin. */
  appId: string;
  /** BCP 47 language tag the device shows notifications in, e.g. `en-US`. */
  locale?: string;
  /** APNs only: the token is for the development (sandbox) environment. */
  sandbox?: boolean;
  /** The session that registered it: its logout or kick removes the device. */
  sessionId?: string;
  createdAt: number;
  updatedAt: number;
}

/** One notification for one device, independent of the provider. */
export interface Notification {
  /** Shown as the title and body (absent with `silent`, or when loc keys are given instead). */
  title?: string;
  body?: string;
  /** Localisation keys and arguments for system notifications (APNs title-loc-key / loc-key, FCM title_loc_key / body_loc_key). */
  titleLocKey?: string;
  titleLocArgs?: string[];
  bodyLocKey?: string;
  bodyLocArgs?: string[];
  /** A sound name (`default` for the platform's); absent: no sound. */
  sound?: string;
  /** No alert and no sound: only the badge and the data reach the app (APNs content-available, FCM data message). */
  silent: boolean;
  /** The app icon's badge: the user's total unread. */
  badge?: number;
  /** Groups notifications (APNs thread-id, FCM android tag, Web Push tag): the conversation id. */
  threadId: string;
  /** Replaces an earlier notification with the same id (APNs apns-collapse-id ≤ 64 bytes, FCM collapse_key, Web Push Topic). */
  collapseId: string;
  /** What a tap needs: conversationId, seq, serverMsgId, senderId, and the message's push `ex` if any. Strings only (FCM data). */
  data: Record<string, string>;
  /** How long the service may keep it for an unreachable device. */
  ttlSeconds: number;
  priority: 'high' | 'normal';
}

/** A provider's answer, reduced to what Cirrus does next. */
export type SendOutcome =
  /** Accepted by the service. */
  | { kind: 'sent'; id?: string }
  /** The token is invalid, expired or the app is uninstalled: delete the device. */
  | { kind: 'invalid'; reason: string; status: number }
  /** Throttled, unavailable or unreachable: try again later (after `retryAfterMs` when the service said). */
  | { kind: 'retry'; reason: string; status?: number; retryAfterMs?: number }
  /** Refused for a reason another attempt cannot fix (credentials, topic, payload): not retried, the device kept. */
  | { kind: 'failed'; reason: string; status?: number };

export interface ProviderClient {
  send(device: Device, notification: Notification): Promise<SendOutcome>;
}

/**
 * The deployment's provider settings, from the `PUSH_SETTINGS` environment variable (JSON,
 * no secret in it): each secret is named by an SSM SecureString parameter the functions read.
 * Absent providers are off: their devices cannot be registered.
 */
export interface PushSettings {
  /** false: notifications never show message content, only "New message" (default true; a user may hide it for themselves). */
  showPreview?: boolean;
  /** false: an @mention or @all does not break through a group the user receives silently (default true). */
  mentionsBreakThrough?: boolean;
  apns?: {
    /** The .p8 key's id (10 characters) and the team id (10 characters) from the Apple developer account. */
    keyId: string;
    teamId: string;
    /** The app bundle ids tokens may be registered for (each the apns-topic). */
    bundleIds: string[];
    /** SecureString parameter holding the .p8 key's PEM text. */
    keyParameter: string;
  };
  fcm?: {
    projectId: string;
    /** SecureString parameter holding the service account's JSON key file (client_email, private_key). */
    serviceAccountParameter: string;
  };
  webpush?: {
    /** The VAPID public key (base64url, uncompressed P-256 point): browsers subscribe with it as applicationServerKey. */
    publicKey: string;
    /** A mailto: or https: URL where the push service can reach the operator. */
    subject: string;
    /** SecureString parameter holding the VAPID private key (base64url). */
    privateKeyParameter: string;
  };
}

/** The secrets themselves, once read. */
export interface PushCredentials {
  apns?: PushSettings['apns'] & { privateKey: string };
  fcm?: PushSettings['fcm'] & { clientEmail: string; privateKey: string };
  webpush?: PushSettings['webpush'] & { privateKey: string };
}
