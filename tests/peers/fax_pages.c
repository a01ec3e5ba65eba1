/*
 * fax_pages.c - what a received fax holds, for the integration tests:
 *
 *   fax_pages FILE.tif [OUTDIR]
 *   fax_pages --coding FILE.tif      prints "mh", "mr" or "mmr" and the
 *                                    vertical resolution: "mmr 98"
 *
 * prints "pages=N" and one line per page "page=I width=W height=H
 * yres=R", and with OUTDIR writes each page as OUTDIR/page-I.pgm for OCR
 * (8-bit grey; standard-resolution pages are stretched to twice their
 * height, so that text looks as it does on paper, and smoothed with a 3x3
 * box filter, which is what tesseract reads best from doubled rows).
 * Exit 1 when the file is not a fax TIFF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "../../src/chan/fax/fax.h"

static int
write_pgm(const char *path, const struct pg_fax_page *p, bool stretch)
{
	int w = p->width, h = p->height * (stretch ? 2 : 1);
	unsigned char *g = malloc((size_t)w * h), *o = malloc((size_t)w * h);
	FILE *f = NULL;
	int rc = -1;

	if (!g || !o || !(f = fopen(path, "wb"))) {
		perror(path);
		goto out;
	}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			g[(size_t)y * w + x] = pg_fax_pixel(p, x, stretch ? y / 2 : y) ? 0 : 255;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int sum = 0, n = 0;
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					int yy = y + dy, xx = x + dx;
					if (!stretch && (dy || dx))
						continue;
					if (yy < 0 || xx < 0 || yy >= h || xx >= w)
						continue;
					sum += g[(size_t)yy * w + xx];
					n++;
				}
			o[(size_t)y * w + x] = (unsigned char)(sum / n);
		}
	fprintf(f, "P5\n%d %d\n255\n", w, h);
	if (fwrite(o, 1, (size_t)w * h, f) == (size_t)w * h)
		rc = 0;
out:
	if (f && fclose(f) != 0)
		rc = -1;
	free(g);
	free(o);
	return rc;
}

int
main(int argc, char **argv)
{
	struct pg_fax_tiff_info in;
	char err[256], path[4096];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: fax_pages FILE.tif [OUTDIR] | --coding FILE.tif\n");
		return 2;
	}
	if (argc == 3 && strcmp(argv[1], "--coding") == 0) {
		if (pg_fax_tiff_check(argv[2], &in, err, sizeof err) != PG_OK) {
			fprintf(stderr, "fax_pages: %s\n", err);
			return 1;
		}
		printf("%s %.0f\n", in.compression == COMPRESSION_CCITTFAX4 ? "mmr" :
		       in.two_d ? "mr" : "mh", in.yres);
		return 0;
	}
	if (pg_fax_tiff_check(argv[1], &in, err, sizeof err) != PG_OK) {
		fprintf(stderr, "fax_pages: %s\n", err);
		return 1;
	}
	printf("pages=%d\n", in.pages);
	for (int i = 1; i <= in.pages; i++) {
		struct pg_fax_page p;
		if (pg_fax_tiff_read(argv[1], i, &p, err, sizeof err) != PG_OK) {
			fprintf(stderr, "fax_pages: %s\n", err);
			return 1;
		}
		printf("page=%d width=%d height=%d yres=%.0f\n", i, p.width, p.height,
		       in.yres);
		if (argc == 3) {
			snprintf(path, sizeof path, "%s/page-%d.pgm", argv[2], i);
			if (write_pgm(path, &p, in.yres < 150) != 0)
				return 1;
		}
		pg_fax_page_free(&p);
	}
	return 0;
}
