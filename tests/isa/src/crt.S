/* Start-up for the C test programs: the shared harness code (HTIF, trap handler, _start). */
#include "common.h"
