# cdkit: plain Makefile.  make; make check; make install PREFIX=... DESTDIR=...
# DEVELOPER=1 adds -Werror; SANITIZE=1 builds with ASan+UBSan; make fuzz
# runs the libFuzzer harnesses (clang, tests/fuzz/README.md); ISAL=0 builds
# gzip layers on zlib even where ISA-L (libisal-dev) is installed.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
DATADIR  ?= $(PREFIX)/share/cdkit
LIBEXECDIR ?= $(PREFIX)/libexec/cdkit
MANDIR   ?= $(PREFIX)/share/man
CC       ?= cc
CFLAGS   ?= -O2 -g
PKG_CONFIG ?= pkg-config

WARN     = -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(DEVELOPER),1)
WARN    += -Werror
endif
ifeq ($(SANITIZE),1)
# gcc leaves float-cast-overflow out of "undefined": a (long long) of an
# outside number like 1e308 must fail too.
CFLAGS  += -O1 -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined,float-cast-overflow
LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
# A sanitizer report must fail the test that ran the tool, whatever exit
# status the test expected (ASan's default, 1, is also our "record failed").
export ASAN_OPTIONS ?= exitcode=86:detect_leaks=1
export UBSAN_OPTIONS ?= exitcode=86:print_stacktrace=1
export LSAN_OPTIONS ?= exitcode=86
endif

# Libraries: pkg-config where a .pc ships; jq 1.6 ships none, so probe its header.
define need_pc
$(if $(shell $(PKG_CONFIG) --exists $(1) && echo y),,$(error $(1) not found: install the Debian package $(2) (or run: bash ci/deps)))
endef
ifeq ($(filter clean uninstall,$(MAKECMDGOALS)),)
$(call need_pc,libcurl,libcurl4-openssl-dev)
$(call need_pc,libarchive,libarchive-dev)
$(call need_pc,libcrypto,libssl-dev)
$(call need_pc,oniguruma,libonig-dev)
$(call need_pc,zlib,zlib1g-dev)
$(call need_pc,libzstd,libzstd-dev)
$(if $(wildcard /usr/include/jq.h /usr/local/include/jq.h),,$(error jq.h not found: install the Debian package libjq-dev (or run: bash ci/deps)))
endif
PC_LIBS   = libcurl libarchive libcrypto oniguruma zlib libzstd
# ISA-L's igzip deflates gzip layers where it is installed; zlib otherwise.
ifneq ($(ISAL),0)
HAVE_ISAL := $(shell $(PKG_CONFIG) --exists libisal && echo y)
endif
ifeq ($(HAVE_ISAL),y)
PC_LIBS  += libisal
DEFLATE   = isal
else
DEFLATE   = zlib
ENGINE_CFLAGS = -DCD_NO_ISAL
endif
DEP_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PC_LIBS)) $(ENGINE_CFLAGS)
DEP_LIBS   = -ljq $(shell $(PKG_CONFIG) --libs $(PC_LIBS)) -lpthread -lm
ZLIB_ONLY_LIBS = -ljq $(shell $(PKG_CONFIG) --libs $(filter-out libisal,$(PC_LIBS))) -lpthread -lm

# tools/lib/<layer>/: one folder per layer (tools/lib/README.md).
LAYERS    = core net registry upstream image vm stage
BASE_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) -Itools/lib -DCD_VERSION='"$(VERSION)"' \
	-DCD_DATADIR='"$(DATADIR)"' $(DEP_CFLAGS)
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(CPPFLAGS)

LIB_SRC  = $(sort $(wildcard $(patsubst %,tools/lib/%/*.c,$(LAYERS))))
LIB_OBJ  = $(LIB_SRC:.c=.o)
LIB_HDR  = $(wildcard $(patsubst %,tools/lib/%/*.h,$(LAYERS)))
TOOL_SRC = $(sort $(wildcard tools/cd-*.c shard/cd-*.c))
TOOLS    = $(patsubst %.c,bin/%,$(notdir $(TOOL_SRC)))
UNIT_SRC = $(sort $(wildcard tests/unit/test-*.c))
UNITS    = $(patsubst tests/unit/%.c,tests/unit/bin/%,$(UNIT_SRC))
# With ISA-L, the layer tests run once more on a zlib-only build of layer.c.
ifeq ($(DEFLATE),isal)
UNITS   += tests/unit/bin/test-layer-zlib
endif
BATS    ?= bats
BATS_JOBS ?=

# Fuzzing: one libFuzzer harness per parser of outside input
# (tests/fuzz/fuzz-<parser>.c), built with clang into FUZZ_DIR so the gcc
# objects of tools/lib stay as they are.  make check replays each seed
# corpus and tests/fuzz/regressions/<parser>/ through the same harnesses
# built with $(CC) (tests/fuzz/replay.c): no clang needed there.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     ?= build/fuzz
FUZZ_NAMES    = $(patsubst tests/fuzz/fuzz-%.c,%,$(sort $(wildcard tests/fuzz/fuzz-*.c)))
FUZZ_BINS     = $(patsubst %,$(FUZZ_DIR)/fuzz-%,$(FUZZ_NAMES))
FUZZ_OBJ      = $(patsubst tools/lib/%.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRC))
FUZZ_CFLAGS   = $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all $(CPPFLAGS)
FUZZ_DEFS     = -Itests/fuzz -DCD_FUZZ_CATALOG='"$(CURDIR)/pipelines/catalog"'
REPLAYS       = $(patsubst %,tests/fuzz/bin/replay-%,$(FUZZ_NAMES))

.PHONY: all check unit fuzz fuzz-build fuzz-replay bats bench demo install uninstall clean lint lint-test
all: $(TOOLS)

tools/lib/libcd.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

tools/lib/%.o: tools/lib/%.c $(LIB_HDR)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The layer writer is rebuilt when the deflate engine changes (ISAL=0 or not).
tools/lib/.deflate-$(DEFLATE):
	rm -f tools/lib/.deflate-*
	touch $@
tools/lib/image/layer.o: tools/lib/.deflate-$(DEFLATE)

bin/%: tools/%.c tools/lib/libcd.a $(LIB_HDR)
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $< tools/lib/libcd.a $(LDFLAGS) $(DEP_LIBS)

bin/%: shard/%.c tools/lib/libcd.a $(LIB_HDR)
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $< tools/lib/libcd.a $(LDFLAGS) $(DEP_LIBS)

tests/unit/bin/%: tests/unit/%.c tests/unit/unit.h tests/unit/canned.h tools/lib/libcd.a $(LIB_HDR)
	@mkdir -p tests/unit/bin
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< tools/lib/libcd.a $(LDFLAGS) $(DEP_LIBS)

# test-layer includes layer.c: built with CD_NO_ISAL and linked without
# libisal, it is the zlib-only build's layer writer.
tests/unit/bin/test-layer-zlib: tests/unit/test-layer.c tools/lib/image/layer.c tests/unit/unit.h tools/lib/libcd.a $(LIB_HDR)
	@mkdir -p tests/unit/bin
	$(CC) $(ALL_CFLAGS) -DCD_NO_ISAL -Itests/unit -o $@ $< tools/lib/libcd.a $(LDFLAGS) $(ZLIB_ONLY_LIBS)

bench/bin/layer-bench: bench/layer-bench.c tools/lib/libcd.a $(LIB_HDR)
	@mkdir -p bench/bin
	$(CC) $(ALL_CFLAGS) -o $@ $< tools/lib/libcd.a $(LDFLAGS) $(DEP_LIBS)

unit: $(UNITS)
	@set -e; for t in $(UNITS); do echo "unit: $$t"; $$t; done

$(FUZZ_DIR)/obj/%.o: tools/lib/%.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/libcd.a: $(FUZZ_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/jq16.c tests/fuzz/fuzz.h tests/unit/canned.h $(FUZZ_DIR)/libcd.a $(LIB_HDR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_DEFS) -fsanitize=fuzzer -o $@ $< tests/fuzz/jq16.c \
		$(FUZZ_DIR)/libcd.a $(DEP_LIBS) -ldl

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run $(FUZZ_NAMES)

tests/fuzz/bin/replay-%: tests/fuzz/fuzz-%.c tests/fuzz/replay.c tests/fuzz/jq16.c tests/fuzz/fuzz.h tests/unit/canned.h \
		tools/lib/libcd.a $(LIB_HDR)
	@mkdir -p tests/fuzz/bin
	$(CC) $(ALL_CFLAGS) $(FUZZ_DEFS) -o $@ $< tests/fuzz/replay.c tests/fuzz/jq16.c \
		tools/lib/libcd.a $(LDFLAGS) $(DEP_LIBS) -ldl

fuzz-replay: $(REPLAYS)
	@set -e; for n in $(FUZZ_NAMES); do \
		tests/fuzz/bin/replay-$$n tests/fuzz/corpus/$$n tests/fuzz/regressions/$$n; done

bats: all
	CDKIT_BIN=$(CURDIR)/bin $(BATS) $(BATS_JOBS) tests/

# The layer rules, banned.h and who may print or exit (tools/lib/README.md).
lint:
	python3 ci/lint .

# ci/lint fails on each planted violation.
lint-test:
	bash ci/lint-test

check: all unit fuzz-replay lint-test bats

bench: all bench/bin/layer-bench
	bash bench/run

demo: all
	bash pipelines/local

# cdkit beside the tools; the scripts it runs (and the Slurm batch script
# its --engine slurm submits) in LIBEXECDIR, which it is told here.
HELPERS  = pipelines/plan-job pipelines/shard-job ci/slurm/cdkit.sbatch
# The tools find the catalog beside their real path (../share/cdkit), so a
# build for one PREFIX runs installed under another (core/datadir.h).
MANPAGES = $(sort $(wildcard man/*.1))
DOCS_TEMPLATES = $(sort $(wildcard pipelines/catalog/docs/*.jq pipelines/catalog/docs/*.md))

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/catalog/docs $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(TOOLS) $(DESTDIR)$(BINDIR)
	sed "s|^libexec='@LIBEXECDIR@'|libexec='$(LIBEXECDIR)'|" pipelines/cdkit > $(DESTDIR)$(BINDIR)/cdkit.tmp
	chmod 0755 $(DESTDIR)$(BINDIR)/cdkit.tmp && mv $(DESTDIR)$(BINDIR)/cdkit.tmp $(DESTDIR)$(BINDIR)/cdkit
	install -m 0755 $(HELPERS) $(DESTDIR)$(LIBEXECDIR)
	install -m 0644 pipelines/catalog/*.json $(DESTDIR)$(DATADIR)/catalog
	install -m 0644 $(DOCS_TEMPLATES) $(DESTDIR)$(DATADIR)/catalog/docs
	$(if $(MANPAGES),install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man1)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(TOOLS)) cdkit)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MANPAGES)))
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR)

clean:
	rm -rf bin tests/unit/bin tests/fuzz/bin bench/bin tools/lib/*/*.o tools/lib/libcd.a tools/lib/.deflate-* $(FUZZ_DIR)
