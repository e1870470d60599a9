/**
 * Offline push devices and preferences: the schemas shared by the WebSocket actions
 * (registerPushDevice, unregisterPushDevice, setAppBackground) and the HTTP routes
 * (core/http/routes/devices.ts). Each provider's token is checked further by the service
 * (core/services/devices.ts) against the deployment's providers. Built by calls marked
 * `@__PURE__`, as in schema.ts: a bundle keeps only the schemas its code uses.
 */
import * as z from 'zod/mini';
import { PUSH_PROVIDERS } from '../offline-push/types';

const PlatformIdSchema = /* @__PURE__ */ z.int().check(
  /* @__PURE__ */ z.gte(1),
  /* @__PURE__ */ z.lte(11),
  /* @__PURE__ */ z.describe('1 iOS, 2 Android, 3 Windows, 4 macOS, 5 Web, 6 MiniWeb, 7 Linux, 8 AndroidPad, 9 iPad, 10 Admin, 11 HarmonyOS'),
);

/**
 * A device id is a path segment of the HTTP routes, and API Gateway's HTTP API decodes the
 * path before matching it (a `%2F` becomes a `/`, a `%3F` ends the path): so letters, digits
 * and `.`, `_`, `:`, `-` only, which every installation id (a UUID, an Android id) fits.
 */
export const DeviceId = /* @__PURE__ */ z.string().check(
  /* @__PURE__ */ z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'letters, digits, ".", "_", ":" or "-", 1-64 characters, not starting with a symbol'),
  /* @__PURE__ */ z.describe('Chosen by the app, stable per installation (e.g. a UUID kept in its storage): letters, digits, ".", "_", ":" or "-", 1-64 characters'),
);

export const PushProviderSchema = /* @__PURE__ */ z.enum(PUSH_PROVIDERS).check(/* @__PURE__ */ z.describe('apns (Apple Push Notification service), fcm (Firebase Cloud Messaging) or webpush (a browser push service)'));

/** BCP 47 language tags, as `Intl` accepts them (`en`, `en-US`, `zh-Hans-CN`). */
export function isLanguageTag(tag: string): boolean {
  try {
    return /* @__PURE__ */ Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

/** IANA time zones, as `Intl` knows them (`Europe/Paris`, `America/New_York`, `UTC`). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const WebPushSubscriptionSchema = /* @__PURE__ */ z.strictObject({
    endpoint: /* @__PURE__ */ z.string().check(
      /* @__PURE__ */ z.minLength(1),
      /* @__PURE__ */ z.maxLength(2048),
      /* @__PURE__ */ z.describe("The push service URL: https, on a push service browsers use (the whole subscription at most 2048 bytes as Cirrus keeps it)"),
    ),
    keys: /* @__PURE__ */ z.strictObject({
      p256dh: /* @__PURE__ */ z.string().check(
        /* @__PURE__ */ z.minLength(1),
        /* @__PURE__ */ z.maxLength(128),
        /* @__PURE__ */ z.describe('base64url of the browser\'s P-256 public key (65 bytes)'),
      ),
      auth: /* @__PURE__ */ z.string().check(
        /* @__PURE__ */ z.minLength(1),
        /* @__PURE__ */ z.maxLength(64),
        /* @__PURE__ */ z.describe('base64url of the 16-byte authentication secret'),
      ),
    }),
    expirationTime: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.nullable(/* @__PURE__ */ z.number())).check(/* @__PURE__ */ z.describe('As the browser gives it; not kept')),
  }).check(/* @__PURE__ */ z.describe('A browser push subscription (PushSubscription.toJSON())'));

const DeviceFields = {
  provider: PushProviderSchema,
  token: /* @__PURE__ */ z.union([/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.maxLength(2048)), WebPushSubscriptionSchema]).check(/* @__PURE__ */ z.describe('apns: the device token, 64-200 hex characters; fcm: the registration token; webpush: the subscription {endpoint, keys: {p256dh, auth}} (an object, or its JSON text). ' +
        'A token another user (or another device id) holds moves here: it is removed from them.')),
  platformId: /* @__PURE__ */ PlatformIdSchema.check(/* @__PURE__ */ z.describe('The platform of the device, as in tokens (1 iOS, 2 Android, 5 Web, …)')),
  appId: /* @__PURE__ */ z.string().check(
    /* @__PURE__ */ z.minLength(1),
    /* @__PURE__ */ z.maxLength(256),
    /* @__PURE__ */ z.describe("apns: the app's bundle id, one of the deployment's (GET /push/config); fcm: the Android package or Firebase app id; webpush: the site's origin"),
  ),
  locale: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(
    /* @__PURE__ */ z.minLength(2),
    /* @__PURE__ */ z.maxLength(35),
    /* @__PURE__ */ z.refine(isLanguageTag, 'must be a BCP 47 language tag such as en-US'),
  )).check(/* @__PURE__ */ z.describe('BCP 47 language tag the device shows notifications in')),
  sandbox: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.boolean()).check(/* @__PURE__ */ z.describe('apns only: the token is for the development (sandbox) environment')),
};

/** The HTTP body of PUT /users/{userId}/devices/{deviceId}. */
export const DeviceRegistrationBody = /* @__PURE__ */ z.strictObject(DeviceFields);

export const RegisterPushDeviceRequest = /* @__PURE__ */ z.strictObject({ deviceId: DeviceId, ...DeviceFields }).check(/* @__PURE__ */ z.describe("Register (or refresh) this user's device for offline push: notifications go to it while the user has no foreground connection. " +
      'The device is tied to the session of the connection\'s token: logging out, a force logout, a kick by the multi-login policy or a ban removes it. ' +
      'PUSH_PROVIDER_DISABLED when the provider is off in this deployment. Beyond the per-user cap (GET /push/config, `maxDevices`) the least recently updated device is removed.'));

export const DeviceView = /* @__PURE__ */ z.strictObject({
  deviceId: DeviceId,
  provider: PushProviderSchema,
  platformId: PlatformIdSchema,
  appId: /* @__PURE__ */ z.string(),
  locale: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
  sandbox: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.boolean()),
  tokenHint: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.describe('The token shortened (first and last 6 characters; a Web Push endpoint\'s origin): listings never return a usable token')),
  sessionId: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()).check(/* @__PURE__ */ z.describe('The session that registered it (absent: registered with an admin token)')),
  createdAt: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('ms since the epoch')),
  updatedAt: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('ms since the epoch; the least recently updated device goes first when the cap is reached')),
});

export const RegisterPushDeviceResult = /* @__PURE__ */ z.strictObject({
  device: DeviceView,
  evicted: /* @__PURE__ */ z.array(DeviceId).check(/* @__PURE__ */ z.describe("The user's devices removed to stay within the cap")),
});

export const UnregisterPushDeviceRequest = /* @__PURE__ */ z.strictObject({ deviceId: DeviceId }).check(/* @__PURE__ */ z.describe("Remove one of this user's devices from offline push (removing an unknown device id is not an error)."));
export const UnregisterPushDeviceResult = /* @__PURE__ */ z.strictObject({ removed: /* @__PURE__ */ z.boolean().check(/* @__PURE__ */ z.describe('false: no such device')) });

export const SetAppBackgroundRequest = /* @__PURE__ */ z.strictObject({ background: /* @__PURE__ */ z.boolean().check(/* @__PURE__ */ z.describe('true: the app went to the background; false: it is in the foreground again')) }).check(/* @__PURE__ */ z.describe('Tell the server whether the app on this connection is in the background (OpenIM\'s SetAppBackgroundStatus). A user whose every live connection is in the background (or who has none) gets offline pushes on their registered devices; ' +
      'a new connection starts in the foreground. Send it when the app state changes and again after every reconnect.'));
export const SetAppBackgroundResult = /* @__PURE__ */ z.strictObject({ background: /* @__PURE__ */ z.boolean() });

const HhMm = /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM, 00:00 to 23:59'));

export const QuietHoursSchema = /* @__PURE__ */ z.strictObject({
    start: /* @__PURE__ */ HhMm.check(/* @__PURE__ */ z.describe('Local time quiet hours begin, HH:MM')),
    end: /* @__PURE__ */ HhMm.check(/* @__PURE__ */ z.describe('Local time they end, HH:MM (before start: they run past midnight)')),
    timeZone: /* @__PURE__ */ z.string().check(
      /* @__PURE__ */ z.minLength(1),
      /* @__PURE__ */ z.maxLength(64),
      /* @__PURE__ */ z.refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris'),
      /* @__PURE__ */ z.describe('IANA time zone of start and end'),
    ),
  }).check(
  /* @__PURE__ */ z.refine((q) => q.start !== q.end, { message: 'start and end must differ', path: ['end'] }),
  /* @__PURE__ */ z.describe('No alert or sound between start and end, in the time zone given'),
);

export const PushSettingsSchema = /* @__PURE__ */ z.strictObject({
  quietHours: /* @__PURE__ */ z.nullable(QuietHoursSchema).check(/* @__PURE__ */ z.describe('null: no quiet hours')),
  hidePreview: /* @__PURE__ */ z.boolean().check(/* @__PURE__ */ z.describe('true: notifications never show the message content, only that there is a new message')),
});

export const SetPushSettingsBody = /* @__PURE__ */ z
  .strictObject({
    hidePreview: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.boolean()).check(/* @__PURE__ */ z.describe('absent: unchanged')),
    quietHours: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.nullable(QuietHoursSchema)).check(/* @__PURE__ */ z.describe('null turns quiet hours off; absent: unchanged')),
  });

export const PushConfigSchema = /* @__PURE__ */ z.strictObject({
  providers: /* @__PURE__ */ z.array(PushProviderSchema).check(/* @__PURE__ */ z.describe('The providers devices may be registered with')),
  apns: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.strictObject({ bundleIds: /* @__PURE__ */ z.array(/* @__PURE__ */ z.string()) })).check(/* @__PURE__ */ z.describe('The bundle ids APNs devices may register for')),
  fcm: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.strictObject({ projectId: /* @__PURE__ */ z.string() })).check(/* @__PURE__ */ z.describe('The Firebase project')),
  webpush: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.strictObject({ publicKey: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.describe('The VAPID public key (base64url): pass it as applicationServerKey to PushManager.subscribe()')) })),
  maxDevices: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('Devices per user; registering one more removes the least recently updated')),
});
