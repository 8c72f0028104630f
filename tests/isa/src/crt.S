/* Start-up for the C test programs: the shared harness code (console, exit, trap handler, _start). */
#include "common.h"
