/* Number to text conversions used by the output formatters: fast decimal
 * integers and the float renderings of Go's encoding/json (ES6 style),
 * strconv 'g' shortest (what YAML output shows) and strconv 'f' fixed. */
#ifndef SONDE_OUTPUT_NUMFMT_H
#define SONDE_OUTPUT_NUMFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Large enough for any rendering below. */
#define NUMBUF 64

/* Decimal; buf holds at least 21 bytes. Returns the length (no NUL). */
size_t fmt_u64(char *buf, uint64_t v);
size_t fmt_i64(char *buf, int64_t v);
/* Uppercase hex without prefix. */
size_t fmt_hex_upper(char *buf, uint64_t v);

/* Shortest decimal digits that read back as the same float of `bits` (32/64):
 * value = 0.d[0]d[1]...d[nd-1] x 10^dp. Zero gives nd = 0. Finite values only. */
struct float_digits {
	char d[24];
	int nd;
	int dp;
	bool neg;
};
void float_shortest(double v, int bits, struct float_digits *out);

/* Go encoding/json: fixed notation for 1e-6 <= |v| < 1e21, else exponent
 * (`1e+21`, `1e-7`). Returns 0 for NaN and infinities (not representable). */
size_t fmt_float_json(char *buf, double v, int bits);
/* Go strconv.FormatFloat(v, 'g', -1, bits): exponent form (`1.5e+06`) when the
 * decimal exponent is < -4 or >= 6, else fixed. Same NaN/Inf rule as _json. */
size_t fmt_float_g(char *buf, double v, int bits);
/* Go strconv.FormatFloat(v, 'f', prec, 64) including NaN, +Inf, -Inf.
 * buf holds FIXEDBUF bytes (any double with prec <= FIXED_MAX_PREC fits). */
#define FIXED_MAX_PREC 30
#define FIXEDBUF       352
size_t fmt_float_fixed(char *buf, double v, int prec);

#endif
