# ipc-utils: six small IPC tools for the shell.  GNU make.
VERSION = 0.1.0
PREFIX  = /usr/local
BINDIR  = $(PREFIX)/bin
MANDIR  = $(PREFIX)/share/man
COMPDIR = $(PREFIX)/share/bash-completion/completions

CC      ?= cc
CFLAGS  ?= -O2 -g
# Project flags sit on top of the user's CFLAGS, never instead of them.
IPC_CFLAGS = -std=c11 -D_GNU_SOURCE -DIPC_VERSION='"$(VERSION)"' \
	-Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes \
	$(shell pkg-config --cflags libbsd-overlay 2>/dev/null) -Ilib
# Hardening, set here rather than left to the distribution's defaults:
# fortified libc calls (-U first, as a compiler may predefine a lower
# level), stack canaries, a position-independent executable and a GOT
# made read-only once bound at start. The sanitizer build goes without:
# ASan checks what fortify would, and the two do not mix.
HARDEN_CFLAGS = -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
HARDEN_LDFLAGS = -pie -Wl,-z,relro,-z,now
# libbsd is linked statically: as a shared library it adds ~117 us to every
# start, and a shell loop calls these tools thousands of times.
# getaddrinfo_a is in libc from glibc 2.34 and in libanl before: linked only
# if needed, so a newer glibc loads no extra library at start.
IPC_LIBS = -Wl,-Bstatic -lbsd -lmd -Wl,-Bdynamic -lrt -Wl,--as-needed -lanl

# BUILD names the output folder, so the sanitizer build sits beside the normal one.
BUILD   = build
BIN     = $(BUILD)/bin

LIBSRC  = $(sort $(wildcard lib/*.c))
LIBOBJ  = $(LIBSRC:lib/%.c=$(BUILD)/lib/%.o)
TOOLS   = $(sort $(patsubst cmd/%.c,%,$(wildcard cmd/ipc-*.c)))
PROGS   = $(TOOLS:%=$(BIN)/%)
MANSRC  = $(sort $(wildcard man/*.scd))
MANS    = $(MANSRC:man/%.scd=$(BUILD)/man/%)

export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: FORCE fuzz fuzz-run all check check-asan demo bench deps deps-auto install uninstall clean
.DELETE_ON_ERROR:

COMPLETION = $(BUILD)/completions/ipc-utils.bash

all: $(PROGS) $(MANS) $(COMPLETION) bin

# Bash completion, from the tools' own command-line tables (their --help).
$(COMPLETION): completions/gen completions/ipc-utils.bash.in $(PROGS)
	@mkdir -p $(@D)
	sh completions/gen $(BIN) $(TOOLS) >$@

# bin/ is what users and tests run: a link to the normal build's binaries.
bin: | $(BIN)
	ln -sfn $(BIN) bin

$(BUILD)/lib $(BUILD)/cmd $(BIN) $(BUILD)/man:
	mkdir -p $@

# The flags a build was made with: when they change (a new Makefile, other
# CFLAGS), everything is rebuilt, since make alone looks only at dates.
BUILD_FLAGS = $(CC) $(IPC_CFLAGS) $(HARDEN_CFLAGS) $(CPPFLAGS) $(CFLAGS) | $(HARDEN_LDFLAGS) $(LDFLAGS) $(IPC_LIBS)
$(BUILD)/flags: FORCE | $(BUILD)/lib
	@echo '$(BUILD_FLAGS)' | cmp -s - $@ || echo '$(BUILD_FLAGS)' >$@
FORCE:

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h) $(BUILD)/flags | $(BUILD)/lib
	$(CC) $(IPC_CFLAGS) $(HARDEN_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libipc.a: $(LIBOBJ)
	rm -f $@ && $(AR) rcs $@ $(LIBOBJ)

# A tool too big for one file keeps its other parts, and the header they
# share, in cmd/TOOL/: cmd/ipc-mq.c (main) and cmd/ipc-mq/*.c.
tool_parts = $(patsubst cmd/%.c,$(BUILD)/cmd/%.o,$(wildcard cmd/$(1)/*.c))
# The private headers of the tool an object belongs to (stem ipc-mq or
# ipc-mq/send).
tool_hdrs = $(wildcard cmd/$(firstword $(subst /, ,$(1)))/*.h)

# Objects are kept (make would delete them as intermediate files).
.SECONDARY:
.SECONDEXPANSION:
$(BUILD)/cmd/%.o: cmd/%.c $(wildcard lib/*.h) $(BUILD)/flags $$(call tool_hdrs,$$*) | $(BUILD)/cmd
	@mkdir -p $(@D)
	$(CC) $(IPC_CFLAGS) $(HARDEN_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BIN)/%: $(BUILD)/cmd/%.o $$(call tool_parts,$$*) $(BUILD)/libipc.a | $(BIN)
	$(CC) $(HARDEN_CFLAGS) $(CFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libipc.a $(IPC_LIBS)

# Written to a temporary file first: a scdoc error must not leave a
# truncated page that make would then take for up to date.
$(BUILD)/man/%: man/%.scd | $(BUILD)/man
	scdoc < $< > $@.tmp && mv -f $@.tmp $@

# The test suite: bats files run under prove, which ends with a count line
# and shows each failed test with bats's account of it (--failures
# --comments). BATS_TEST_TIMEOUT bounds every test; it must be in the
# environment before bats starts a test (set in setup() it comes too late).
# The signals the tests send start at their default action, whatever the
# caller ignores (a nohup'd CI job ignores SIGHUP, and the tests of
# inherited dispositions ignore them on purpose).
TESTS = test/
export BATS_TEST_TIMEOUT ?= 90
PROVE = env --default-signal=HUP,INT,QUIT,TERM,PIPE prove --failures \
	--comments --exec bats --ext .bats -r
check:
	@$(MAKE) -s deps-auto
	@$(MAKE) all
	IPC_BIN=$(CURDIR)/$(BIN) $(PROVE) $(TESTS)

# ASan+UBSan build of everything, run through the same suite. Sanitizer
# exit codes differ from 1 and 2 so a memory error cannot pass for an
# expected failure.
check-asan:
	@$(MAKE) -s deps-auto
	@$(MAKE) all
	@$(MAKE) BUILD=build-asan HARDEN_CFLAGS= HARDEN_LDFLAGS= CFLAGS='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' $(addprefix build-asan/bin/,$(TOOLS)) \
		build-asan/completions/ipc-utils.bash
	ASAN_OPTIONS=exitcode=86:detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=exitcode=87:halt_on_error=1:print_stacktrace=1 \
	IPC_BIN=$(CURDIR)/build-asan/bin IPC_ASAN=1 $(PROVE) $(TESTS)

demo:
	@$(MAKE) -s deps-auto
	@$(MAKE) -s all
	@PATH=$(CURDIR)/$(BIN):$$PATH sh demo/run.sh

bench:
	@$(MAKE) -s deps-auto
	@$(MAKE) -s all
	@PATH=$(CURDIR)/$(BIN):$$PATH sh bench/run.sh

deps:
	@sh .ci/deps install

# Install only when something is missing, so `make check` on a fresh
# machine needs nothing else and a prepared one pays nothing.
deps-auto:
	@sh .ci/deps auto

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	for t in $(TOOLS); do install -m 755 $(BIN)/$$t $(DESTDIR)$(BINDIR)/$$t || exit 1; done
	for m in $(MANS); do case $$m in \
		*.1) install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/ ;; \
		*.7) install -m 644 $$m $(DESTDIR)$(MANDIR)/man7/ ;; esac || exit 1; done
	mkdir -p $(DESTDIR)$(COMPDIR)
	install -m 644 $(COMPLETION) $(DESTDIR)$(COMPDIR)/ipc-utils
	for t in $(TOOLS); do ln -sf ipc-utils $(DESTDIR)$(COMPDIR)/$$t || exit 1; done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(COMPDIR)/$$t; done
	rm -f $(DESTDIR)$(COMPDIR)/ipc-utils
	for m in $(MANSRC:man/%.scd=%); do case $$m in \
		*.1) rm -f $(DESTDIR)$(MANDIR)/man1/$$m ;; \
		*.7) rm -f $(DESTDIR)$(MANDIR)/man7/$$m ;; esac; done

clean:
	rm -rf build build-asan build-fuzz bin

# Coverage-guided fuzzing (test/fuzz/README.md): each target of
# test/fuzz/ built with clang's libFuzzer and ASan+UBSan, run FUZZTIME
# seconds, one after the other, from its seed corpus (test/fuzz/corpus/T)
# and what earlier runs found (build-fuzz/corpus/T). Not part of check.
# A crash stops it: the input is kept as build-fuzz/crash/T/crash-*, the
# log as build-fuzz/log/T.log.
FUZZTIME = 60
FUZZCC = clang
FUZZ_DIR = build-fuzz
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
FUZZ_TARGETS = $(sort $(patsubst test/fuzz/%_fuzz.c,%,$(wildcard test/fuzz/*_fuzz.c)))
FUZZ_LIBOBJ = $(LIBSRC:lib/%.c=$(FUZZ_DIR)/lib/%.o)
# The parts of a tool that a target tests, beside the library.
FUZZ_PARTS_shm = cmd/ipc-shmcount/counter.c
FUZZ_PARTS_mqsend = cmd/ipc-mq/send.c

$(FUZZ_DIR)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(FUZZCC) $(IPC_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/%_fuzz: test/fuzz/%_fuzz.c test/fuzz/fuzz.c test/fuzz/fuzz.h \
    $$(FUZZ_PARTS_$$*) $(wildcard cmd/*/*.h) $(FUZZ_LIBOBJ)
	$(FUZZCC) $(IPC_CFLAGS) -Icmd $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ \
		$< test/fuzz/fuzz.c $(FUZZ_PARTS_$*) $(FUZZ_LIBOBJ) $(IPC_LIBS)

fuzz:
	@sh .ci/deps auto fuzz
	@$(MAKE) fuzz-run

fuzz-run: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%_fuzz)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crash/$$t $(FUZZ_DIR)/log; \
		log=$(FUZZ_DIR)/log/$$t.log; \
		if ! $(FUZZ_DIR)/$${t}_fuzz -max_total_time=$(FUZZTIME) -timeout=60 \
		    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crash/$$t/ \
		    $(FUZZ_DIR)/corpus/$$t test/fuzz/corpus/$$t >$$log 2>&1; then \
			tail -n 60 $$log; echo "fuzz: $$t: FAILED (input in $(FUZZ_DIR)/crash/$$t/)"; exit 1; \
		fi; \
		echo "fuzz: $$t: $$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' $$log)," \
		    "$$(grep -o 'cov: [0-9]* ft: [0-9]*' $$log | tail -n 1), no crash"; \
	done
