/* Reading field values straight from a record for the formatters: the kind is
 * classified once at plan time, then each value is one sonde_field_get plus a
 * memcpy. Values are in native byte order (the DataSource's). A missing or
 * short value reads as zero / empty. */
#ifndef SONDE_OUTPUT_VALUE_H
#define SONDE_OUTPUT_VALUE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sonde/datasource.h>

enum vtype {
	V_BOOL,
	V_INT,
	V_UINT,
	V_F32,
	V_F64,
	V_STRING, /* STRING and CSTRING (cut at the first NUL) */
	V_NUMARRAY,
	V_BYTES, /* BYTES, arrays of non-numbers, anything else */
};

struct vinfo {
	uint8_t type; /* enum vtype */
	uint8_t size; /* scalar or element size */
	uint8_t elem; /* numeric arrays: element type (INT, UINT, F32, F64) */
	bool cstring;
};

static inline struct vinfo vinfo_of(enum sonde_kind kind)
{
	struct vinfo v = {V_BYTES, 0, 0, false};
	enum sonde_kind k = SONDE_KIND_ELEM(kind);
	uint8_t t;

	switch (k) {
	case SONDE_KIND_BOOL:
		t = V_BOOL;
		break;
	case SONDE_KIND_INT8:
	case SONDE_KIND_INT16:
	case SONDE_KIND_INT32:
	case SONDE_KIND_INT64:
		t = V_INT;
		break;
	case SONDE_KIND_UINT8:
	case SONDE_KIND_UINT16:
	case SONDE_KIND_UINT32:
	case SONDE_KIND_UINT64:
		t = V_UINT;
		break;
	case SONDE_KIND_FLOAT32:
		t = V_F32;
		break;
	case SONDE_KIND_FLOAT64:
		t = V_F64;
		break;
	case SONDE_KIND_STRING:
	case SONDE_KIND_CSTRING:
		if (SONDE_KIND_IS_ARRAY(kind))
			return v;
		v.type = V_STRING;
		v.cstring = k == SONDE_KIND_CSTRING;
		return v;
	default:
		return v;
	}
	if (SONDE_KIND_IS_ARRAY(kind)) {
		if (t == V_BOOL)
			return v;
		v.type = V_NUMARRAY;
		v.elem = t;
	} else {
		v.type = t;
	}
	v.size = (uint8_t)sonde_kind_size(k);
	return v;
}

static inline int64_t v_int(const void *p, uint32_t len, uint8_t size)
{
	if (!p || len < size)
		return 0;
	switch (size) {
	case 1: {
		int8_t x;
		memcpy(&x, p, 1);
		return x;
	}
	case 2: {
		int16_t x;
		memcpy(&x, p, 2);
		return x;
	}
	case 4: {
		int32_t x;
		memcpy(&x, p, 4);
		return x;
	}
	default: {
		int64_t x;
		memcpy(&x, p, 8);
		return x;
	}
	}
}

static inline uint64_t v_uint(const void *p, uint32_t len, uint8_t size)
{
	if (!p || len < size)
		return 0;
	switch (size) {
	case 1:
		return *(const uint8_t *)p;
	case 2: {
		uint16_t x;
		memcpy(&x, p, 2);
		return x;
	}
	case 4: {
		uint32_t x;
		memcpy(&x, p, 4);
		return x;
	}
	default: {
		uint64_t x;
		memcpy(&x, p, 8);
		return x;
	}
	}
}

static inline double v_float(const void *p, uint32_t len, uint8_t size)
{
	if (!p || len < size)
		return 0;
	if (size == 4) {
		float x;
		memcpy(&x, p, 4);
		return x;
	}
	{
		double x;
		memcpy(&x, p, 8);
		return x;
	}
}

/* Same rule as sonde_field_bool: true iff the first byte is 1. */
static inline bool v_bool(const void *p, uint32_t len)
{
	return p && len >= 1 && *(const uint8_t *)p == 1;
}

/* String view; CStrings stop at the first NUL. */
static inline const char *v_string(const void *p, uint32_t len, bool cstring, uint32_t *out_len)
{
	if (!p) {
		*out_len = 0;
		return "";
	}
	if (cstring) {
		const char *nul = memchr(p, 0, len);

		if (nul)
			len = (uint32_t)(nul - (const char *)p);
	}
	*out_len = len;
	return p;
}

#endif
