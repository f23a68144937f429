/* SPDX-License-Identifier: Apache-2.0 */
/* Little helpers of the arch state references (conformance/arch/<arch>/
 * state.c): fields read out of register records at any alignment, and the
 * buffer their failure descriptions go to. */
#ifndef CONFORMANCE_STATE_BYTES_H
#define CONFORMANCE_STATE_BYTES_H

#include <stdint.h>
#include <string.h>

static char why[256];

static inline uint64_t u64_at(const unsigned char *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static inline uint32_t u32_at(const unsigned char *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static inline uint16_t u16_at(const unsigned char *b, size_t off)
{
	uint16_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

#endif /* CONFORMANCE_STATE_BYTES_H */
