# pagegate - message-taking and paging gateway.
#
#   make          build build/pagegated (daemon) and build/pagegate (CLI)
#   make run      build and start the daemon on etc/pagegate.conf with a
#                 local SMTP sink (see README)
#   make test     install missing Debian packages, build, run every test,
#                 then again under AddressSanitizer + UBSan
#   make bench    the storm bench: one table of figures against ceilings
#                 measured in the same run, with their goals (README)
#   make fuzz     build the libFuzzer harnesses (tests/fuzz/) with clang and
#                 run each for FUZZ_SECONDS (default 60), nproc at a time
#   make check T=NAME
#                 build and run one test, unit (test_store) or integration
#                 (t_email); SAN=1 runs it under AddressSanitizer + UBSan
#   make install  install the programs, templates, example configuration,
#                 the systemd unit and its sysusers.d file under PREFIX
#                 (/usr/local) and DESTDIR (README "Operations")
#
# BUILD selects the output directory (build-asan holds the sanitizer build).

CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
LDFLAGS ?=
PKGS     = libmicrohttpd jansson libconfig libical sqlite3 libcurl libesmtp-1.0 libssl libcrypto \
           libmosquitto libxml-2.0 spandsp libtiff-4 freetype2 fontconfig sofia-sip-ua icu-uc icu-i18n \
           libpq
# sd_notify: readiness and the watchdog under systemd (a no-op without it)
PKGS    += libsystemd

# Recursive (=) so that pkg-config runs only after `make deps` installed them.
PG_CFLAGS = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude \
            $(shell pkg-config --cflags $(PKGS))
PG_LIBS   = $(shell pkg-config --libs $(PKGS)) $(FLITE_LIBS) -lpthread -lm
# Speech for voice calls: espeak-ng, libsamplerate; flite (English) has no
# pkg-config file: its voice, lexicon and engine.
PKGS      += espeak-ng samplerate
FLITE_LIBS = -lflite_cmu_us_awb -lflite_usenglish -lflite_cmulex -lflite

# The library is every source under src/ but the programs: the daemon's
# main (src/pagegated.c) and the CLI (src/cli/), which the daemon never links.
DAEMON_SRC := src/pagegated.c
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LIB_SRC  := $(sort $(filter-out $(DAEMON_SRC) src/cli/%,$(shell find src -name '*.c')))
# The operator console's files, embedded into the library as a table.
WWW_DIR  := src/console/www
WWW_DEPS := $(shell find $(WWW_DIR) 2>/dev/null)
WWW_OBJ  := $(BUILD)/obj/gen/console_www.o
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o) $(WWW_OBJ)
CLI_OBJ  := $(CLI_SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(wildcard tests/bench/*.c)
TOOL_BIN := $(TOOL_SRC:tests/bench/%.c=$(BUILD)/bench/%)
PEER_SRC := $(wildcard tests/peers/*.c)
PEER_BIN := $(PEER_SRC:tests/peers/%.c=$(BUILD)/peers/%)

# Fuzz harnesses: every tests/fuzz/fuzz_NAME.c.  `make test` links each with
# tests/fuzz/replay.c ($(BUILD)/fuzz/fuzz_NAME) to replay its committed
# corpus and crash files; `make fuzz` links it with libFuzzer.
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_HDR := $(wildcard tests/fuzz/*.h)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZER_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzzer/%)
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build-fuzz
FUZZ_FLAGS   = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all

.PHONY: all unit tools deps test check run bench clean install FORCE fuzz fuzzers
.SUFFIXES:

all: $(BUILD)/pagegated $(BUILD)/pagegate

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(PG_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gen/console_www.c: src/console/embed.sh $(WWW_DEPS)
	@mkdir -p $(@D)
	sh src/console/embed.sh $(WWW_DIR) $@

$(WWW_OBJ): $(BUILD)/gen/console_www.c src/intake/intake_priv.h
	@mkdir -p $(@D)
	$(CC) $(PG_CFLAGS) -Isrc/intake $(CFLAGS) -c $< -o $@

# The version, defined once: VERSION_BASE, or `git describe` of the newest
# v* tag when the tree has one (1.2.0-3-gabcdef0).  $(BUILD)/gen/version.h
# carries it to the programs and is rewritten only when it changes.
VERSION_BASE := 0.1.0
ifndef VERSION
VERSION := $(or $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null | sed 's/^v//'),$(VERSION_BASE))
endif

FORCE:

$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(@D)
	@printf '#define PG_VERSION "%s"\n' '$(VERSION)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/obj/pagegated.o $(CLI_OBJ): $(BUILD)/gen/version.h
$(BUILD)/obj/pagegated.o $(CLI_OBJ): PG_CFLAGS += -I$(BUILD)/gen

$(BUILD)/libpagegate.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/pagegated: $(BUILD)/obj/pagegated.o $(BUILD)/libpagegate.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PG_LIBS)

$(BUILD)/pagegate: $(CLI_OBJ) $(BUILD)/libpagegate.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PG_LIBS)

unit: $(UNIT_BIN) $(REPLAY_BIN)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpagegate.a
	@mkdir -p $(@D)
	$(CC) $(PG_CFLAGS) $(CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< $(BUILD)/libpagegate.a $(PG_LIBS) -lcmocka

tools: $(TOOL_BIN) $(PEER_BIN)

# Test peers written for the tests (a fax receiver, a TAP terminal ...).
$(BUILD)/peers/%: tests/peers/%.c $(BUILD)/libpagegate.a
	@mkdir -p $(@D)
	$(CC) $(PG_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libpagegate.a $(PG_LIBS)

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libpagegate.a
	@mkdir -p $(@D)
	$(CC) $(PG_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libpagegate.a $(PG_LIBS)

# A harness with the replay driver (the project's compiler and flags).
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(FUZZ_HDR) $(BUILD)/libpagegate.a
	@mkdir -p $(@D)
	$(CC) $(PG_CFLAGS) -DPG_FUZZ_TOP='"$(CURDIR)"' $(CFLAGS) $(LDFLAGS) -o $@ $< \
		tests/fuzz/replay.c $(BUILD)/libpagegate.a $(PG_LIBS)

# A harness with libFuzzer (clang; the library built with fuzzer-no-link).
$(BUILD)/fuzzer/%: tests/fuzz/%.c $(FUZZ_HDR) $(BUILD)/libpagegate.a
	@mkdir -p $(@D)
	$(CC) $(PG_CFLAGS) -DPG_FUZZ_TOP='"$(CURDIR)"' $(CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(BUILD)/libpagegate.a $(PG_LIBS)

fuzzers: $(FUZZER_BIN)

deps:
	@tests/peers/deps.sh

test: deps
	@tests/all.sh

check:
	@SAN="$(SAN)" tests/check.sh "$(T)"

run: deps all
	@tests/peers/run-demo.sh

bench: deps
	@$(MAKE) --no-print-directory all tools
	@tests/bench/bench.sh

fuzz: deps
	@$(MAKE) --no-print-directory -j$(shell nproc) BUILD=$(FUZZ_BUILD) CC=clang \
		CFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" fuzzers
	@FUZZ_SECONDS="$(FUZZ_SECONDS)" tests/fuzz/run.sh $(FUZZ_BUILD)

clean:
	rm -rf build build-asan $(FUZZ_BUILD)

# ---- install (README "Operations") ----
# The console is compiled into the programs (src/console/embed.sh): there
# are no console files to install.  The live configuration in
# SYSCONFDIR/pagegate is written only when absent (never over an
# operator's); the examples in DATADIR/examples always are.  Without
# DESTDIR, as root, the pagegate user is made (systemd-sysusers) and given
# the configuration's group.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share/pagegate
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DOCDIR      ?= $(PREFIX)/share/doc/pagegate
STATEDIR    := /var/lib/pagegate
CONFDIR      = $(DESTDIR)$(SYSCONFDIR)/pagegate

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/templates \
	  $(DESTDIR)$(DATADIR)/examples/clients $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	  $(DESTDIR)$(DOCDIR)
	install -d -m 750 $(CONFDIR) $(CONFDIR)/clients
	install -m 755 $(BUILD)/pagegated $(DESTDIR)$(SBINDIR)/pagegated
	install -m 755 $(BUILD)/pagegate $(DESTDIR)$(BINDIR)/pagegate
	install -m 644 templates/* $(DESTDIR)$(DATADIR)/templates/
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	sed -e 's|^\(  dsn *= *\)"sqlite:[^"]*"|\1"sqlite:$(STATEDIR)/pagegate.db"|' \
	    -e 's|^templates *= *"[^"]*"|templates = "$(DATADIR)/templates"|' \
	    -e 's|^  { name = "demo"; token_sha256 = "[0-9a-f]*"; }|  # { name = "ops"; token_sha256 = "(pagegate hash-token SECRET)"; }|' \
	    -e 's|^# The demo token below is "demo-token": replace it before real use.|# No demo token is installed: pagegated starts once there is an operator.|' \
	    -e 's|build/pagegate check etc/pagegate.conf|pagegate check $(SYSCONFDIR)/pagegate/pagegate.conf|' \
	    -e 's|build/pagegate hash-token|pagegate hash-token|' \
	    etc/pagegate.conf >$(DESTDIR)$(DATADIR)/examples/pagegate.conf
	chmod 644 $(DESTDIR)$(DATADIR)/examples/pagegate.conf
	install -m 644 etc/clients/*.conf $(DESTDIR)$(DATADIR)/examples/clients/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	    etc/pagegated.service >$(DESTDIR)$(UNITDIR)/pagegated.service
	chmod 644 $(DESTDIR)$(UNITDIR)/pagegated.service
	install -m 644 etc/pagegate.sysusers $(DESTDIR)$(SYSUSERSDIR)/pagegate.conf
	test -e $(CONFDIR)/pagegate.conf || \
	  install -m 640 $(DESTDIR)$(DATADIR)/examples/pagegate.conf $(CONFDIR)/pagegate.conf
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null; then \
	  systemd-sysusers $(SYSUSERSDIR)/pagegate.conf && \
	  chgrp -R pagegate $(CONFDIR) && \
	  echo "pagegate: now edit $(CONFDIR)/pagegate.conf, then: systemctl daemon-reload && systemctl enable --now pagegated"; \
	fi

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)
