/**
 * Module registration (QEMU's type_init/module_call_init): importing this registers every QOM type
 * the engine offers. Add new device, backend and machine modules here.
 */
import '../qom/object.js';
import '../qom/object-interfaces.js';
import '../hw/core/irq.js';
import '../hw/core/hotplug.js';
import '../hw/core/qdev-core.js';
import '../hw/core/sysbus.js';
import '../hw/core/machine.js';
import '../backends/hostmem.js';
import '../backends/hostmem-ram.js';
import '../backends/rng.js';
import '../backends/rng-builtin.js';
import '../backends/rng-random.js';
import '../hw/testdev/test-bridge.js';
import '../hw/testdev/test-device.js';
import '../hw/riscv/riscv_hart.js';
import '../hw/intc/riscv_aclint.js';
import '../hw/intc/sifive_plic.js';
import '../hw/char/serial.js';
import '../hw/misc/sifive_test.js';
import '../hw/rtc/goldfish_rtc.js';
import '../hw/virtio/virtio-bus.js';
import '../hw/virtio/virtio.js';
import '../hw/virtio/virtio-mmio.js';
import '../hw/virtio/virtio-blk.js';
import '../hw/virtio/virtio-rng.js';
import '../hw/scsi/scsi-disk.js';
import '../hw/virtio/virtio-scsi.js';
import '../hw/virtio/virtio-serial.js';
import '../hw/virtio/virtio-serial-console.js';
import '../hw/virtio/virtio-input.js';
import '../hw/virtio/virtio-input-hid.js';
import '../hw/riscv/virt.js';
import '../hw/riscv/spike.js';
