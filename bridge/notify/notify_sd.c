/* notify_sd.c: the sd_notify backend (libsystemd). */
#include "notify.h"

#include <systemd/sd-daemon.h>

int tt__notify_backend_send(const char *state)
{
	/* 0: keep NOTIFY_SOCKET in the environment: later states (watchdog, reload) need it */
	return sd_notify(0, state);
}

uint64_t tt__notify_backend_watchdog_usec(void)
{
	uint64_t usec = 0;
	/* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is this process */
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}
