/** The guest's name and UUID (-name, -uuid), as query-name and query-uuid report them. */
export interface GuestIdentity {
  name?: string;
  uuid?: string;
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
let identity: GuestIdentity = {};

export function setGuestIdentity(id: GuestIdentity): void {
  identity = { ...id };
}

export function qmpQueryName(): { name?: string } {
  return identity.name === undefined ? {} : { name: identity.name };
}

export function qmpQueryUuid(): { UUID: string } {
  return { UUID: identity.uuid ?? NIL_UUID };
}
