import { type AaguidCatalog } from '@tessera/device-domain';
import { type DeviceView } from '../registry/device-views.repository';
import { type DeviceResponse } from './devices.schemas';

/** A device as the API shows it: its factors, status and last use, and the model its AAGUID names. */
export function presentDevice(view: DeviceView, catalog: AaguidCatalog): DeviceResponse {
  return {
    deviceId: view.deviceId,
    userId: view.userId,
    kind: view.kind,
    name: view.name,
    status: view.status,
    credentials: view.credentials.map(({ credentialId, factor, boundAt }) => ({ credentialId, factor, boundAt })),
    aaguid: view.aaguid,
    model: catalog.lookup(view.aaguid),
    registeredAt: view.registeredAt,
    lastUsedAt: view.lastUsedAt,
    lossReason: view.lossReason,
    reportedAt: view.reportedAt,
    revocationReason: view.revocationReason,
    revokedAt: view.revokedAt,
  };
}
