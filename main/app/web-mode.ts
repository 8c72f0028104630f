/** Running the app as a local web server (no Electron, or `--web`). */
import { startWebServer, type WebServer } from '../web/server.js';
import type { AppArgs } from './args.js';
import { createBackend, type Backend, type BackendOptions } from './backend.js';
import { appPaths } from './paths.js';

export interface WebApp {
  server: WebServer;
  backend: Backend;
  close(): Promise<void>;
}

export async function startWebApp(
  args: AppArgs,
  overrides: Partial<BackendOptions> & { rendererDir?: string } = {},
): Promise<WebApp> {
  const backend = await createBackend({
    dataDir: args.dataDir,
    mode: 'web',
    defaultVm: args.defaultVm,
    ...overrides,
  });
  let server: WebServer;
  try {
    server = await startWebServer({
      service: backend.service,
      rendererDir: overrides.rendererDir ?? appPaths.renderer,
      port: args.port,
    });
  } catch (e) {
    await backend.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new Error(`vmstudio: could not listen on 127.0.0.1:${args.port}: address already in use`);
    throw e;
  }
  return {
    server,
    backend,
    close: async () => {
      await server.close();
      await backend.close();
    },
  };
}
