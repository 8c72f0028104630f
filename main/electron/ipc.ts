/**
 * The API over Electron IPC: one `ipcMain.handle` per method of the fixed list, only for our own
 * renderer (the sender's frame must be on the app:// origin). Replies are envelopes so the renderer
 * gets the QEMU error class, which Electron's own rejection path would flatten into a message.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { ApiEventName } from '../api/contract.js';
import { API_METHODS, IPC_EVENT_CHANNEL, ipcChannel } from '../api/methods.js';
import type { VmService } from '../api/service.js';
import { errorPayload } from '../api/wire.js';
import { APP_ORIGIN } from './protocol.js';

export type IpcReply =
  { ok: true; result: unknown } | { ok: false; error: { errorClass: string; message: string } };

function trusted(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  return url.startsWith(`${APP_ORIGIN}/`);
}

export function registerIpc(ipcMain: IpcMain, service: VmService, targets: () => WebContents[]): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(ipcChannel(method), async (event, ...params: unknown[]): Promise<IpcReply> => {
      if (!trusted(event))
        return { ok: false, error: { errorClass: 'GenericError', message: 'Permission denied' } };
      try {
        return { ok: true, result: (await service.dispatch(method, params)) ?? null };
      } catch (e) {
        return { ok: false, error: errorPayload(e) };
      }
    });
  }
  const unsubscribe = service.subscribe((event: ApiEventName, data) => {
    for (const wc of targets()) if (!wc.isDestroyed()) wc.send(IPC_EVENT_CHANNEL, event, data);
  });
  return () => {
    unsubscribe();
    for (const method of API_METHODS) ipcMain.removeHandler(ipcChannel(method));
  };
}
