/**
 * One local Cirrus per test file, with the clients most tests need. `useCirrus()` registers
 * the beforeAll/afterAll hooks; `cirrus` and `admin` are live bindings set by them (each
 * test file has its own module instance, so files never share a runtime).
 */
import { afterAll, beforeAll } from 'vitest';
import type { LocalCirrus, LocalOptions } from '../../local/runtime';
import { Admin, Device, startCirrus, type HttpResult } from './cirrus';

export let cirrus: LocalCirrus;
export let admin: Admin;
const devices: Device[] = [];
const tokens = new Map<string, string>();
let httpPlatform = 5;

/** Starts the runtime before the file's tests and stops it (and every device) after. */
export function useCirrus(options: Partial<LocalOptions> = {}, settings: { httpPlatform?: number } = {}): void {
  httpPlatform = settings.httpPlatform ?? 5;
  beforeAll(async () => {
    cirrus = await startCirrus(options);
    admin = new Admin(cirrus.apiUrl, cirrus.adminSecret);
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await cirrus?.stop();
  });
}

/** A user token for (user, platform), issued once per file. */
export async function token(userId: string, platformId = httpPlatform): Promise<string> {
  const key = `${userId}/${platformId}`;
  if (!tokens.has(key)) tokens.set(key, await admin.userToken(userId, platformId));
  return tokens.get(key)!;
}

/** A connected device of the user (closed after the file's tests). */
export async function device(userId: string, platformId = 5): Promise<Device> {
  const d = await Device.connect(cirrus.wsUrl, await token(userId, platformId));
  devices.push(d);
  return d;
}

/** Calls the HTTP API with the user's own token, or with an admin token for `@admin`. */
export async function as<T = any>(userId: string, method: string, path: string, body?: unknown): Promise<HttpResult<T>> {
  return admin.call<T>(method, path, body, userId === '@admin' ? undefined : await token(userId));
}

/** A text message body for sendMsg. */
export const text = (t: string) => ({ contentType: 101, content: { text: t } });
