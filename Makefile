# pagegate - message-taking and paging gateway.
#
#   make          build build/pagegated (daemon) and build/pagegate (CLI)
#   make run      build and start the daemon on etc/pagegate.conf with a
#                 local SMTP sink (see README)
#   make test     install missing Debian packages, build, run every test,
#                 then again under AddressSanitizer + UBSan
#   make bench    throughput ratios against ceilings measured in the same run
#   make check T=NAME
#                 build and run one test, unit (test_store) or integration
#                 (t_email); SAN=1 runs it under AddressSanitizer + UBSan
#
# BUILD selects the output directory (build-asan holds the sanitizer build).

CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
LDFLAGS ?=
PKGS     = libmicrohttpd jansson libconfig libical sqlite3 libcurl libesmtp-1.0 libssl libcrypto \
           libmosquitto libxml-2.0 spandsp libtiff-4 freetype2 fontconfig sofia-sip-ua icu-uc icu-i18n \
           libpq

# Recursive (=) so that pkg-config runs only after `make deps` installed them.
PG_CFLAGS = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude \
            $(shell pkg-config --cflags $(PKGS))
PG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread -lm

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

.PHONY: all unit tools deps test check run bench clean
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

$(BUILD)/libpagegate.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/pagegated: $(BUILD)/obj/pagegated.o $(BUILD)/libpagegate.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PG_LIBS)

$(BUILD)/pagegate: $(CLI_OBJ) $(BUILD)/libpagegate.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PG_LIBS)

unit: $(UNIT_BIN)

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

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)
