/**
 * Electron main process (package.json "main"). Thin on purpose: it only creates the window and wires
 * IPC to the same backend the web mode uses. The renderer runs sandboxed, context-isolated, without
 * Node, behind a CSP, and can neither navigate away nor open windows.
 */
import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron';
import { parseAppArgs } from '../app/args.js';
import { createBackend, type Backend } from '../app/backend.js';
import { appPaths } from '../app/paths.js';
import { registerIpc } from './ipc.js';
import { APP_ORIGIN, APP_SCHEME_PRIVILEGES, handleAppProtocol } from './protocol.js';

protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);

let backend: Backend | null = null;
let quitting = false;

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: 'VM Studio',
    backgroundColor: '#1e1f22',
    icon: appPaths.icon,
    webPreferences: {
      preload: appPaths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

async function ready(): Promise<void> {
  const args = parseAppArgs(app.isPackaged ? process.argv.slice(1) : process.argv.slice(2));
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  handleAppProtocol(protocol, appPaths.renderer);
  try {
    backend = await createBackend({ dataDir: args.dataDir, mode: 'electron', defaultVm: args.defaultVm });
  } catch (e) {
    dialog.showErrorBox('VM Studio cannot start', (e as Error).message);
    app.exit(1);
    return;
  }
  registerIpc(ipcMain, backend.service, () => BrowserWindow.getAllWindows().map((w) => w.webContents));
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [win] = BrowserWindow.getAllWindows();
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('window-all-closed', () => app.quit());
  // Stop the VMs before exiting: hold the quit until the supervisor is done.
  app.on('before-quit', (event) => {
    if (quitting || !backend) return;
    event.preventDefault();
    quitting = true;
    void backend.close().finally(() => app.exit(0));
  });
  process.on('exit', () => backend?.killSync());
  void app.whenReady().then(ready);
}
