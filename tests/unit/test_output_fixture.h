/* Shared helpers of the output tests: a synthetic DataSource covering every
 * kind, and rendering into memory. Included by test_output_*.c only. */
#ifndef TEST_OUTPUT_FIXTURE_H
#define TEST_OUTPUT_FIXTURE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sonde/sonde.h>

#include "output/outbuf.h"
#include "testlib.h"

struct raw_proc {
	uint32_t pid;
	char comm[16];
};

struct raw_event {
	struct raw_proc proc;
	char name[16];
	int8_t i8;
	uint8_t u8;
	int16_t i16;
	uint16_t u16;
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	float f32;
	double f64;
	uint8_t flag;
	int32_t arr[3];
};

enum {
	F_PROC,
	F_PID,
	F_COMM,
	F_NAME,
	F_I8,
	F_U8,
	F_I16,
	F_U16,
	F_I32,
	F_U32,
	F_I64,
	F_U64,
	F_F32,
	F_F64,
	F_FLAG,
	F_ARR,
	F_NSTATIC,
};

struct fixture {
	struct sonde_ds *ds;
	struct sonde_field *st[F_NSTATIC];
	struct sonde_field *str, *secret, *skipme, *gone, *blob;
};

#define MEMBER(n, par, k, field)                                                                             \
	{                                                                                                    \
		n, par, k, offsetof(struct raw_event, field), sizeof(((struct raw_event *)0)->field), 0,     \
		    NULL, NULL                                                                               \
	}

/* Adds to `ds` the raw struct above as static fields, plus a string, a hidden
 * string, a json.skip field, an unreferenced field and a bytes field. */
static inline bool fixture_populate(struct fixture *fx, struct sonde_ds *ds)
{
	static const char *const skip_ann[] = {"json.skip", "true", NULL};
	const struct sonde_static_field members[F_NSTATIC] = {
	    MEMBER("proc", -1, SONDE_KIND_BYTES, proc),
	    {"pid", F_PROC, SONDE_KIND_UINT32, offsetof(struct raw_event, proc.pid), 4, 0, NULL, NULL},
	    {"comm", F_PROC, SONDE_KIND_CSTRING, offsetof(struct raw_event, proc.comm), 16, 0, NULL, NULL},
	    MEMBER("name", -1, SONDE_KIND_CSTRING, name),
	    MEMBER("i8", -1, SONDE_KIND_INT8, i8),
	    MEMBER("u8", -1, SONDE_KIND_UINT8, u8),
	    MEMBER("i16", -1, SONDE_KIND_INT16, i16),
	    MEMBER("u16", -1, SONDE_KIND_UINT16, u16),
	    MEMBER("i32", -1, SONDE_KIND_INT32, i32),
	    MEMBER("u32", -1, SONDE_KIND_UINT32, u32),
	    MEMBER("i64", -1, SONDE_KIND_INT64, i64),
	    MEMBER("u64", -1, SONDE_KIND_UINT64, u64),
	    MEMBER("f32", -1, SONDE_KIND_FLOAT32, f32),
	    MEMBER("f64", -1, SONDE_KIND_FLOAT64, f64),
	    MEMBER("flag", -1, SONDE_KIND_BOOL, flag),
	    {"arr", -1, (enum sonde_kind)(SONDE_KIND_INT32 | SONDE_KIND_ARRAY_OF),
	     offsetof(struct raw_event, arr), sizeof(((struct raw_event *)0)->arr), 0, NULL, NULL},
	};
	struct sonde_field_opts hidden = {.sz = sizeof(hidden), .flags = SONDE_FIELD_HIDDEN};
	struct sonde_field_opts skip = {.sz = sizeof(skip), .annotations = skip_ann};

	memset(fx, 0, sizeof(*fx));
	fx->ds = ds;
	if (!fx->ds)
		return false;
	if (sonde_ds_add_static_fields(fx->ds, sizeof(struct raw_event), members, F_NSTATIC, fx->st))
		return false;
	fx->str = sonde_ds_add_field(fx->ds, "str", SONDE_KIND_STRING, NULL);
	fx->secret = sonde_ds_add_field(fx->ds, "secret", SONDE_KIND_STRING, &hidden);
	fx->skipme = sonde_ds_add_field(fx->ds, "skipme", SONDE_KIND_UINT32, &skip);
	fx->gone = sonde_ds_add_field(fx->ds, "gone", SONDE_KIND_UINT32, NULL);
	fx->blob = sonde_ds_add_field(fx->ds, "blob", SONDE_KIND_BYTES, NULL);
	if (!fx->str || !fx->secret || !fx->skipme || !fx->gone || !fx->blob)
		return false;
	sonde_field_unreference(fx->gone, false);
	return true;
}

/* A standalone DataSource "events" with the fields of fixture_populate. */
static inline bool fixture_init(struct fixture *fx, enum sonde_ds_type type)
{
	return fixture_populate(fx, sonde_ds_new("events", type));
}

static inline void fixture_fini(struct fixture *fx)
{
	sonde_ds_free(fx->ds);
}

/* The default event: extreme values everywhere. */
static inline void fixture_event(struct raw_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->proc.pid = 42;
	strcpy(ev->proc.comm, "bash");
	strcpy(ev->name, "hello");
	ev->i8 = INT8_MIN;
	ev->u8 = UINT8_MAX;
	ev->i16 = INT16_MIN;
	ev->u16 = UINT16_MAX;
	ev->i32 = INT32_MIN;
	ev->u32 = UINT32_MAX;
	ev->i64 = INT64_MIN;
	ev->u64 = UINT64_MAX;
	ev->f32 = 0.1f;
	ev->f64 = 1e21;
	ev->flag = 1;
	ev->arr[0] = 1;
	ev->arr[1] = -2;
	ev->arr[2] = 3;
}

/* Copies the raw event into the record's static block and sets added fields. */
static inline void fixture_fill(struct fixture *fx, struct sonde_record *rec, const struct raw_event *ev,
                                const char *str, uint32_t str_len)
{
	struct sonde_payload *p = &rec->payloads[sonde_field_payload_index(fx->st[F_PROC])];
	static const unsigned char blob[] = {0xde, 0xad, 0xbe, 0xef};

	memcpy(p->data, ev, sizeof(*ev));
	sonde_field_put_string(fx->str, rec, str, str_len);
	sonde_field_put_string(fx->secret, rec, "s3cret", 6);
	sonde_field_put_uint(fx->skipme, rec, 7);
	sonde_field_put_uint(fx->gone, rec, 8);
	sonde_field_set(fx->blob, rec, blob, sizeof(blob));
}

/* Memory output buffer -> NUL-terminated string (reset after). */
static inline const char *ob_text(struct sonde_outbuf *ob)
{
	static char *text;

	free(text);
	text = malloc(ob->len + 1);
	memcpy(text, ob->data, ob->len);
	text[ob->len] = 0;
	outbuf_reset(ob);
	return text;
}

/* Reads everything available from fd (non-blocking after the writer closed). */
static inline char *read_all(int fd)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (cap - n < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[n] = 0;
	return buf;
}

#endif
