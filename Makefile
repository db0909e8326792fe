# ember - hand-written Makefile.
#
#   make            build emberd, emberctl and the tools into build/
#   make run        build, then run emberd in the foreground with defaults
#   make test       build and run every test (unit, end-to-end, differential,
#                   Redis's own suite); installs missing Debian packages when
#                   run as root, else prints the apt-get command
#   make check      test + lints (man pages with mandoc -T lint)
#   make bench      benchmarks (print figures, never fail on timing)
#   make install    PREFIX=/usr/local DESTDIR= ...
#
#   SANITIZE=address,undefined   build everything with ASan+UBSan (into
#                                build-san/ so both builds can coexist)
#   WERROR=1                     -Werror (CI sets it)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
PYTHON  ?= /usr/bin/python3

PKGS     = libevent_core libevent_pthreads liburcu libxxhash libzstd
TESTPKGS = cmocka

ifneq ($(SANITIZE),)
BUILD   ?= build-san
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT     ?= -O1 -g
else
BUILD   ?= build
SANFLAGS =
OPT     ?= -O2 -g
endif

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wno-unused-parameter -Wpointer-arith -Wformat=2
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags $(TESTPKGS) 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null)

CPPFLAGS += -D_GNU_SOURCE -I. $(PKG_CFLAGS)
CFLAGS   += -std=gnu11 $(OPT) $(WARN) $(SANFLAGS) -MMD -MP
LDFLAGS  += $(SANFLAGS)
LDLIBS   += $(PKG_LIBS) -lpthread -lm

SHM_SRC    := $(wildcard shm/*.c)
PERSIST_SRC:= $(wildcard persist/*.c)
WORKER_SRC := $(wildcard worker/*.c)
SUP_SRC    := $(wildcard supervisor/*.c)
CLI_SRC    := $(wildcard cli/*.c)

SHM_OBJ    := $(SHM_SRC:%.c=$(BUILD)/%.o)
PERSIST_OBJ:= $(PERSIST_SRC:%.c=$(BUILD)/%.o)
WORKER_OBJ := $(WORKER_SRC:%.c=$(BUILD)/%.o)
SUP_OBJ    := $(SUP_SRC:%.c=$(BUILD)/%.o)

LIBSHM     := $(BUILD)/libshm.a
LIBPERSIST := $(BUILD)/libpersist.a
LIBWORKER  := $(BUILD)/libworker.a

# Binaries exist once their folder has a main(); the list grows with the tree.
BINS :=
ifneq ($(SUP_SRC),)
BINS += $(BUILD)/emberd
endif
ifneq ($(wildcard cli/emberctl.c),)
BINS += $(BUILD)/emberctl
endif
ifneq ($(wildcard cli/ember-arena.c),)
BINS += $(BUILD)/ember-arena
endif

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC  := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

MANPAGES := $(wildcard man/*.[0-9])


.PHONY: all deps run test unit e2e diff redis-suite check lint bench install man-options \
        uninstall clean sanitize-test
all: $(LIBSHM) $(BINS)

# --- dependencies ----------------------------------------------------------
# Debian 12 packages every target needs.  `make deps` installs what is missing
# when run as root and otherwise prints the exact command.
DEB_BUILD = build-essential pkg-config libevent-dev liburcu-dev libxxhash-dev \
            libzstd-dev libcmocka-dev
DEB_TEST  = redis-server redis-tools python3-redis mandoc tcl dpkg-dev procps \
            util-linux
deps:
	@missing=""; \
	for p in $(DEB_BUILD) $(if $(filter run,$(MAKECMDGOALS)),,$(DEB_TEST)); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" \
	    || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing \
	      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	           apt-get install -y -q $$missing; } || exit 1; \
	  else \
	    echo "missing Debian packages; run:"; \
	    echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

# --- build -----------------------------------------------------------------
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBSHM): $(SHM_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(LIBPERSIST): $(PERSIST_OBJ) | $(LIBSHM)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(LIBWORKER): $(WORKER_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

ALL_LIBS = $(if $(WORKER_SRC),$(LIBWORKER)) $(if $(PERSIST_SRC),$(LIBPERSIST)) $(LIBSHM)

$(BUILD)/emberd: $(SUP_OBJ) $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(SUP_OBJ) $(ALL_LIBS) $(LDLIBS)

$(BUILD)/emberctl: $(BUILD)/cli/emberctl.o $(LIBSHM)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/ember-arena: $(BUILD)/cli/ember-arena.o $(LIBSHM)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: one binary per tests/unit/test_*.c, linked against every
# library, built with asserts on (never -DNDEBUG) and the test hooks.
$(BUILD)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(ALL_LIBS) $(LDLIBS) $(TEST_LIBS)

$(BUILD)/bench/%: tests/bench/%.c $(ALL_LIBS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(ALL_LIBS) $(LDLIBS)

# --- run and test ----------------------------------------------------------
run: deps all
	$(BUILD)/emberd $(ARGS)

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

e2e: all
	@if [ -d tests/e2e ]; then EMBER_BUILD=$(BUILD) $(PYTHON) tests/e2e/run.py; fi

diff: all
	@if [ -f tests/diff/difftest.py ]; then EMBER_BUILD=$(BUILD) $(PYTHON) tests/diff/difftest.py; fi

redis-suite: all
	@if [ -x tests/redis-suite.sh ]; then EMBER_BUILD=$(BUILD) tests/redis-suite.sh; fi

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory diff
	@$(MAKE) --no-print-directory redis-suite

# The sanitizer pass runs the unit and end-to-end tests on an ASan+UBSan build.
sanitize-test: deps
	@$(MAKE) --no-print-directory SANITIZE=address,undefined unit e2e

# The option lists in emberd.8 and ember.conf.5 are generated from the
# settings table (emberd --dump-options) between BEGIN/END OPTIONS markers:
# `make man-options` refreshes them, `make lint` fails if they drifted.
MAN_OPTS = man/emberd.8: man/ember.conf.5:conf
define splice_options
awk -v opts=$(2) '/^\.\\" BEGIN OPTIONS/ { print; while ((getline l < opts) > 0) print l; skip = 1; next } \
     /^\.\\" END OPTIONS/ { skip = 0 } !skip' $(1)
endef

man-options: $(BUILD)/emberd
	@for pair in $(MAN_OPTS); do f=$${pair%%:*}; mode=$${pair#*:}; \
	  $(BUILD)/emberd --dump-options $$mode > $(BUILD)/options.mdoc || exit 1; \
	  $(call splice_options,$$f,$(BUILD)/options.mdoc) > $$f.new && mv $$f.new $$f; done

lint: $(BUILD)/emberd
	@for pair in $(MAN_OPTS); do f=$${pair%%:*}; mode=$${pair#*:}; \
	  $(BUILD)/emberd --dump-options $$mode > $(BUILD)/options.mdoc || exit 1; \
	  $(call splice_options,$$f,$(BUILD)/options.mdoc) | cmp -s - $$f || \
	    { echo "$$f: option list out of date; run make man-options"; exit 1; }; done
	@for m in $(MANPAGES); do mandoc -T lint -W warning $$m || exit 1; done
	@echo "lint: man pages clean and in step with the settings table"

check: test lint

# Every executable script in tests/bench runs; each prints its own table.
bench: all $(BENCH_BINS)
	@for b in tests/bench/*; do \
	  case $$b in *.c) continue;; esac; \
	  [ -x $$b ] && EMBER_BUILD=$(BUILD) $$b; \
	done; true

# --- install ---------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 755 $(BUILD)/emberd $(DESTDIR)$(SBINDIR)/emberd
	install -m 755 $(BUILD)/emberctl $(DESTDIR)$(BINDIR)/emberctl
	install -m 755 $(BUILD)/ember-arena $(DESTDIR)$(SBINDIR)/ember-arena
	for m in $(MANPAGES); do \
	  s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	  install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/emberd $(DESTDIR)$(BINDIR)/emberctl \
	      $(DESTDIR)$(SBINDIR)/ember-arena
	for m in $(MANPAGES); do s=$${m##*.}; \
	  rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
