/* SPDX-License-Identifier: Apache-2.0 */
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

const struct payload *payload_get(enum payload_id id)
{
	static struct payload payloads[PAYLOAD_COUNT];

	if ((unsigned int)id >= PAYLOAD_COUNT)
		return 0;
	payloads[id] = (struct payload){ blobs[id].name, blobs[id].start,
					 (size_t)(blobs[id].end - blobs[id].start) };
	return &payloads[id];
}
