/** Registers every backend object type (import for side effects). */
import './rng.js';
import './rng-builtin.js';
import './rng-random.js';
import './hostmem.js';
import './hostmem-ram.js';
import './secret.js';
