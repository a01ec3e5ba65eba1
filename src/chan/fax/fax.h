/*
 * fax.h - the fax channel's building blocks: text -> pages (FreeType),
 * pages -> TIFF Class F (libtiff), and the T.30 sender session (spandsp)
 * that the transports (SIP, HylaFAX) drive.  Private to the fax channel:
 * included by the files of src/chan/fax/ (and its tests, the test fax
 * receiver and the fax bench); the rest of pagegate reaches the fax
 * through its driver table (`pagegate render` through its preview slot).
 *
 * Render.  The rendered fax.txt template is laid out on pages exactly
 * PG_FAX_WIDTH pixels wide, at fine (204 x 196 dpi) or standard (204 x 98
 * dpi) resolution, US Letter or A4 length.  Its FIRST LINE is the page
 * header: it is printed at the top of every page followed by "Page N of M"
 * at the right edge.  Every further line is body text, word-wrapped
 * (UTF-8, by display width) and paginated; a body line starting with "# "
 * is a title (bold, larger); a line of exactly "---" is a horizontal rule;
 * runs of more than two blank lines count as two; a tab moves to the next
 * tab stop (every 1.25 in, for "Label:<tab>value" columns).  Text is
 * set in DejaVu; a character DejaVu lacks is drawn with the first
 * installed font that has it, in fontconfig's order (Chinese in Noto
 * Sans CJK or WenQuanYi, emoji in Symbola).  Chinese and Japanese lines
 * break between characters; a right-to-left paragraph (Hebrew, Arabic)
 * is set flush right, each line in display order, Arabic letters joined.
 * A symbol or emoji no font has is written as its name, "(fire)"; any
 * other character no font has prints as the replacement mark (and is
 * counted: pg_fax_doc_missing).  Text is composed (NFC) first; controls
 * other than newline and tab are dropped.  Both resolutions break lines
 * and pages in the same places (a standard page is the fine one with row
 * pairs merged).
 *
 * Pixels: 1 bit each, rows of `stride` bytes, the most significant bit
 * leftmost, 1 = black (TIFF PhotometricInterpretation min-is-white).
 */
#ifndef PAGEGATE_FAX_H
#define PAGEGATE_FAX_H

#include "pagegate/common.h"
#include "pagegate/config.h"
#include "../sip.h"

#define PG_FAX_WIDTH      1728        /* pixels: the T.4 A4/Letter width */
#define PG_FAX_XRES       204         /* dpi, both resolutions */
#define PG_FAX_MAX_PAGES  50          /* default bound on one message */
#define PG_FAX_FONT_DIR   "/usr/share/fonts/truetype/dejavu"

enum pg_fax_res { PG_FAX_FINE = 0, PG_FAX_STANDARD };
enum pg_fax_paper { PG_FAX_LETTER = 0, PG_FAX_A4 };
/* MH = T.4 one-dimensional, MR = T.4 two-dimensional, MMR = T.6. */
enum pg_fax_coding { PG_FAX_MH = 0, PG_FAX_MR, PG_FAX_MMR };

/* Line styles of the layout. */
enum pg_fax_style { PG_FAX_BODY = 0, PG_FAX_TITLE, PG_FAX_RULE };

/* The installed fonts as fontconfig lists them, for the fallback:
 * shared by the documents of a process (thread-safe).  The list is
 * loaded when the first document needs a font other than DejaVu (about
 * 3 ms) and kept until pg_fax_fontdb_free.  new: PG_ERR_NOMEM. */
struct pg_fax_fontdb;
pg_err pg_fax_fontdb_new(struct pg_fax_fontdb **out);
void pg_fax_fontdb_free(struct pg_fax_fontdb *db);

struct pg_fax_opts {
	enum pg_fax_res res;
	enum pg_fax_paper paper;
	int max_pages;               /* 0 = PG_FAX_MAX_PAGES */
	const char *font_dir;        /* NULL = PG_FAX_FONT_DIR */
	bool no_fallback;            /* DejaVu only, no other font (tests) */
	struct pg_fax_fontdb *fontdb;/* NULL = the document loads the list
					itself if it needs it */
};

/* "fine"/"standard", "letter"/"a4", "mh"/"mr"/"mmr" -> 0 and *out, or -1. */
int pg_fax_res_parse(const char *s, enum pg_fax_res *out);
int pg_fax_paper_parse(const char *s, enum pg_fax_paper *out);
int pg_fax_coding_parse(const char *s, enum pg_fax_coding *out);
const char *pg_fax_coding_name(enum pg_fax_coding c);
/* Vertical resolution in dpi: 196 or 98. */
int pg_fax_yres(enum pg_fax_res r);

/* One page bitmap (see the top of this file). */
struct pg_fax_page {
	int width, height, stride;
	unsigned char *bits;
};
void pg_fax_page_free(struct pg_fax_page *p);
/* True when pixel (x, y) is black. */
bool pg_fax_pixel(const struct pg_fax_page *p, int x, int y);

/* A laid-out document: the text broken into lines and pages, with the
 * fonts it needs, ready to rasterise one page at a time (so memory stays
 * one page however long the message). */
struct pg_fax_doc;

/* Lays out text (the rendered template, UTF-8).  Errors: PG_ERR_INVAL
 * (not UTF-8), PG_ERR_IO (a font cannot be loaded), PG_ERR_TOOBIG (more
 * than max_pages pages), PG_ERR_NOMEM; err says which. */
pg_err pg_fax_layout(const char *text, const struct pg_fax_opts *o,
		     struct pg_fax_doc **out, char *err, size_t errlen);
void pg_fax_doc_free(struct pg_fax_doc *d);
int pg_fax_doc_pages(const struct pg_fax_doc *d);
enum pg_fax_res pg_fax_doc_res(const struct pg_fax_doc *d);
/* Page height in rows (every page of a document has the same). */
int pg_fax_doc_height(const struct pg_fax_doc *d);
/* Body lines after wrapping, for inspection: line i's text (not
 * NUL-terminated, len bytes), its 1-based page and style.  PG_ERR_NOTFOUND
 * past the end. */
size_t pg_fax_doc_lines(const struct pg_fax_doc *d);
pg_err pg_fax_doc_line(const struct pg_fax_doc *d, size_t i, const char **text,
		       size_t *len, int *page, enum pg_fax_style *style);
/* Line i as it is drawn, left to right: for a line with right-to-left
 * text its characters in display order (Arabic in joining forms), and
 * *rtl when it is set flush right; otherwise the text pg_fax_doc_line
 * gives.  PG_ERR_NOTFOUND past the end. */
pg_err pg_fax_doc_line_shown(const struct pg_fax_doc *d, size_t i, const char **text,
			     size_t *len, bool *rtl);
/* How many characters of the header and body no installed font has:
 * each is drawn as the replacement mark. */
size_t pg_fax_doc_missing(const struct pg_fax_doc *d);
/* The header line of page (1-based): the template's first line, then
 * "Page N of M" after a gap (in the bitmap it sits at the right edge; the
 * header text is cut with "..." when both do not fit). */
void pg_fax_doc_header(const struct pg_fax_doc *d, int page, char *buf, size_t n);
/* Rasterises page (1-based) into *out (caller frees with
 * pg_fax_page_free).  PG_ERR_NOTFOUND for a page out of range. */
pg_err pg_fax_doc_render(struct pg_fax_doc *d, int page,
			 struct pg_fax_page *out);

/* ---- TIFF Class F (fax_tiff.c) ---- */

/* Writes every page of d to path as a multi-page TIFF-F with coding c:
 * SubFileType page, width 1728, one strip per page, min-is-white,
 * FillOrder LSB-to-MSB, resolution 204 x 196/98 per inch, PageNumber
 * N/M.  The file is written under a temporary name and renamed. */
pg_err pg_fax_tiff_write(struct pg_fax_doc *d, enum pg_fax_coding c,
			 const char *path, char *err, size_t errlen);

struct pg_fax_tiff_info {
	int pages;
	int compression;             /* libtiff COMPRESSION_* of page 1 */
	bool two_d;                  /* T.4 with 2-D coding (MR) */
	int width;                   /* of every page (checked equal) */
	int height;                  /* of page 1 */
	double xres, yres;           /* dots per inch, page 1 */
};
/* Checks that path is a fax spandsp can send: readable, every page 1728
 * wide, 1 bit per sample, one sample, T.4 or T.6 coded, a fax resolution,
 * a sane length, and every row decodes.  Fills *info (may be NULL).
 * PG_ERR_INVAL with the reason in err when not; PG_ERR_IO when the file
 * cannot be opened. */
pg_err pg_fax_tiff_check(const char *path, struct pg_fax_tiff_info *info,
			 char *err, size_t errlen);
/* Decodes page (1-based) of a fax TIFF into *out. */
pg_err pg_fax_tiff_read(const char *path, int page, struct pg_fax_page *out,
			char *err, size_t errlen);

/* ---- the T.30 sender session (fax_t30.c) ---- */

/* How the session reaches the far end: G.711 audio through spandsp's
 * fax modems, or T.38 IFP packets through its T.38 terminal. */
enum pg_fax_media { PG_FAX_AUDIO = 0, PG_FAX_T38 };

#define PG_FAX_RATE        PG_SIP_RATE /* audio samples per second */
#define PG_FAX_IDENT_MAX   PG_SIP_IDENT_MAX /* T.30 station identifier */

/* What a session (or a call around it) came to, for the job's reply and
 * the ledger. */
struct pg_fax_result {
	enum pg_outcome outcome;
	int t30_code;                /* T30_ERR_*; -1 when T.30 never ended */
	int pages_sent;
	int pages_total;
	int bit_rate;                /* bit/s of the last page; 0 = none */
	bool ecm;
	char remote_id[PG_FAX_IDENT_MAX + 1];  /* far end's CSI */
	char text[160];              /* spandsp's completion text or our reason */
	char via[64];                /* "SIP T.38", "SIP G.711 PCMU", ... */
};

/* The ledger text: "<text>: 3 of 3 pages, 14400 bit/s, ECM, remote
 * \"ID\", via SIP T.38" (the parts that are known). */
void pg_fax_result_format(const struct pg_fax_result *r, char *buf, size_t n);

/* How a T.30 completion code counts: OK; PERM for a far end that cannot
 * take this fax (incompatible, resolution, size, capability, refused
 * identity) or a file spandsp cannot send; TEMP for everything on the
 * line (timeouts, training, carrier, dropped call) worth another try. */
enum pg_outcome pg_fax_t30_outcome(int t30_code);

struct pg_fax_tx_opts {
	const char *tiff;            /* checked with pg_fax_tiff_check first */
	const char *local_id;        /* our TSI, NULL = none */
	bool no_ecm;                 /* ECM is offered unless set */
	bool no_pacing;              /* T.38: no real-time pacing (tests) */
	int64_t watchdog_ms;         /* media time after which the session ends
					as a temporary failure; 0 = 5 minutes */
};

/* Called with each T.38 IFP packet to send, count times (the terminal's
 * repetition of indicators). */
typedef void (*pg_fax_t38_send)(void *arg, const uint8_t *ifp, int len, int count);

struct pg_fax_tx;
/* A calling-party (sending) session.  For PG_FAX_T38 send is required.
 * PG_ERR_NOMEM or PG_ERR_INVAL (no file). */
pg_err pg_fax_tx_new(enum pg_fax_media m, const struct pg_fax_tx_opts *o,
		     pg_fax_t38_send send, void *arg, struct pg_fax_tx **out);
void pg_fax_tx_free(struct pg_fax_tx *tx);
enum pg_fax_media pg_fax_tx_media(const struct pg_fax_tx *tx);
/* Audio: consumes n received samples (rx NULL = silence) and writes n
 * samples to send into out. */
void pg_fax_tx_audio(struct pg_fax_tx *tx, const int16_t *rx, int16_t *out, int n);
/* T.38: a received IFP packet with its sequence number. */
void pg_fax_tx_t38_rx(struct pg_fax_tx *tx, const uint8_t *ifp, int len, uint16_t seq);
/* T.38: n samples' worth of time passed (drives timers and pacing). */
void pg_fax_tx_t38_tick(struct pg_fax_tx *tx, int n);
/* True once T.30 reached phase E or the watchdog fired. */
bool pg_fax_tx_done(const struct pg_fax_tx *tx);
/* Media time so far, ms. */
int64_t pg_fax_tx_elapsed_ms(const struct pg_fax_tx *tx);
/* The outcome.  A session not done yet is ended first (the call went
 * away): T.30 is terminated and `why` ("far end hung up") becomes the
 * text, a temporary failure unless every page had been confirmed. */
void pg_fax_tx_result(struct pg_fax_tx *tx, const char *why, struct pg_fax_result *r);

/* ---- SIP transport (fax_sip.c, over ../sip.h's calls) ---- */

/* Calls number through trunk g and sends the fax in tiff (already
 * checked): T.38 first when g->t38, G.711 after a 488.  Always fills *r:
 * busy, no answer, SIP 5xx, line failures and the watchdog are
 * temporary; numbers that do not exist, refused credentials, media the
 * far end will not take and incompatible fax machines are permanent. */
void pg_fax_sip_send(const struct pg_sip_gw *g, const char *number,
		     const char *tiff, struct pg_fax_result *r);

/* ---- HylaFAX transport (fax_hylafax.c) ---- */

/* A HylaFAX server's client-server protocol (hfaxd -i, port 4559): FTP
 * with job commands. */
struct pg_fax_hylafax {
	const char *name;            /* for logs */
	const char *host;
	int port;
	const char *user, *password; /* password NULL = none asked */
	int timeout_s;               /* per command and data transfer */
	int max_dials, max_tries;    /* the job's MAXDIALS / MAXTRIES */
};

/* What a submission needs besides the file. */
struct pg_fax_hylafax_job {
	const char *number;          /* dial string: "+15555550100" */
	const char *tiff;            /* checked TIFF-F */
	enum pg_fax_res res;
	enum pg_fax_paper paper;
	int64_t give_up_s;           /* the job's LASTTIME, from now (at least
					PG_FAX_JOB_MIN_S) */
};
#define PG_FAX_JOB_MIN_S   60

/* Logs in, stores the TIFF (STOT), creates and submits a job.  Sets
 * *jobid and reply ("HylaFAX job 12 queued on HOST: 3 pages").
 * Connection trouble, time-outs and 4xx replies are temporary; 5xx
 * replies (refused login, bad number) permanent. */
enum pg_outcome pg_fax_hylafax_submit(const struct pg_fax_hylafax *h,
	const struct pg_fax_hylafax_job *j, unsigned *jobid, char *reply, size_t n);

enum pg_fax_job_state {
	PG_FAXJOB_PENDING = 0,       /* queued, waiting, sending */
	PG_FAXJOB_DONE,              /* sent */
	PG_FAXJOB_FAILED,            /* failed or killed */
};
/* The state of job jobid, with HylaFAX's own words in detail ("213
 * DONE", the job's status text).  PG_ERR_TEMPFAIL when the server
 * cannot be asked, PG_ERR_NOTFOUND for a job it does not know. */
pg_err pg_fax_hylafax_state(const struct pg_fax_hylafax *h, unsigned jobid,
	enum pg_fax_job_state *st, char *detail, size_t n);

/* ---- device options (chan_fax.c) ---- */

#define PG_FAX_TEMPLATE "fax.txt"     /* the body template */

/* A fax device's page options: resolution = "fine"|"standard" (default
 * fine), paper = "letter"|"a4" (letter), coding = "mh"|"mr"|"mmr" (mh, the
 * coding of the TIFF file; spandsp re-codes for the line). */
struct pg_fax_devopts {
	enum pg_fax_res res;
	enum pg_fax_paper paper;
	enum pg_fax_coding coding;
};
/* Fills *out from dev (NULL = defaults).  Returns NULL, or the name of
 * the first option whose value is not understood. */
const char *pg_fax_device_opts(const struct pg_device *dev,
			       struct pg_fax_devopts *out);

#endif
