# doppel — one GNU Makefile.
#
#   make                 build build/rel/doppel (SAN=1: build/san, ASan+UBSan)
#   make check           build and run every test; ends with "tests: N passed, N failed"
#   make SAN=1 check     the same under AddressSanitizer and UndefinedBehaviorSanitizer
#   make fuzz            build the libFuzzer targets with clang into build/fuzz
#   make bench           build and run the benchmarks
#   make install         PREFIX=/usr/local DESTDIR= : binary, web assets, man page
#   make setup           run scripts/setup.sh (packages and models)
#   make format          clang-format every source file in place
#
# Everything links one static library, build/<mode>/libdoppel.a.

PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?= 0
CC      ?= cc
CLANG   ?= clang

# Libraries, found with pkg-config; the set-up script installs them.
PKGS := jansson libturbojpeg libpng libwebp libutf8proc openblas sqlite3 libcurl libmicrohttpd zlib

ifeq ($(SAN),1)
BUILD    := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS   ?= -O1 -g
else
BUILD    := build/rel
SANFLAGS :=
CFLAGS   ?= -O2 -g
endif

# V=1 shows every command.
Q := $(if $(filter 1,$(V)),,@)

WARN := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Werror
DEFS := -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
        -DDOPPEL_SHAREDIR='"$(PREFIX)/share/doppel"'
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS := $(WARN) $(CFLAGS) $(SANFLAGS) $(DEFS) -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) -MMD -MP
LIBS       := $(PKG_LIBS) -lpthread -lm

LIB_SRC  := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libdoppel.a
BIN      := $(BUILD)/doppel
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
HARNESS  := $(BUILD)/tests/check.o
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
GEN      := $(BUILD)/gen/models_lock.inc

.PHONY: all check fuzz bench install uninstall setup format clean deps
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BIN)

# Installs the Debian packages when pkg-config cannot find a library.
deps:
	@pkg-config --exists $(PKGS) || scripts/setup.sh --packages

$(GEN): scripts/models.lock
	@mkdir -p $(@D)
	awk '$$1 == "file" { printf "{\"%s\", \"%s\", \"%s\", \"%s\"},\n", $$2, $$3, $$4, $$5 }' $< > $@

$(BUILD)/%.o: %.c | deps $(GEN)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# The runtime's and the index's kernels: -O3 for full loop vectorisation (GCC's -O2 only
# vectorises loops that need no alias checks).
$(BUILD)/src/nn/%.o: ALL_CFLAGS += -O3
$(BUILD)/src/index/%.o: ALL_CFLAGS += -O3

# The SIMD variants of src/nn/kern.h, each built for its instruction set and called only
# on a CPU that has it (the choice is made at run time).
ISA_avx2   := -mavx2 -mfma
ISA_avx512 := -mavx512f -mavx2 -mfma
$(BUILD)/src/nn/kern_avx2.o: ALL_CFLAGS += $(ISA_avx2)
$(BUILD)/src/nn/kern_avx512.o: ALL_CFLAGS += $(ISA_avx512)

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BIN): $(BUILD)/src/cli/main.o $(LIB)
	$(if $(Q),@echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(HARNESS) $(LIB)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS)

# The fake TMDB server the crawler's tests run against (tests/test_crawl.sh).
FAKE_TMDB := $(BUILD)/tests/fake_tmdb
$(FAKE_TMDB): $(BUILD)/tests/fake_tmdb.o
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS)

check: $(BIN) $(TEST_BIN) $(FAKE_TMDB)
	@tests/run.sh $(BUILD)

bench: $(BIN) $(BENCH_BIN)
	@bench/run.sh $(BUILD)

# libFuzzer targets: clang, ASan+UBSan, the library rebuilt with coverage.
FUZZ_BUILD := build/fuzz
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_OBJ   := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BIN   := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_BUILD)/%)

fuzz: $(FUZZ_BIN)

$(FUZZ_BUILD)/%.o: %.c | deps $(GEN)
	@mkdir -p $(@D)
	$(CLANG) $(WARN) $(DEFS) -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) -MMD -MP \
		-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
		$(ISA_$(*F:kern_%=%)) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJ)
	@mkdir -p $(@D)
	$(CLANG) $(WARN) $(DEFS) -Isrc $(PKG_CFLAGS) $(FUZZ_FLAGS) -o $@ $^ $(LIBS)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/doppel/web
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/doppel
	install -m 0644 docs/doppel.1 $(DESTDIR)$(PREFIX)/share/man/man1/doppel.1
	cp -R web/. $(DESTDIR)$(PREFIX)/share/doppel/web/
	if [ -d models ]; then install -d $(DESTDIR)$(PREFIX)/share/doppel/models && \
		cp -R models/. $(DESTDIR)$(PREFIX)/share/doppel/models/; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/doppel $(DESTDIR)$(PREFIX)/share/man/man1/doppel.1
	rm -rf $(DESTDIR)$(PREFIX)/share/doppel

setup:
	scripts/setup.sh

format:
	clang-format -i $(wildcard src/*/*.c src/*/*.h tests/*.c tests/*.h fuzz/*.c bench/*.c)

clean:
	rm -rf build

-include $(wildcard $(BUILD)/*/*/*.d $(BUILD)/*/*.d $(FUZZ_BUILD)/*/*/*.d)
