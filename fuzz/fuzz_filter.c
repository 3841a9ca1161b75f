/* --filter strings against a DataSource with a field of every kind, then one
 * record evaluated (regexes compiled and run on non-UTF-8 bytes too). */
#include <sonde/datasource.h>

#include "filter/rules.h"
#include "fuzz_input.h"

static struct sonde_ds *make_ds(void)
{
	static const enum sonde_kind kinds[] = {
	    SONDE_KIND_BOOL,   SONDE_KIND_INT8,    SONDE_KIND_INT64,   SONDE_KIND_UINT8,
	    SONDE_KIND_UINT64, SONDE_KIND_FLOAT32, SONDE_KIND_FLOAT64, SONDE_KIND_STRING,
	};
	static const char *const names[] = {"flag", "i8", "i64", "u8", "u64", "f32", "f64", "name"};
	struct sonde_ds *ds = sonde_ds_new("events", SONDE_DS_SINGLE);

	for (size_t i = 0; ds && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		sonde_ds_add_field(ds, names[i], kinds[i], NULL);
	if (ds && sonde_ds_seal(ds)) {
		sonde_ds_free(ds);
		ds = NULL;
	}
	return ds;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct sonde_ds *ds;
	struct filter_rules *rules;
	struct sonde_record *rec;
	char err[512], *spec;

	fuzz_init_once();
	if (!ds && !(ds = make_ds()))
		return 0;
	spec = fuzz_cstring(data, len);
	rules = spec ? filter_rules_new(ds) : NULL;
	if (rules && filter_rules_add(rules, spec, err, sizeof(err)) == 0) {
		rec = sonde_ds_record(ds);
		sonde_field_put_string(sonde_ds_field(ds, "name"), rec, (const char *)data, (uint32_t)len);
		sonde_field_put_int(sonde_ds_field(ds, "i64"), rec, (int64_t)len - 7);
		filter_rules_match(rules, rec);
	}
	filter_rules_free(rules);
	free(spec);
	return 0;
}
