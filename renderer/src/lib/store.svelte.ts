/**
 * App state shared by the components: the VM list with live states, the selection, guest templates
 * and notifications. Events from main keep it current; a reconnect reloads everything.
 */
import type {
  AppInfo,
  GuestProgress,
  GuestTemplate,
  VmStatsSample,
  VmStudioApi,
  VmSummary,
} from '../../../main/api/contract.js';
import { connectApi, errorMessage } from './api.js';
import type { ConnectionState } from './transport-ws.js';
import type { VmAction } from './vm-actions.js';

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  title: string;
  message: string;
}

const STATS_KEEP = 120;

export class AppStore {
  vms = $state<VmSummary[]>([]);
  selectedId = $state<string | null>(null);
  guests = $state<GuestTemplate[]>([]);
  info = $state<AppInfo | null>(null);
  connection = $state<ConnectionState>('connecting');
  loaded = $state(false);
  busy = $state<Record<string, VmAction | undefined>>({});
  toasts = $state<Toast[]>([]);
  wizardOpen = $state(false);
  /** Live load samples per running VM (oldest first), for the graphs. */
  stats = $state<Record<string, VmStatsSample[]>>({});
  /** A guest being prepared for a VM's first start (building the default guest). */
  guestProgress = $state<Record<string, GuestProgress | undefined>>({});
  readonly api: VmStudioApi;
  private toastId = 1;

  selected = $derived(this.vms.find((v) => v.id === this.selectedId) ?? null);

  constructor() {
    this.api = connectApi((s) => {
      const was = this.connection;
      this.connection = s;
      if (s === 'open' && was !== 'open') void this.refresh();
    });
    this.api.on('vms-changed', () => void this.refresh());
    this.api.on('vm-state', ({ vmId, state, lastError }) => {
      const vm = this.vms.find((v) => v.id === vmId);
      if (vm) {
        vm.state = state;
        vm.lastError = lastError;
        // Main counts changes against the running engine: a stopped or (re)starting VM has none pending.
        if (state !== 'running' && state !== 'paused') vm.pendingRestart = [];
      }
      if (state === 'stopped' || state === 'crashed' || state === 'starting') {
        const { [vmId]: _, ...rest } = this.stats;
        this.stats = rest;
      }
    });
    this.api.on('vm-stats', ({ vmId, sample }) => {
      const list = [...(this.stats[vmId] ?? []), sample];
      this.stats = { ...this.stats, [vmId]: list.length > STATS_KEEP ? list.slice(-STATS_KEEP) : list };
    });
    this.api.on('guest-progress', (p) => {
      this.guestProgress = { ...this.guestProgress, [p.vmId]: p.status === 'done' ? undefined : p };
    });
  }

  async refresh(): Promise<void> {
    try {
      const [vms, guests, info] = await Promise.all([
        this.api.vms.list(),
        this.api.guests.list(),
        this.api.app.info(),
      ]);
      this.vms = vms;
      this.guests = guests;
      for (const vm of vms) {
        if (vm.state !== 'running' && vm.state !== 'paused') continue;
        this.api.stats
          .history(vm.id)
          .then((h) => {
            if (!this.stats[vm.id]?.length) this.stats = { ...this.stats, [vm.id]: h };
          })
          .catch(() => undefined);
      }
      this.info = info;
      if (!this.selectedId || !vms.some((v) => v.id === this.selectedId))
        this.selectedId = vms[0]?.id ?? null;
      this.loaded = true;
    } catch (e) {
      this.notify('error', 'Could not load the VM library', errorMessage(e));
    }
  }

  notify(kind: Toast['kind'], title: string, message: string): void {
    const id = this.toastId++;
    // At most three at once (the oldest goes first), so they never climb over the VM list.
    this.toasts = [...this.toasts, { id, kind, title, message }].slice(-3);
    setTimeout(() => this.dismiss(id), kind === 'error' ? 9000 : 4000);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  /** Run a lifecycle action, marking the VM busy and reporting failures. */
  async act(vm: VmSummary, action: VmAction): Promise<void> {
    this.busy = { ...this.busy, [vm.id]: action };
    try {
      switch (action) {
        case 'start':
          await this.api.vms.start(vm.id);
          break;
        case 'pause':
          await this.api.vms.pause(vm.id);
          break;
        case 'resume':
          await this.api.vms.resume(vm.id);
          break;
        case 'stop':
          await this.api.vms.stop(vm.id, false);
          break;
        case 'forceStop':
          await this.api.vms.stop(vm.id, true);
          break;
        case 'reset':
          await this.api.vms.reset(vm.id);
          break;
        case 'delete':
          await this.api.vms.delete(vm.id);
          break;
        case 'edit':
          break;
      }
    } catch (e) {
      this.notify(
        'error',
        `Could not ${action === 'forceStop' ? 'force stop' : action} '${vm.name}'`,
        errorMessage(e),
      );
    } finally {
      const { [vm.id]: _, ...rest } = this.busy;
      this.busy = rest;
    }
  }
}
