/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>

#include "payloads.h"

#define PAYLOAD(id, sym)                                                  \
	extern const unsigned char payload_##sym##_start[];                \
	extern const unsigned char payload_##sym##_end[];
#include "payload-list.h"
#undef PAYLOAD

static const struct {
	const char *name;
	const unsigned char *start, *end;
} blobs[PAYLOAD_COUNT] = {
#define PAYLOAD(id, sym) [id] = { #sym, payload_##sym##_start, payload_##sym##_end },
#include "payload-list.h"
#undef PAYLOAD
};

static struct payload payloads[PAYLOAD_COUNT];
static pthread_once_t payloads_once = PTHREAD_ONCE_INIT;

/* The sizes are link-time differences, not constant expressions: filled
 * once, so threads that load payloads concurrently do not race. */
static void payloads_fill(void)
{
	for (unsigned int id = 0; id < PAYLOAD_COUNT; id++)
		payloads[id] = (struct payload){ blobs[id].name, blobs[id].start,
						 (size_t)(blobs[id].end - blobs[id].start) };
}

const struct payload *payload_get(enum payload_id id)
{
	if ((unsigned int)id >= PAYLOAD_COUNT)
		return 0;
	pthread_once(&payloads_once, payloads_fill);
	return &payloads[id];
}
