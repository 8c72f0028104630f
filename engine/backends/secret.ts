/**
 * Secrets (crypto/secret_common.c, crypto/secret.c): "secret_common" holds raw data loaded at complete()
 * ("loaded"), optionally base64-encoded (format=base64) and/or AES-256-CBC encrypted with another
 * secret (keyid, iv); "secret" reads it from `data` or `file`. Other subsystems fetch secrets by id.
 */
import { readFileSync } from 'node:fs';
import { createDecipheriv } from 'node:crypto';
import { errorSetg } from '../qapi/error.js';
import { strerror } from '../chardev/strerror.js';
import type { QomObject } from '../qom/object.js';
import {
  QomObject as QomObjectCtor,
  ObjectClass,
  typeRegister,
  objectCheck,
  objectClassDynamicCast,
  objectDynamicCast,
  objectGetObjectsRoot,
  objectGetTypename,
  objectPropertySetBool,
  objectResolvePathComponent,
  TYPE_OBJECT,
} from '../qom/object.js';
import {
  objectClassPropertyAddBool,
  objectClassPropertyAddEnum,
  objectClassPropertyAddStr,
} from '../qom/object-props.js';
import { TYPE_USER_CREATABLE, UserCreatableClass } from '../qom/object-interfaces.js';
import { QCryptoSecretFormat_lookup, type QCryptoSecretFormat } from '../qapi/generated/qapi-types.js';

export const TYPE_QCRYPTO_SECRET_COMMON = 'secret_common';
export const TYPE_QCRYPTO_SECRET = 'secret';

export class QCryptoSecretCommon extends QomObjectCtor {
  rawdata: Uint8Array | null = null;
  format: QCryptoSecretFormat = 'raw';
  keyid: string | null = null;
  iv: string | null = null;
}

export class QCryptoSecretCommonClass extends ObjectClass {
  /** Produce the (possibly encoded/encrypted) secret bytes. */
  loadData?: (secret: QCryptoSecretCommon) => Uint8Array;
}

export class QCryptoSecret extends QCryptoSecretCommon {
  data: string | null = null;
  file: string | null = null;
}

export const QCRYPTO_SECRET_COMMON = (o: QomObject) =>
  objectCheck<QCryptoSecretCommon>(o, TYPE_QCRYPTO_SECRET_COMMON);

/** qbase64_decode(): strict standard base64. */
export function qbase64Decode(input: string): Uint8Array {
  if (input.includes('\0')) throw errorSetg('Base64 data contains embedded NUL characters');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input) || input.length % 4 !== 0)
    throw errorSetg('Base64 data contains invalid characters');
  return new Uint8Array(Buffer.from(input, 'base64'));
}

const latin = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function decrypt(secret: QCryptoSecretCommon, input: Uint8Array): Uint8Array {
  const key = qcryptoSecretLookup(secret.keyid!);
  if (key.length !== 32) throw errorSetg('Key should be 32 bytes in length');
  if (!secret.iv) throw errorSetg('IV is required to decrypt secret');
  const iv = qbase64Decode(secret.iv);
  if (iv.length !== 16) throw errorSetg(`IV should be 16 bytes in length not ${iv.length}`);
  const ciphertext = secret.format === 'base64' ? qbase64Decode(latin(input)) : input;
  if (ciphertext.length % 16 !== 0)
    throw errorSetg('Plaintext length must be a multiple of the cipher block size');
  const d = createDecipheriv('aes-256-cbc', key, iv);
  d.setAutoPadding(false);
  const plain = new Uint8Array(Buffer.concat([d.update(ciphertext), d.final()]));
  if (plain.length) {
    const pad = plain[plain.length - 1]!;
    if (pad > 16 || pad > plain.length)
      throw errorSetg(`Incorrect number of padding bytes (${pad}) found on decrypted data`);
    return plain.subarray(0, plain.length - pad);
  }
  return plain;
}

function setLoaded(secret: QCryptoSecretCommon, value: boolean): void {
  if (!value) {
    if (secret.rawdata) throw errorSetg('Cannot unload secret');
    return;
  }
  const sc = secret.class as QCryptoSecretCommonClass;
  if (!sc.loadData) throw errorSetg(`${objectGetTypename(secret)} provides no 'load_data' method'`);
  let data = sc.loadData(secret);
  if (secret.keyid) data = decrypt(secret, data);
  else if (secret.format === 'base64') data = qbase64Decode(latin(data));
  secret.rawdata = data;
}

typeRegister<QCryptoSecretCommon, QCryptoSecretCommonClass>({
  name: TYPE_QCRYPTO_SECRET_COMMON,
  parent: TYPE_OBJECT,
  abstract: true,
  instance: QCryptoSecretCommon,
  class: QCryptoSecretCommonClass,
  interfaces: [TYPE_USER_CREATABLE],
  classInit(k) {
    objectClassDynamicCast<UserCreatableClass>(k, TYPE_USER_CREATABLE)!.complete = (uc) =>
      objectPropertySetBool(uc, 'loaded', true);
    objectClassPropertyAddBool<QCryptoSecretCommon>(k, 'loaded', (s) => s.rawdata !== null, setLoaded);
    objectClassPropertyAddEnum<QCryptoSecretCommon>(
      k,
      'format',
      'QCryptoSecretFormat',
      QCryptoSecretFormat_lookup,
      (s) => s.format,
      (s, v) => {
        s.format = v as QCryptoSecretFormat;
      },
    );
    objectClassPropertyAddStr<QCryptoSecretCommon>(
      k,
      'keyid',
      (s) => s.keyid ?? '',
      (s, v) => {
        s.keyid = v;
      },
    );
    objectClassPropertyAddStr<QCryptoSecretCommon>(
      k,
      'iv',
      (s) => s.iv ?? '',
      (s, v) => {
        s.iv = v;
      },
    );
  },
});

typeRegister<QCryptoSecret, QCryptoSecretCommonClass>({
  name: TYPE_QCRYPTO_SECRET,
  parent: TYPE_QCRYPTO_SECRET_COMMON,
  instance: QCryptoSecret,
  classInit(k) {
    k.loadData = (s) => {
      const secret = s as QCryptoSecret;
      if (secret.data !== null && secret.file !== null)
        throw errorSetg("'data' and 'file' are mutually exclusive");
      if (secret.file !== null) {
        try {
          return new Uint8Array(readFileSync(secret.file));
        } catch (e) {
          throw errorSetg(
            `Unable to read ${secret.file}: Failed to open file “${secret.file}”: ${strerror(e)}`,
          );
        }
      }
      if (secret.data !== null) return new Uint8Array(Buffer.from(secret.data, 'utf8'));
      throw errorSetg("Either 'file' or 'data' must be provided");
    };
    objectClassPropertyAddStr<QCryptoSecret>(
      k,
      'data',
      (s) => s.data ?? '',
      (s, v) => {
        s.data = v;
      },
    );
    objectClassPropertyAddStr<QCryptoSecret>(
      k,
      'file',
      (s) => s.file ?? '',
      (s, v) => {
        s.file = v;
      },
    );
  },
});

/** qcrypto_secret_lookup(): the raw bytes of secret `id` under /objects. */
export function qcryptoSecretLookup(id: string): Uint8Array {
  const obj = objectResolvePathComponent(objectGetObjectsRoot(), id);
  if (!obj) throw errorSetg(`No secret with id '${id}'`);
  const secret = objectDynamicCast<QCryptoSecretCommon>(obj, TYPE_QCRYPTO_SECRET_COMMON);
  if (!secret) throw errorSetg(`Object with id '${id}' is not a secret`);
  if (!secret.rawdata) throw errorSetg(`Secret with id '${id}' has no data`);
  return secret.rawdata;
}

/** qcrypto_secret_lookup_as_utf8(). */
export function qcryptoSecretLookupAsUtf8(id: string): string {
  const data = qcryptoSecretLookup(id);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw errorSetg(`Data from secret ${id} is not valid UTF-8`);
  }
}

/** qcrypto_secret_lookup_as_base64(). */
export function qcryptoSecretLookupAsBase64(id: string): string {
  return Buffer.from(qcryptoSecretLookup(id)).toString('base64');
}
