/**
 * qemu_irq (hw/core/irq.c): an "irq" QOM object carrying a handler; devices expose them as GPIO
 * inputs ("unnamed-gpio-in[N]" children) and wire outputs to them through link<irq> properties.
 */
import { QomObject, typeRegister, objectNew, TYPE_OBJECT } from '../../qom/object.js';

export const TYPE_IRQ = 'irq';

export type IrqHandler = (opaque: unknown, n: number, level: number) => void;

export class IRQState extends QomObject {
  handler: IrqHandler | null = null;
  opaque: unknown = null;
  n = 0;
}

typeRegister({ name: TYPE_IRQ, parent: TYPE_OBJECT, instance: IRQState });

export function qemuSetIrq(irq: IRQState | null, level: number): void {
  if (!irq?.handler) return;
  irq.handler(irq.opaque, irq.n, level);
}

export const qemuIrqRaise = (irq: IRQState | null) => qemuSetIrq(irq, 1);
export const qemuIrqLower = (irq: IRQState | null) => qemuSetIrq(irq, 0);
export const qemuIrqPulse = (irq: IRQState | null) => {
  qemuSetIrq(irq, 1);
  qemuSetIrq(irq, 0);
};

export function qemuAllocateIrq(handler: IrqHandler | null, opaque: unknown, n: number): IRQState {
  const irq = objectNew<IRQState>(TYPE_IRQ);
  irq.handler = handler;
  irq.opaque = opaque;
  irq.n = n;
  return irq;
}

export function qemuAllocateIrqs(
  handler: IrqHandler | null,
  opaque: unknown,
  count: number,
  base = 0,
): IRQState[] {
  return Array.from({ length: count }, (_, i) => qemuAllocateIrq(handler, opaque, base + i));
}
