/** Registers the hotplug test bridge, bus and device (import for side effects). */
import './test-bridge.js';
import './test-device.js';
