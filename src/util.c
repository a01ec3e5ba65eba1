/*
 * util.c - bounded buffers, time, text checks, hashing, randomness (util.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>

#include "pagegate/util.h"

/* ---- bounded buffer ---- */

void
pg_buf_init(struct pg_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
pg_buf_free(struct pg_buf *b)
{
	free(b->data);
	pg_buf_init(b, b->max);
}

void
pg_buf_reset(struct pg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for n more bytes plus the terminator, within b->max. */
static pg_err
buf_reserve(struct pg_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return PG_ERR_TOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return PG_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((p = realloc(b->data, ncap)) == NULL)
		return PG_ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return PG_OK;
}

pg_err
pg_buf_add(struct pg_buf *b, const void *p, size_t n)
{
	pg_err e = buf_reserve(b, n);

	if (e)
		return e;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return PG_OK;
}

pg_err
pg_buf_adds(struct pg_buf *b, const char *s)
{
	return pg_buf_add(b, s, strlen(s));
}

pg_err
pg_buf_vprintf(struct pg_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	pg_err e;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return PG_ERR_INVAL;
	if ((e = buf_reserve(b, (size_t)n)) != PG_OK)
		return e;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return PG_OK;
}

pg_err
pg_buf_printf(struct pg_buf *b, const char *fmt, ...)
{
	va_list ap;
	pg_err e;

	va_start(ap, fmt);
	e = pg_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return e;
}

char *
pg_buf_steal(struct pg_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = strdup("");
	pg_buf_init(b, b->max);
	return p;
}

/* ---- time ---- */

int64_t
pg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
pg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
pg_iso8601(int64_t ms, char buf[PG_ISO_LEN])
{
	time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)s * 1000);
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL) {
		pg_strlcpy(buf, "invalid-time", PG_ISO_LEN);
		return buf;
	}
	size_t n = strftime(buf, PG_ISO_LEN, "%Y-%m-%dT%H:%M:%S", &tm);

	snprintf(buf + n, PG_ISO_LEN - n, ".%03uZ", (unsigned)frac % 1000u);
	return buf;
}

/* Reads exactly n digits at *p into *out; advances *p. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
pg_days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12)
		return 0;
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

int64_t
pg_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
pg_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int
pg_parse_iso8601(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, frac = 0;
	const char *p = s;
	struct tm tm;
	time_t t;

	if (s == NULL)
		return -1;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		int scale = 100, n = 0;

		p++;
		while (isdigit((unsigned char)*p)) {
			if (n++ < 3) {
				frac += (*p - '0') * scale;
				scale /= 10;
			}
			p++;
		}
		if (n == 0)
			return -1;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > pg_days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms = ((int64_t)t - sign * (oh * 3600 + om * 60)) * 1000 + frac;
	return 0;
}

int
pg_parse_duration(const char *s, int64_t *seconds)
{
	char *end;
	long long v;
	int64_t mult = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v < 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 's': mult = 1; end++; break;
	case 'm': mult = 60; end++; break;
	case 'h': mult = 3600; end++; break;
	case 'd': mult = 86400; end++; break;
	default: return -1;
	}
	if (*end != '\0' || v > INT64_MAX / mult / 1000)
		return -1;
	*seconds = v * mult;
	return 0;
}

/* ---- text ---- */

bool
pg_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4; cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

bool
pg_has_ctl(const char *s, bool allow_newlines)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p != 0x7f)
			continue;
		if (allow_newlines && (*p == '\n' || *p == '\r' || *p == '\t'))
			continue;
		return true;
	}
	return false;
}

pg_err
pg_cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return PG_ERR_NOMEM;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
	return rc == 0 ? PG_OK : PG_ERR_NOMEM;
}

void
pg_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, mu, &ts);
}

void
pg_thread_stop(pthread_mutex_t *mu, pthread_cond_t *cv, _Atomic bool *stopping,
	       pthread_t th, bool started)
{
	pthread_mutex_lock(mu);
	*stopping = true;
	pthread_cond_broadcast(cv);
	pthread_mutex_unlock(mu);
	if (started)
		pthread_join(th, NULL);
}

char *
pg_utf8_trim_partial(char *s)
{
	size_t o = strlen(s), k = o, want;
	unsigned char lead;

	while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
		k--;                            /* k - 1: the last lead byte */
	if (k == 0 || !((unsigned char)s[k - 1] & 0x80))
		return s;
	lead = (unsigned char)s[k - 1];
	want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (o - (k - 1) < want)
		s[k - 1] = '\0';
	return s;
}

/* In place: every byte that does not start a well-formed UTF-8 sequence
 * becomes '?', and a sequence cut short by the end of s is dropped, so
 * that peer text can go into JSON and the ledger. */
static void
utf8_mend(char *s)
{
	size_t i = 0, o = 0, want, k;
	unsigned char c;

	while (s[i]) {
		c = (unsigned char)s[i];
		want = c < 0x80 ? 1 : c >= 0xF5 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 :
		       c >= 0xC2 ? 2 : 0;
		for (k = 1; k < want && ((unsigned char)s[i + k] & 0xC0) == 0x80; k++)
			;
		if (want && k == want && pg_utf8_valid(s + i, want)) {
			memmove(s + o, s + i, want);
			o += want;
			i += want;
			continue;
		}
		if (want && k < want && !s[i + k])
			break;                  /* cut short by the end */
		s[o++] = '?';
		i++;
	}
	s[o] = '\0';
}

char *
pg_text_oneline(char *dst, size_t n, const char *src, size_t len)
{
	size_t o = 0, i;
	bool space = true;              /* drops leading blanks */

	for (i = 0; src && i < len && src[i] && o + 1 < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!space)
				dst[o++] = ' ';
			space = true;
			continue;
		}
		dst[o++] = (char)c;
		space = false;
	}
	dst[o] = '\0';
	utf8_mend(dst);
	for (o = strlen(dst); o > 0 && dst[o - 1] == ' '; o--)
		dst[o - 1] = '\0';
	return dst;
}

char *
pg_text_logsafe(char *dst, size_t n, const char *src, size_t len)
{
	size_t o = 0, i;

	for (i = 0; src && i < len && src[i] && o + 1 < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[o++] = c < 0x20 || c == 0x7f ? '?' : c == '"' ? '\'' : (char)c;
	}
	dst[o] = '\0';
	utf8_mend(dst);
	return dst;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) ('+' is a space, %XX a byte; a malformed escape stays
 * literal) into a new string. */
static char *
form_part(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t j = 0;
	int hi, lo;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			o[j++] = ' ';
		else if (s[i] == '%' && i + 2 < n &&
			 (hi = hex_value(s[i + 1])) >= 0 && (lo = hex_value(s[i + 2])) >= 0) {
			o[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else
			o[j++] = s[i];
	}
	o[j] = '\0';
	return o;
}

void
pg_kv_free(struct pg_kv *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

pg_err
pg_form_decode(const char *body, size_t len, size_t max_fields,
		struct pg_kv **out, size_t *n)
{
	struct pg_kv *v = NULL;
	size_t cnt = 0, i = 0;

	*out = NULL;
	*n = 0;
	if (len > 0 && !(v = calloc(max_fields ? max_fields : 1, sizeof *v)))
		return PG_ERR_NOMEM;
	while (i < len) {
		size_t end = i, eq;

		while (end < len && body[end] != '&')
			end++;
		if (end > i) {
			if (cnt == max_fields) {
				*out = v;            /* the first max_fields */
				*n = cnt;
				return PG_ERR_TOOBIG;
			}
			for (eq = i; eq < end && body[eq] != '='; eq++)
				;
			v[cnt].key = form_part(body + i, eq - i);
			v[cnt].value = eq < end ? form_part(body + eq + 1, end - eq - 1) :
				form_part("", 0);
			if (!v[cnt].key || !v[cnt].value) {
				pg_kv_free(v, cnt + 1);
				return PG_ERR_NOMEM;
			}
			cnt++;
		}
		i = end + 1;
	}
	*out = v;
	*n = cnt;
	return PG_OK;
}

char *
pg_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *
pg_strlcpy(char *dst, const char *src, size_t size)
{
	if (size == 0)
		return dst;
	snprintf(dst, size, "%s", src ? src : "");
	return dst;
}

/* ---- hashing and randomness ---- */

void
pg_sha256_hex(const char *s, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(s, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		/* Cannot happen with a working libcrypto; never match anything. */
		memset(out, 'x', 64);
		out[64] = '\0';
		return;
	}
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

bool
pg_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= x[i] ^ y[i];
	return acc == 0;
}

pg_err
pg_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return PG_ERR_IO;
		}
		p += r;
		n -= (size_t)r;
	}
	return PG_OK;
}

uint32_t
pg_random_u32(void)
{
	uint32_t v = 0;

	(void)pg_random(&v, sizeof v);
	return v;
}
