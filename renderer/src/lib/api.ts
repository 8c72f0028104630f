/**
 * The one API object the UI uses: Electron's preload bridge when present, otherwise the web mode's
 * WebSocket transport to the server that served this page.
 */
import type { VmStudioApi } from '../../../main/api/contract.js';
import { apiUrl, createWsTransport, type ConnectionState } from './transport-ws.js';

declare global {
  interface Window {
    vmstudio?: VmStudioApi;
  }
}

export function connectApi(onConnection: (state: ConnectionState) => void): VmStudioApi {
  if (window.vmstudio) {
    onConnection('open');
    return window.vmstudio;
  }
  return createWsTransport({ url: apiUrl(window.location), onConnection }).api;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
