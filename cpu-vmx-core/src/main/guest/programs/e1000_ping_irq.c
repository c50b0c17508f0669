/* e1000_ping with interrupts: the receive side sleeps in hlt until the device's INTA# (see e1000_ping.c). */
#define E1000_INTERRUPTS 1
#include "e1000_ping.c"
