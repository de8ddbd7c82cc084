/*
 * quarantine.c - freed objects kept out of circulation for a while.
 *
 * Go has no free: the collector reclaims an object once nothing refers to
 * it.  A C program frees its channels, timers and connections itself, and
 * a use shortly after the free - a bug, but a common one - must be a clear
 * error, never a corruption.  So the free marks the object (its magic word
 * says freed) and hands it here, where it waits in a ring of QUARANTINE
 * slots before its memory goes back to malloc: a use while it waits finds
 * the mark and dies with a message naming the kind of object.
 */
#include <stdio.h>
#include <stdlib.h>

#include "runtime2.h"

enum { QUARANTINE = 1024 };

static struct {
	mutex lock;
	void *ring[QUARANTINE];
	size_t next;
} quarantine;

/* quarantine takes p (malloc'ed, already marked freed); the object freed
 * QUARANTINE calls ago goes back to malloc. */
void gort__quarantine(void *p)
{
	gort__lock(&quarantine.lock);
	void *old = quarantine.ring[quarantine.next];
	quarantine.ring[quarantine.next] = p;
	quarantine.next = (quarantine.next + 1) % QUARANTINE;
	gort__unlock(&quarantine.lock);
	free(old);
}

/*
 * badmagic: a handle of kind what (its C type: type) did not carry its
 * live mark.  freed: it carried the freed mark - "use of a <freed> <what>"
 * (freed names how it went: "freed", "released"); else it is no such
 * object at all.  The checks themselves stay inline at each kind (one
 * load and compare on every operation); this is their one way to die.
 */
void gort__badmagic(bool freed, const char *how, const char *what, const char *type)
{
	char msg[160];
	if (freed)
		snprintf(msg, sizeof msg, "gort: use of a %s %s", how, what);
	else
		snprintf(msg, sizeof msg, "gort: not a %s (a corrupted or uninitialized %s pointer)", what,
		         type);
	gort__fatal(msg);
}
