/*
 * fax_tiff.c - TIFF Class F (RFC 2306) with libtiff: writing the pages a
 * document renders to, checking a file before a call is placed, decoding
 * a page back (fax.h).
 *
 * libtiff's messages go to a per-handle handler (TIFFOpenExt, libtiff >=
 * 4.5) that keeps the first error for the caller, so nothing is printed
 * and no process-wide handler is touched from worker threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tiffio.h>

#include "fax.h"
#include "pagegate/util.h"

#define TIFF_MEM_MAX     (64 << 20)   /* largest single libtiff allocation */
#define MAX_ROWS         10000        /* longest page accepted */
#define MAX_PAGES_READ   1000
#define RES_SLACK        3.0          /* dpi tolerance on resolutions */
#define CM_PER_INCH      2.54
#define SOFTWARE         "pagegate"

/* Where libtiff's first error for one handle goes. */
struct tiff_err {
	char msg[200];
};

static int
on_tiff_error(TIFF *t, void *user, const char *module, const char *fmt, va_list ap)
{
	struct tiff_err *te = user;

	(void)t;
	if (te && !te->msg[0]) {
		char m[160];
		vsnprintf(m, sizeof m, fmt, ap);
		snprintf(te->msg, sizeof te->msg, "%s: %s", module ? module : "libtiff", m);
	}
	return 1;       /* handled: libtiff's global handler stays silent */
}

static int
on_tiff_warning(TIFF *t, void *user, const char *module, const char *fmt, va_list ap)
{
	(void)t;
	(void)user;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1;
}

/* Opens path (mode "r") or fd (mode "w") with our handlers. */
static TIFF *
tiff_open(const char *path, int fd, const char *mode, struct tiff_err *te)
{
	TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
	TIFF *t;

	if (!o)
		return NULL;
	TIFFOpenOptionsSetErrorHandlerExtR(o, on_tiff_error, te);
	TIFFOpenOptionsSetWarningHandlerExtR(o, on_tiff_warning, te);
	TIFFOpenOptionsSetMaxSingleMemAlloc(o, TIFF_MEM_MAX);
	t = fd >= 0 ? TIFFFdOpenExt(fd, path, mode, o) : TIFFOpenExt(path, mode, o);
	TIFFOpenOptionsFree(o);
	return t;
}

/* ---- writing ---- */

static pg_err
write_page(TIFF *t, const struct pg_fax_page *pg, enum pg_fax_coding c,
	   int yres, int page, int pages)
{
	bool ok = true;

	ok &= TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE) == 1;
	ok &= TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)pg->width) == 1;
	ok &= TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)pg->height) == 1;
	ok &= TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1) == 1;
	ok &= TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1) == 1;
	ok &= TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) == 1;
	ok &= TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE) == 1;
	ok &= TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB) == 1;
	ok &= TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT) == 1;
	if (c == PG_FAX_MMR) {
		ok &= TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4) == 1;
		ok &= TIFFSetField(t, TIFFTAG_GROUP4OPTIONS, 0) == 1;
	} else {
		ok &= TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3) == 1;
		ok &= TIFFSetField(t, TIFFTAG_GROUP3OPTIONS,
				   c == PG_FAX_MR ? GROUP3OPT_2DENCODING : 0) == 1;
	}
	ok &= TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)PG_FAX_XRES) == 1;
	ok &= TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)yres) == 1;
	ok &= TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH) == 1;
	ok &= TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, (uint32_t)pg->height) == 1;
	/* TIFF counts pages from 0: page 1 of 3 is stored as 0, 3 */
	ok &= TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)(page - 1), (uint16_t)pages) == 1;
	ok &= TIFFSetField(t, TIFFTAG_CLEANFAXDATA, CLEANFAXDATA_CLEAN) == 1;
	ok &= TIFFSetField(t, TIFFTAG_SOFTWARE, SOFTWARE) == 1;
	if (!ok)
		return PG_ERR_IO;
	for (int y = 0; y < pg->height; y++)
		if (TIFFWriteScanline(t, pg->bits + (size_t)y * pg->stride, (uint32_t)y, 0) < 0)
			return PG_ERR_IO;
	return TIFFWriteDirectory(t) == 1 ? PG_OK : PG_ERR_IO;
}

pg_err
pg_fax_tiff_write(struct pg_fax_doc *d, enum pg_fax_coding c, const char *path,
		  char *err, size_t errlen)
{
	struct tiff_err te = { "" };
	struct pg_fax_page pg;
	char tmp[4096];
	int fd, pages = pg_fax_doc_pages(d);
	TIFF *t;
	pg_err e = PG_OK;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
		snprintf(err, errlen, "path too long");
		return PG_ERR_INVAL;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return PG_ERR_IO;
	}
	if (!(t = tiff_open(tmp, fd, "w", &te))) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, te.msg);
		close(fd);
		unlink(tmp);
		return PG_ERR_IO;
	}
	for (int p = 1; p <= pages && e == PG_OK; p++) {
		if ((e = pg_fax_doc_render(d, p, &pg)) != PG_OK) {
			snprintf(err, errlen, "cannot render page %d: %s", p, pg_strerror(e));
			break;
		}
		if ((e = write_page(t, &pg, c, pg_fax_yres(pg_fax_doc_res(d)), p, pages)) != PG_OK)
			snprintf(err, errlen, "cannot write page %d: %s", p,
				 te.msg[0] ? te.msg : "libtiff failed");
		pg_fax_page_free(&pg);
	}
	if (e == PG_OK && TIFFFlush(t) != 1) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, te.msg);
		e = PG_ERR_IO;
	}
	TIFFClose(t);                   /* closes fd */
	if (e == PG_OK && rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename to %s: %s", path, strerror(errno));
		e = PG_ERR_IO;
	}
	if (e != PG_OK)
		unlink(tmp);
	return e;
}

/* ---- reading ---- */

static bool
near(double v, double want)
{
	return fabs(v - want) <= RES_SLACK;
}

/* Checks the current directory's tags; fills what it learnt. */
static pg_err
check_dir(TIFF *t, int page, struct pg_fax_tiff_info *in, char *err, size_t errlen)
{
	uint32_t w = 0, h = 0, g3 = 0;
	uint16_t bps = 1, spp = 1, comp = 0, photo = 0, unit = RESUNIT_INCH;
	float xr = 0, yr = 0;
	double x, y;

	if (TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w) != 1 ||
	    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h) != 1) {
		snprintf(err, errlen, "page %d: no image size", page);
		return PG_ERR_INVAL;
	}
	TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &comp);
	TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
	if (TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo) != 1)
		photo = 0xffff;
	if (w != PG_FAX_WIDTH) {
		snprintf(err, errlen, "page %d is %u pixels wide, not %d", page,
			 (unsigned)w, PG_FAX_WIDTH);
		return PG_ERR_INVAL;
	}
	if (h < 1 || h > MAX_ROWS) {
		snprintf(err, errlen, "page %d has %u rows (1..%d)", page, (unsigned)h,
			 MAX_ROWS);
		return PG_ERR_INVAL;
	}
	if (bps != 1 || spp != 1 || photo != PHOTOMETRIC_MINISWHITE) {
		snprintf(err, errlen, "page %d is not a bilevel min-is-white image", page);
		return PG_ERR_INVAL;
	}
	if (comp != COMPRESSION_CCITTFAX3 && comp != COMPRESSION_CCITTFAX4) {
		snprintf(err, errlen, "page %d is not T.4/T.6 coded (compression %u)",
			 page, (unsigned)comp);
		return PG_ERR_INVAL;
	}
	if (TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr) != 1 ||
	    TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr) != 1) {
		snprintf(err, errlen, "page %d has no resolution", page);
		return PG_ERR_INVAL;
	}
	x = unit == RESUNIT_CENTIMETER ? xr * CM_PER_INCH : xr;
	y = unit == RESUNIT_CENTIMETER ? yr * CM_PER_INCH : yr;
	if (!(near(x, PG_FAX_XRES) || near(x, 200)) ||
	    !(near(y, 98) || near(y, 196) || near(y, 391))) {
		snprintf(err, errlen, "page %d has no fax resolution (%.0f x %.0f dpi)",
			 page, x, y);
		return PG_ERR_INVAL;
	}
	if (comp == COMPRESSION_CCITTFAX3)
		TIFFGetFieldDefaulted(t, TIFFTAG_GROUP3OPTIONS, &g3);
	if (page == 1 && in) {
		in->compression = comp;
		in->two_d = comp == COMPRESSION_CCITTFAX3 && (g3 & GROUP3OPT_2DENCODING);
		in->width = (int)w;
		in->height = (int)h;
		in->xres = x;
		in->yres = y;
	}
	return PG_OK;
}

/* Decodes the current directory into pg (NULL: decode and discard). */
static pg_err
decode_dir(TIFF *t, int page, struct pg_fax_page *pg, struct tiff_err *te,
	   char *err, size_t errlen)
{
	uint32_t h = 0;
	unsigned char *row;
	tmsize_t sl = TIFFScanlineSize(t);

	TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
	if (sl != PG_FAX_WIDTH / 8) {
		snprintf(err, errlen, "page %d: unexpected scan line size", page);
		return PG_ERR_INVAL;
	}
	if (pg) {
		pg->width = PG_FAX_WIDTH;
		pg->stride = PG_FAX_WIDTH / 8;
		pg->height = (int)h;
		if (!(pg->bits = calloc(h, (size_t)pg->stride)))
			return PG_ERR_NOMEM;
	}
	if (!(row = malloc((size_t)sl))) {
		if (pg)
			pg_fax_page_free(pg);
		return PG_ERR_NOMEM;
	}
	for (uint32_t y = 0; y < h; y++) {
		if (TIFFReadScanline(t, row, y, 0) < 0 || te->msg[0]) {
			snprintf(err, errlen, "page %d row %u does not decode%s%s", page,
				 (unsigned)y, te->msg[0] ? ": " : "", te->msg);
			free(row);
			if (pg)
				pg_fax_page_free(pg);
			return PG_ERR_INVAL;
		}
		if (pg)
			memcpy(pg->bits + (size_t)y * pg->stride, row, (size_t)sl);
	}
	free(row);
	return PG_OK;
}

pg_err
pg_fax_tiff_check(const char *path, struct pg_fax_tiff_info *info, char *err,
		  size_t errlen)
{
	struct tiff_err te = { "" };
	struct pg_fax_tiff_info tmp;
	TIFF *t;
	int page = 0;
	pg_err e = PG_OK;

	if (!info)
		info = &tmp;
	memset(info, 0, sizeof *info);
	if (access(path, R_OK) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return PG_ERR_IO;
	}
	if (!(t = tiff_open(path, -1, "r", &te))) {
		snprintf(err, errlen, "not a TIFF file: %s", te.msg[0] ? te.msg : path);
		return PG_ERR_INVAL;
	}
	do {
		if (++page > MAX_PAGES_READ) {
			snprintf(err, errlen, "more than %d pages", MAX_PAGES_READ);
			e = PG_ERR_INVAL;
			break;
		}
		if ((e = check_dir(t, page, info, err, errlen)) != PG_OK ||
		    (e = decode_dir(t, page, NULL, &te, err, errlen)) != PG_OK)
			break;
	} while (TIFFReadDirectory(t) == 1);
	if (e == PG_OK && te.msg[0]) {
		snprintf(err, errlen, "damaged TIFF: %s", te.msg);
		e = PG_ERR_INVAL;
	}
	info->pages = page;
	TIFFClose(t);
	return e;
}

pg_err
pg_fax_tiff_read(const char *path, int page, struct pg_fax_page *out, char *err,
		 size_t errlen)
{
	struct tiff_err te = { "" };
	TIFF *t;
	pg_err e;

	memset(out, 0, sizeof *out);
	if (!(t = tiff_open(path, -1, "r", &te))) {
		snprintf(err, errlen, "cannot open %s: %s", path, te.msg);
		return PG_ERR_IO;
	}
	if (page < 1 || TIFFSetDirectory(t, (tdir_t)(page - 1)) != 1) {
		snprintf(err, errlen, "no page %d", page);
		TIFFClose(t);
		return PG_ERR_NOTFOUND;
	}
	e = check_dir(t, page, NULL, err, errlen);
	if (e == PG_OK)
		e = decode_dir(t, page, out, &te, err, errlen);
	TIFFClose(t);
	return e;
}
