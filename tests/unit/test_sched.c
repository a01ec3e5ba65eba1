/*
 * test_sched.c - the scheduler against a real store (SQLite in a mkdtemp
 * directory) and a real configuration, with a test channel driver plugged
 * in through the set of running drivers (pg_channels_start with a lookup
 * of its own): rendering, priorities (an
 * emergency behind routine work goes first), batching, retries and
 * give-up, permanent failures, holds, expiry, missing drivers and
 * contacts, reload at start, content levels, and digests of held
 * deliveries released together.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pagegate/log.h"
#include "pagegate/sched.h"
#include "pagegate/util.h"

#define WAIT_MS 10000           /* bound for every wait on a condition */
#define MAX_CALLS 64

/* ---- the test driver: records calls, answers from a script ---- */

static struct recorder {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool gate_closed;           /* send() blocks while set */
	int in_call;
	int calls, starts, stops;
	size_t n[MAX_CALLS];
	int64_t dids[MAX_CALLS][16];
	enum pg_urgency urg[MAX_CALLS][16];
	char subject[512], body[1024], to_name[128], address[128];
	bool subject_null;
	enum pg_outcome script[16]; /* outcome per job, in order; then ok */
	int nscript, pos;
	int njobs;                  /* every job of every call, in order: */
	char jbody[MAX_CALLS][1024], jsubj[MAX_CALLS][256], jaddr[MAX_CALLS][128];
} R = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static const char *const replies[PG_OUT__COUNT] = {
	"250 2.0.0 Ok: queued", "450 4.3.0 try later", "550 5.1.1 no such user",
};

static void
tdrv_send(void *state, const struct pg_config *cfg, const char *gw,
	  struct pg_job *jobs, size_t n)
{
	(void)state;
	(void)cfg;
	(void)gw;
	pthread_mutex_lock(&R.mu);
	int c = R.calls < MAX_CALLS ? R.calls : MAX_CALLS - 1;
	R.n[c] = n;
	for (size_t i = 0; i < n && i < 16; i++) {
		R.dids[c][i] = jobs[i].delivery_id;
		R.urg[c][i] = jobs[i].urgency;
	}
	for (size_t i = 0; i < n && R.njobs < MAX_CALLS; i++, R.njobs++) {
		pg_strlcpy(R.jbody[R.njobs], jobs[i].body, sizeof R.jbody[0]);
		pg_strlcpy(R.jsubj[R.njobs], jobs[i].subject ? jobs[i].subject : "",
			   sizeof R.jsubj[0]);
		pg_strlcpy(R.jaddr[R.njobs], jobs[i].address, sizeof R.jaddr[0]);
	}
	R.subject_null = jobs[0].subject == NULL;
	pg_strlcpy(R.subject, jobs[0].subject ? jobs[0].subject : "", sizeof R.subject);
	pg_strlcpy(R.body, jobs[0].body, sizeof R.body);
	pg_strlcpy(R.to_name, jobs[0].to_name ? jobs[0].to_name : "", sizeof R.to_name);
	pg_strlcpy(R.address, jobs[0].address, sizeof R.address);
	R.in_call++;
	R.calls++;
	pthread_cond_broadcast(&R.cv);
	while (R.gate_closed)
		pthread_cond_wait(&R.cv, &R.mu);
	for (size_t i = 0; i < n; i++) {
		enum pg_outcome o = R.pos < R.nscript ? R.script[R.pos++] : PG_OUT_OK;
		jobs[i].outcome = o;
		pg_strlcpy(jobs[i].reply, replies[o], sizeof jobs[i].reply);
	}
	R.in_call--;
	pthread_mutex_unlock(&R.mu);
}

/* The same driver job by job (send_each): each job started through ctl,
 * recorded in R.order, held at the gate, answered ok and reported done;
 * it checks in the store (R.store) that the job before was recorded sent
 * once the scheduler answered the next one's start (the outcome and the
 * next attempt share a commit), whether it lets that job go or not. */
static struct pg_store *rec_store;
static int64_t order[MAX_CALLS];
static int norder, not_recorded;

static size_t
tdrv_send_each(void *state, const struct pg_config *cfg, const char *gw,
	       struct pg_job *jobs, size_t n, const struct pg_send_ctl *ctl)
{
	struct pg_delivery d;
	size_t i;

	(void)state;
	(void)cfg;
	(void)gw;
	pthread_mutex_lock(&R.mu);
	R.calls++;
	pthread_cond_broadcast(&R.cv);
	pthread_mutex_unlock(&R.mu);
	for (i = 0; i < n; i++) {
		bool go = ctl->start(ctl->arg, i);

		if (i > 0) {
			assert_int_equal(pg_store_get_delivery(rec_store, jobs[i - 1].delivery_id, &d), PG_OK);
			not_recorded += d.state != PG_D_SENT;
			pg_delivery_free(&d);
		}
		if (!go)
			return i;
		pthread_mutex_lock(&R.mu);
		if (norder < MAX_CALLS)
			order[norder++] = jobs[i].delivery_id;
		R.in_call++;
		pthread_cond_broadcast(&R.cv);
		while (R.gate_closed)
			pthread_cond_wait(&R.cv, &R.mu);
		R.in_call--;
		pthread_mutex_unlock(&R.mu);
		pg_job_set(&jobs[i], PG_OUT_OK, "%s", replies[PG_OUT_OK]);
		ctl->done(ctl->arg, i);
	}
	return n;
}

static pg_err
tdrv_start(const struct pg_config *cfg, const struct pg_chan_host *host, void **state)
{
	(void)cfg;
	(void)host;
	pthread_mutex_lock(&R.mu);
	R.starts++;
	pthread_mutex_unlock(&R.mu);
	*state = &R;
	return PG_OK;
}

static void
tdrv_stop(void *state)
{
	assert_ptr_equal(state, &R);
	pthread_mutex_lock(&R.mu);
	R.stops++;
	pthread_mutex_unlock(&R.mu);
}

static struct pg_channel tdrv = {
	.name = "email", .kind = PG_CH_EMAIL, .max_batch = 1,
	.subject_template = "email.subject", .body_template = "email.txt",
	.start = tdrv_start, .stop = tdrv_stop, .send = tdrv_send,
};

/* Email goes to the test driver; no other channel has one. */
static const struct pg_channel *
test_channel_for(enum pg_channel_kind k)
{
	return k == PG_CH_EMAIL ? &tdrv : NULL;
}

static void
recorder_reset(void)
{
	pthread_mutex_lock(&R.mu);
	R.gate_closed = false;
	R.in_call = R.calls = R.starts = R.stops = 0;
	R.nscript = R.pos = 0;
	R.njobs = 0;
	memset(R.n, 0, sizeof R.n);
	memset(R.dids, 0, sizeof R.dids);
	pthread_mutex_unlock(&R.mu);
	tdrv.max_batch = 1;
	tdrv.body_escape = PG_ESC_NONE;
	tdrv.send_each = NULL;
	norder = not_recorded = 0;
}

static void
gate(bool closed)
{
	pthread_mutex_lock(&R.mu);
	R.gate_closed = closed;
	pthread_cond_broadcast(&R.cv);
	pthread_mutex_unlock(&R.mu);
}

/* ---- fixture: temp dir, config, store ---- */

struct fx {
	char dir[64];
	struct pg_config *cfg;
	struct pg_live_config live;
	struct pg_store *store;
	struct pg_metrics metrics;
	struct pg_sched *s;
	struct pg_channels *ch;      /* the test driver, running */
	int seq;
};

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char buf[2048], sub[256];
	struct pg_diags d;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/pg-test-sched-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(sub, sizeof sub, "%s/templates", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof sub, "%s/clients", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(buf, sizeof buf,
		"listen = \"127.0.0.1\";\nport = 8025;\n"
		"store = { dsn = \"sqlite:%s/db.sqlite\"; max_mb = 0; };\n"
		"templates = \"%s/templates\";\nclients = \"%s/clients\";\n"
		"workers = 1;\n"
		"operators = ( { name = \"t\"; token_sha256 = \"%064d\"; } );\n"
		"smtp = ( { name = \"sink\"; host = \"127.0.0.1\"; port = 9; starttls = \"off\";\n"
		"           from = \"gw@test.example\"; timeout = 5; batch = 10; } );\n"
		"retry = { email = { base = \"1s\"; cap = \"2s\"; give_up = \"1h\"; }; };\n",
		f->dir, f->dir, f->dir, 0);
	write_file(f->dir, "pagegate.conf", buf);
	write_file(f->dir, "templates/email.subject", "{{client.name}}: {{caller.name}}");
	write_file(f->dir, "templates/email.txt", "{{text}} (for {{contact.name}}, d{{delivery.id}})");
	write_file(f->dir, "templates/notify.subject", "{{client.name}}: message waiting");
	write_file(f->dir, "templates/notify.txt", "Call {{callback}}, ref {{message.ack_ref}}");
	write_file(f->dir, "templates/digest.subject", "{{client.name}}: {{messages.count}} messages");
	write_file(f->dir, "templates/digest.txt",
		"{{messages.count}} for {{contact.name}}\n{{#messages}}\n"
		"- {{caller.name}}: {{text}} (d{{delivery.id}})\n{{/messages}}\nend");
	write_file(f->dir, "clients/acme.conf",
		"id = \"acme\";\nname = \"Acme Heating\";\ntimezone = \"UTC\";\n"
		"callback = \"+18005550100\";\n"
		"business_hours = ( { days = \"Sun-Sat\"; from = \"00:00\"; to = \"24:00\"; } );\n"
		"contacts = ( { id = \"office\"; name = \"Front Office\";\n"
		"  devices = ( { channel = \"email\"; to = \"office@acme.example\"; } ); },\n"
		"  { id = \"jane\"; name = \"Jane\";\n"
		"  devices = ( { channel = \"email\"; to = \"jane@acme.example\"; } ); },\n"
		"  { id = \"pg\"; name = \"Pager Mail\";\n"
		"  devices = ( { channel = \"email\"; to = \"pg@acme.example\"; content = \"notify\"; } ); } );\n"
		"rules = ( { notify = \"contact:office\"; } );\n");
	snprintf(buf, sizeof buf, "%s/pagegate.conf", f->dir);
	pg_diags_init(&d);
	if (pg_config_load(buf, &f->cfg, &d) != PG_OK) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s:%d: %s\n", d.v[i].file, d.v[i].line, d.v[i].msg);
		fail_msg("test configuration does not load");
	}
	pg_diags_free(&d);
	pg_live_init(&f->live, f->cfg);
	snprintf(buf, sizeof buf, "%s/db.sqlite", f->dir);
	assert_int_equal(pg_store_open(buf, 0, &f->store), PG_OK);
	pg_metrics_init(&f->metrics);
	recorder_reset();
	*state = f;
	return 0;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	gate(false);
	pg_sched_stop(f->s);
	pg_channels_stop(f->ch);
	pg_store_close(f->store);
	pg_live_destroy(&f->live);
	assert_int_equal(nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(f);
	return 0;
}

static void
start(struct fx *f, int workers)
{
	struct pg_sched_deps deps = {
		.store = f->store, .live = &f->live, .metrics = &f->metrics,
		.workers = workers,
	};

	struct pg_config *cfg = pg_live_get(&f->live);

	assert_int_equal(pg_channels_start(cfg, NULL, test_channel_for, &f->ch), PG_OK);
	pg_config_release(cfg);
	deps.channels = f->ch;
	assert_int_equal(pg_sched_start(&deps, &f->s), PG_OK);
}

/* Stops the scheduler: attempts under way (and their metrics) finish. */
static void
stop(struct fx *f)
{
	pg_sched_stop(f->s);
	f->s = NULL;
	pg_channels_stop(f->ch);
	f->ch = NULL;
}

/* Submits one message with one delivery; returns the delivery id. */
static int64_t
submit(struct fx *f, enum pg_urgency u, enum pg_channel_kind ch, const char *contact,
       enum pg_dstate st, int64_t next_try, int64_t expires, bool add)
{
	char text[64], caller[] = "Ann", phone[] = "555-0100", client[] = "acme",
	     op[] = "t", cname[] = "Front Office";
	char cid[32], addr[64];
	struct pg_message m;
	struct pg_delivery d;
	int64_t now = pg_now_ms();

	snprintf(text, sizeof text, "message %d", ++f->seq);
	pg_strlcpy(cid, contact, sizeof cid);
	snprintf(addr, sizeof addr, "%s@acme.example", strcmp(contact, "ghost") ? contact : "office");
	memset(&m, 0, sizeof m);
	m.client_id = client;
	m.kind = PG_KIND_MESSAGE;
	m.urgency = u;
	m.caller_name = caller;
	m.caller_phone = phone;
	m.text = text;
	m.operator_name = op;
	m.received_ms = now;
	memset(&d, 0, sizeof d);
	d.contact_id = cid;
	d.contact_name = cname;
	d.channel = ch;
	d.address = addr;
	d.state = st;
	d.priority = pg_priority(m.kind, u);
	d.created_ms = now;
	d.next_try_ms = next_try ? next_try : now;
	d.expires_ms = expires ? expires : now + 3600 * 1000;
	assert_int_equal(pg_store_submit(f->store, &m, &d, 1, "test", NULL), PG_OK);
	if (add)
		assert_int_equal(pg_sched_add(f->s, &d), PG_OK);
	return d.id;
}

static enum pg_dstate
dstate(struct fx *f, int64_t did, int *attempts, char *reply, size_t rlen)
{
	struct pg_delivery d;
	enum pg_dstate s;

	assert_int_equal(pg_store_get_delivery(f->store, did, &d), PG_OK);
	s = d.state;
	if (attempts)
		*attempts = d.attempts;
	if (reply)
		pg_strlcpy(reply, d.last_reply ? d.last_reply : "", rlen);
	pg_delivery_free(&d);
	return s;
}

/* Polls until did reaches state st, at most WAIT_MS. */
static void
wait_state(struct fx *f, int64_t did, enum pg_dstate st)
{
	int64_t end = pg_mono_ms() + WAIT_MS;
	struct timespec ts = { 0, 5 * 1000000L };

	while (dstate(f, did, NULL, NULL, 0) != st) {
		if (pg_mono_ms() > end)
			fail_msg("delivery %lld: still %s, want %s", (long long)did,
				 pg_dstate_name(dstate(f, did, NULL, NULL, 0)), pg_dstate_name(st));
		nanosleep(&ts, NULL);
	}
}

static void
wait_calls(int n)
{
	int64_t end = pg_mono_ms() + WAIT_MS;
	struct timespec ts;

	pthread_mutex_lock(&R.mu);
	while (R.calls < n) {
		if (pg_mono_ms() > end) {
			pthread_mutex_unlock(&R.mu);
			fail_msg("driver called %d times, want %d", R.calls, n);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 5 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&R.cv, &R.mu, &ts);
	}
	pthread_mutex_unlock(&R.mu);
}

/* Counts ledger events of a type for message of delivery did. */
static int
events(struct fx *f, int64_t did, const char *type, char *detail, size_t dlen)
{
	struct pg_delivery d;
	struct pg_message_full mf;
	int n = 0;

	assert_int_equal(pg_store_get_delivery(f->store, did, &d), PG_OK);
	assert_int_equal(pg_store_get_message(f->store, d.message_id, &mf), PG_OK);
	for (size_t i = 0; i < mf.n_events; i++)
		if (strcmp(mf.events[i].type, type) == 0 && mf.events[i].delivery_id == did) {
			n++;
			if (detail)
				pg_strlcpy(detail, mf.events[i].detail ? mf.events[i].detail : "", dlen);
		}
	pg_message_full_free(&mf);
	pg_delivery_free(&d);
	return n;
}

/* ---- tests ---- */

static void
test_sent_with_rendered_templates(void **state)
{
	struct fx *f = *state;
	char reply[256], want[128];
	int attempts;
	size_t q, h;

	start(f, 2);
	int64_t did = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, true);
	wait_state(f, did, PG_D_SENT);
	pg_sched_depth(f->s, &q, &h);
	assert_int_equal(q, 0);
	assert_int_equal(h, 0);
	stop(f);
	assert_int_equal(dstate(f, did, &attempts, reply, sizeof reply), PG_D_SENT);
	assert_int_equal(attempts, 1);
	assert_string_equal(reply, "250 2.0.0 Ok: queued");
	assert_string_equal(R.subject, "Acme Heating: Ann");
	assert_false(R.subject_null);
	snprintf(want, sizeof want, "message 1 (for Front Office, d%lld)", (long long)did);
	assert_string_equal(R.body, want);
	assert_string_equal(R.to_name, "Front Office");
	assert_string_equal(R.address, "office@acme.example");
	assert_int_equal(R.starts, 1);
	assert_int_equal(f->metrics.attempts[PG_CH_EMAIL][PG_OUT_OK], 1);
	assert_int_equal(f->metrics.delivered[PG_CH_EMAIL], 1);
	assert_int_equal(R.stops, 1);
}

static void
test_emergency_first_at_start(void **state)
{
	struct fx *f = *state;
	int64_t routine[20], emerg;

	for (int i = 0; i < 20; i++)
		routine[i] = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, false);
	emerg = submit(f, PG_URG_EMERGENCY, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, false);
	tdrv.max_batch = 4;
	start(f, 1);
	wait_state(f, routine[19], PG_D_SENT);
	wait_state(f, emerg, PG_D_SENT);
	stop(f);
	/* the emergency leads its call: the worker's (routine work filling
	 * the rest of that batch) or the reserve worker's (alone: it takes
	 * priority 0 only), whichever took it; the routine work goes out in
	 * arrival order, 21 jobs in 6 calls of at most 4 either way */
	int k = 0, e_call = -1, e_pos = -1, total = 0;

	assert_int_equal(R.calls, 6);
	for (int c = 0; c < R.calls; c++) {
		assert_true(R.n[c] <= 4);
		total += (int)R.n[c];
		for (int i = 0; i < (int)R.n[c]; i++) {
			if (R.dids[c][i] == emerg) {
				e_call = c;
				e_pos = i;
				assert_int_equal(R.urg[c][i], PG_URG_EMERGENCY);
				continue;
			}
			assert_int_equal(R.dids[c][i], routine[k]);
			k++;
		}
	}
	assert_int_equal(total, 21);
	assert_int_equal(k, 20);
	assert_true(e_call >= 0);
	assert_int_equal(e_pos, 0);
}

/* A driver that sends job by job: its session stops before its next job
 * for an urgent message (the reserve worker takes only emergencies), the
 * rest of the batch goes back unstarted (no attempt recorded) and is sent
 * right after the urgent one; each outcome is in the store before the
 * next job starts. */
static void
test_session_yields_to_urgent(void **state)
{
	struct fx *f = *state;
	int64_t r[6], urgent;
	int attempts;

	for (int i = 0; i < 6; i++)
		r[i] = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, false);
	tdrv.max_batch = 8;
	tdrv.send_each = tdrv_send_each;
	rec_store = f->store;
	gate(true);
	start(f, 1);
	wait_calls(1);                       /* the worker holds r[0] at the gate */
	urgent = submit(f, PG_URG_URGENT, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, true);
	gate(false);
	wait_state(f, r[5], PG_D_SENT);
	stop(f);
	assert_int_equal(norder, 7);
	assert_int_equal(order[0], r[0]);
	assert_int_equal(order[1], urgent);  /* the session ended after r[0] */
	for (int i = 1; i < 6; i++)
		assert_int_equal(order[i + 1], r[i]);
	assert_int_equal(R.calls, 2);        /* [r0 (r1..r5 handed back)], [urgent r1..r5] */
	for (int i = 0; i < 6; i++) {
		assert_int_equal(dstate(f, r[i], &attempts, NULL, 0), PG_D_SENT);
		assert_int_equal(attempts, 1);   /* none for the hand-back */
	}
	assert_int_equal(not_recorded, 0);
}

static void
test_emergency_overtakes_queue(void **state)
{
	struct fx *f = *state;
	int64_t r[6], emerg;

	for (int i = 0; i < 6; i++)
		r[i] = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, false);
	gate(true);
	start(f, 1);
	wait_calls(1);                       /* the worker is busy with r[0] */
	assert_int_equal(R.dids[0][0], r[0]);
	emerg = submit(f, PG_URG_EMERGENCY, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, true);
	int64_t urgent = submit(f, PG_URG_URGENT, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, true);
	gate(false);
	wait_state(f, r[5], PG_D_SENT);
	stop(f);
	assert_int_equal(R.dids[1][0], emerg);   /* next after the one under way */
	assert_int_equal(R.dids[2][0], urgent);
	assert_int_equal(R.dids[3][0], r[1]);
	assert_int_equal(R.calls, 8);
}

static void
test_batching_same_gateway(void **state)
{
	struct fx *f = *state;
	int64_t a, b, c;

	a = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, false);
	b = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, false);
	c = submit(f, PG_URG_URGENT, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, false);
	tdrv.max_batch = 10;
	start(f, 1);
	wait_state(f, b, PG_D_SENT);
	stop(f);
	assert_int_equal(R.calls, 1);
	assert_int_equal(R.n[0], 3);
	assert_int_equal(R.dids[0][0], c);
	assert_int_equal(R.dids[0][1], a);
	assert_int_equal(R.dids[0][2], b);
}

static void
test_retry_then_sent(void **state)
{
	struct fx *f = *state;
	char reply[256];
	int attempts;

	R.script[0] = PG_OUT_TEMP;
	R.nscript = 1;
	start(f, 1);
	int64_t did = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, true);
	int64_t t0 = pg_mono_ms();
	wait_state(f, did, PG_D_SENT);
	/* base 1 s with +-20 % jitter */
	assert_true(pg_mono_ms() - t0 >= 800);
	stop(f);
	dstate(f, did, &attempts, reply, sizeof reply);
	assert_int_equal(attempts, 2);
	assert_string_equal(reply, "250 2.0.0 Ok: queued");
	assert_int_equal(events(f, did, "retry_scheduled", NULL, 0), 1);
	assert_int_equal(f->metrics.attempts[PG_CH_EMAIL][PG_OUT_TEMP], 1);
	assert_int_equal(f->metrics.attempts[PG_CH_EMAIL][PG_OUT_OK], 1);
}

static void
test_gives_up(void **state)
{
	struct fx *f = *state;
	char reply[256];
	int attempts;

	for (int i = 0; i < 16; i++)
		R.script[i] = PG_OUT_TEMP;
	R.nscript = 16;
	start(f, 1);
	/* expires 1.5 s from now: attempt 1 at 0, attempt 2 after 0.8-1.2 s,
	 * then the next delay (1.6-2 s) passes the give-up time */
	int64_t did = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED,
			     0, pg_now_ms() + 1500, true);
	wait_state(f, did, PG_D_FAILED);
	stop(f);
	dstate(f, did, &attempts, reply, sizeof reply);
	assert_int_equal(attempts, 2);
	assert_string_equal(reply, "gave up after 2 attempts: 450 4.3.0 try later");
	assert_int_equal(f->metrics.failed[PG_CH_EMAIL], 1);
	assert_int_equal(f->metrics.attempts[PG_CH_EMAIL][PG_OUT_TEMP], 2);
}

static void
test_perm_fails_at_once(void **state)
{
	struct fx *f = *state;
	char reply[256];
	int attempts;

	R.script[0] = PG_OUT_PERM;
	R.nscript = 1;
	start(f, 1);
	int64_t did = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED, 0, 0, true);
	wait_state(f, did, PG_D_FAILED);
	stop(f);
	dstate(f, did, &attempts, reply, sizeof reply);
	assert_int_equal(attempts, 1);
	assert_string_equal(reply, "550 5.1.1 no such user");
	assert_int_equal(R.calls, 1);
	assert_int_equal(f->metrics.failed[PG_CH_EMAIL], 1);
}

static void
test_hold_released(void **state)
{
	struct fx *f = *state;
	size_t q, h;

	start(f, 1);
	int64_t t0 = pg_mono_ms();
	int64_t did = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_HELD,
			     pg_now_ms() + 300, 0, true);
	pg_sched_depth(f->s, &q, &h);
	assert_int_equal(h, 1);
	assert_int_equal(q, 0);
	assert_int_equal(R.calls, 0);
	wait_state(f, did, PG_D_SENT);
	assert_true(pg_mono_ms() - t0 >= 250);
	assert_int_equal(events(f, did, "released", NULL, 0), 1);
	pg_sched_depth(f->s, &q, &h);
	assert_int_equal(h, 0);
}

static void
test_expired_fails_without_attempt(void **state)
{
	struct fx *f = *state;
	char detail[256];
	int attempts;

	start(f, 1);
	int64_t did = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED,
			     0, pg_now_ms() - 1, true);
	wait_state(f, did, PG_D_FAILED);
	stop(f);
	dstate(f, did, &attempts, NULL, 0);
	assert_int_equal(attempts, 0);
	assert_int_equal(R.calls, 0);
	assert_int_equal(events(f, did, "failed", detail, sizeof detail), 1);
	assert_string_equal(detail, "expired before it could be sent");
	assert_int_equal(f->metrics.failed[PG_CH_EMAIL], 1);
}

static void
test_no_driver(void **state)
{
	struct fx *f = *state;
	char detail[256];
	int attempts;

	start(f, 1);
	int64_t did = submit(f, PG_URG_ROUTINE, PG_CH_SMS, "office", PG_D_QUEUED, 0, 0, true);
	wait_state(f, did, PG_D_FAILED);
	stop(f);
	dstate(f, did, &attempts, NULL, 0);
	assert_int_equal(attempts, 0);
	assert_int_equal(events(f, did, "failed", detail, sizeof detail), 1);
	assert_string_equal(detail, "channel sms is not available in this build");
	assert_int_equal(f->metrics.failed[PG_CH_SMS], 1);
}

static void
test_missing_contact(void **state)
{
	struct fx *f = *state;
	char reply[256];
	int attempts;

	start(f, 1);
	int64_t did = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "ghost", PG_D_QUEUED, 0, 0, true);
	wait_state(f, did, PG_D_FAILED);
	stop(f);
	dstate(f, did, &attempts, reply, sizeof reply);
	assert_int_equal(attempts, 1);
	assert_string_equal(reply, "contact ghost of client acme no longer configured");
	assert_int_equal(R.calls, 0);
	assert_int_equal(f->metrics.attempts[PG_CH_EMAIL][PG_OUT_PERM], 1);
}

static void
test_reload_at_start(void **state)
{
	struct fx *f = *state;
	size_t q, h;
	int64_t later = pg_now_ms() + 3600 * 1000;

	submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_QUEUED, later, later + 1000, false);
	submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_HELD, later, later + 1000, false);
	submit(f, PG_URG_URGENT, PG_CH_EMAIL, "office", PG_D_QUEUED, later, later + 1000, false);
	start(f, 3);
	pg_sched_depth(f->s, &q, &h);
	assert_int_equal(q, 2);
	assert_int_equal(h, 1);
	assert_int_equal(R.calls, 0);
	stop(f);                            /* nothing due: stops at once */
	start(f, 1);
	pg_sched_depth(f->s, &q, &h);
	assert_int_equal(q + h, 3);
}

/* A device at content "notify" gets notify.txt/notify.subject with the
 * callback number and the ack reference, and none of the message. */
static void
test_notify_level(void **state)
{
	struct fx *f = *state;
	struct pg_message m;
	struct pg_delivery d;
	char want[64];

	start(f, 1);
	int64_t did = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "pg", PG_D_QUEUED, 0, 0, true);
	wait_state(f, did, PG_D_SENT);
	stop(f);
	assert_int_equal(pg_store_get_delivery(f->store, did, &d), PG_OK);
	assert_int_equal(pg_store_get_msg(f->store, d.message_id, &m), PG_OK);
	snprintf(want, sizeof want, "Call +18005550100, ref %s", m.ack_ref);
	assert_string_equal(R.body, want);
	assert_string_equal(R.subject, "Acme Heating: message waiting");
	assert_string_equal(R.address, "pg@acme.example");
	pg_message_free(&m);
	pg_delivery_free(&d);
}

/* Index of the recorded job sent to addr; fails if not exactly one. */
static int
job_to(const char *addr)
{
	int found = -1;

	for (int i = 0; i < R.njobs; i++)
		if (strcmp(R.jaddr[i], addr) == 0) {
			if (found >= 0)
				fail_msg("two sends to %s", addr);
			found = i;
		}
	if (found < 0)
		fail_msg("no send to %s", addr);
	return found;
}

/* Three held deliveries for one recipient and one for another, released
 * together: two sends, the digest listing the three messages; every
 * delivery sent with its own attempt, the digest ones saying so. */
static void
test_digest_released_together(void **state)
{
	struct fx *f = *state;
	int64_t at = pg_now_ms() + 400, off[3], jane;
	char want[256], reply[256];
	int attempts;

	tdrv.max_batch = 10;
	start(f, 2);
	for (int i = 0; i < 3; i++)
		off[i] = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_HELD, at, 0, true);
	jane = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "jane", PG_D_HELD, at, 0, true);
	for (int i = 0; i < 3; i++)
		wait_state(f, off[i], PG_D_SENT);
	wait_state(f, jane, PG_D_SENT);
	stop(f);
	assert_int_equal(R.calls, 1);
	assert_int_equal(R.njobs, 2);
	int o = job_to("office@acme.example"), j = job_to("jane@acme.example");
	snprintf(want, sizeof want,
		 "3 for Front Office\n- Ann: message 1 (d%lld)\n- Ann: message 2 (d%lld)\n"
		 "- Ann: message 3 (d%lld)\nend",
		 (long long)off[0], (long long)off[1], (long long)off[2]);
	assert_string_equal(R.jbody[o], want);
	assert_string_equal(R.jsubj[o], "Acme Heating: 3 messages");
	snprintf(want, sizeof want, "message 4 (for Jane, d%lld)", (long long)jane);
	assert_string_equal(R.jbody[j], want);
	assert_string_equal(R.jsubj[j], "Acme Heating: Ann");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dstate(f, off[i], &attempts, reply, sizeof reply), PG_D_SENT);
		assert_int_equal(attempts, 1);
		snprintf(want, sizeof want, "250 2.0.0 Ok: queued (in a digest of 3, sent as "
			 "delivery %lld)", (long long)off[0]);
		assert_string_equal(reply, want);
		assert_int_equal(events(f, off[i], "released", NULL, 0), 1);
		assert_int_equal(events(f, off[i], "sent", NULL, 0), 1);
	}
	assert_int_equal(dstate(f, jane, &attempts, reply, sizeof reply), PG_D_SENT);
	assert_string_equal(reply, "250 2.0.0 Ok: queued");
	assert_int_equal(f->metrics.attempts[PG_CH_EMAIL][PG_OUT_OK], 4);
}

/* A driver that takes one job per send (fax) still gets one digest. */
static void
test_digest_one_per_send(void **state)
{
	struct fx *f = *state;
	int64_t at = pg_now_ms() + 300, d[3];

	tdrv.max_batch = 1;
	start(f, 1);
	for (int i = 0; i < 3; i++)
		d[i] = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_HELD, at, 0, true);
	for (int i = 0; i < 3; i++)
		wait_state(f, d[i], PG_D_SENT);
	stop(f);
	assert_int_equal(R.calls, 1);
	assert_int_equal(R.n[0], 1);
	assert_non_null(strstr(R.jbody[0], "3 for Front Office"));
}

/* A digest that fails for now is retried as a digest: every delivery
 * has two attempts and the same outcome. */
static void
test_digest_retries_together(void **state)
{
	struct fx *f = *state;
	int64_t at = pg_now_ms() + 300, d[3];
	int attempts;

	R.script[0] = PG_OUT_TEMP;
	R.nscript = 1;
	tdrv.max_batch = 10;
	start(f, 1);
	for (int i = 0; i < 3; i++)
		d[i] = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_HELD, at, 0, true);
	for (int i = 0; i < 3; i++)
		wait_state(f, d[i], PG_D_SENT);
	stop(f);
	assert_int_equal(R.calls, 2);
	assert_int_equal(R.njobs, 2);
	assert_non_null(strstr(R.jbody[0], "3 for Front Office"));
	assert_non_null(strstr(R.jbody[1], "3 for Front Office"));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dstate(f, d[i], &attempts, NULL, 0), PG_D_SENT);
		assert_int_equal(attempts, 2);
		assert_int_equal(events(f, d[i], "retry_scheduled", NULL, 0), 1);
	}
}

/* A digest for a device at "notify" lists the messages without their
 * text or caller. */
static void
test_digest_notify_level(void **state)
{
	struct fx *f = *state;
	int64_t at = pg_now_ms() + 300, d[2];
	char want[128];

	tdrv.max_batch = 10;
	start(f, 1);
	for (int i = 0; i < 2; i++)
		d[i] = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "pg", PG_D_HELD, at, 0, true);
	for (int i = 0; i < 2; i++)
		wait_state(f, d[i], PG_D_SENT);
	stop(f);
	assert_int_equal(R.njobs, 1);
	snprintf(want, sizeof want, "2 for Pager Mail\n- :  (d%lld)\n- :  (d%lld)\nend",
		 (long long)d[0], (long long)d[1]);
	assert_string_equal(R.jbody[0], want);
}

/* A channel whose body is JSON (mqtt) sends held pages one by one. */
static void
test_digest_not_for_json(void **state)
{
	struct fx *f = *state;
	int64_t at = pg_now_ms() + 300, d[2];

	tdrv.max_batch = 10;
	tdrv.body_escape = PG_ESC_JSON;
	start(f, 1);
	for (int i = 0; i < 2; i++)
		d[i] = submit(f, PG_URG_ROUTINE, PG_CH_EMAIL, "office", PG_D_HELD, at, 0, true);
	for (int i = 0; i < 2; i++)
		wait_state(f, d[i], PG_D_SENT);
	stop(f);
	tdrv.body_escape = PG_ESC_NONE;
	assert_int_equal(R.njobs, 2);
	assert_non_null(strstr(R.jbody[0], "message 1 (for Front Office"));
	assert_non_null(strstr(R.jbody[1], "message 2 (for Front Office"));
}

int
main(void)
{
	pg_log_set_level(PG_LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sent_with_rendered_templates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emergency_first_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emergency_overtakes_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_yields_to_urgent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batching_same_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_then_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_perm_fails_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_released, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_fails_without_attempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_contact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_released_together, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_one_per_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_retries_together, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_notify_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_not_for_json, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
