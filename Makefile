# edgemon - GNU make build. Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# User and packager flags (CC, CFLAGS, CPPFLAGS, LDFLAGS, PKG_CONFIG, PREFIX, DESTDIR) are
# honoured from the command line or the environment; the flags the build needs live in
# EM_* variables so a command-line CFLAGS= (as OpenWrt passes) never drops them.

VERSION      := 0.1.0
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
DATADIR      ?= $(PREFIX)/share/edgemon
SYSCONFDIR   ?= /etc
MANDIR       ?= $(PREFIX)/share/man
# systemd unit: Debian's systemdsystemunitdir for PREFIX=/usr, else under PREFIX
# (systemd also searches /usr/local/lib/systemd/system).
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
PKG_CONFIG   ?= pkg-config
INSTALL      ?= install
CFLAGS       ?= -O2 -g
STRIP        ?= strip

# Feature switches (yes|no). MINIMAL=yes is the smallest flash build.
WITH_MQTT      ?= yes
WITH_REDIS_PUB ?= yes
WITH_KUBEMQ    ?= yes
WITH_HTTP      ?= yes
WITH_KAFKA     ?= yes
WITH_NATS      ?= yes
# The local HTTP API and status page (agent/ops/httpd.c, libmicrohttpd at run time).
WITH_HTTPD     ?= yes
ifeq ($(MINIMAL),yes)
WITH_HTTPD  := no
WITH_KUBEMQ := no
WITH_HTTP   := no
WITH_KAFKA  := no
WITH_NATS   := no
endif

# Sanitizers: make SANITIZE=address,undefined test
SANITIZE ?=

B := build
# Where the two programs land: the top of the tree for the default build dir, else
# $(B)/ (cross and minimal builds never replace the host binaries).
ifeq ($(B),build)
OUT ?=
else
OUT ?= $(B)/
endif

# Recursive '=' on purpose: pkg-config runs only when something is compiled, so an
# install step without the cross PKG_CONFIG never queries the build machine.
# The uplink client libraries (libcurl and zlib for kubemq and http, librdkafka,
# libnats) are loaded at run time by the publishers that use them
# (publishers/dl.h): only their headers are needed to build, never their libraries.
PKGS          = libmodbus hiredis libcjson
HDR_PKGS      =
ifneq ($(WITH_KUBEMQ)$(WITH_HTTP),nono)
HDR_PKGS     += libcurl zlib
endif
ifeq ($(WITH_KAFKA),yes)
HDR_PKGS     += rdkafka
endif
ifeq ($(WITH_NATS),yes)
HDR_PKGS     += libnats
endif
ifeq ($(WITH_HTTPD),yes)
HDR_PKGS     += libmicrohttpd
endif
PKG_CFLAGS   ?= $(shell $(PKG_CONFIG) --cflags $(PKGS) $(HDR_PKGS))
PKG_LIBS     ?= $(shell $(PKG_CONFIG) --libs $(PKGS))
# paho.mqtt.c is loaded at run time (publishers/mqtt/paho.h): the TLS variant, and
# with it OpenSSL, only when an mqtts:// publisher is configured. MQTT_TLS=no
# refuses mqtts:// for systems that install only the plain library.
MQTT_TLS     ?= yes
# dlopen is in libc since glibc 2.34 and on musl; older glibc needs libdl.
MQTT_LIBS    ?= -ldl
ifneq ($(MQTT_TLS),yes)
EM_MQTT_TLS_FLAG = -DEM_MQTT_NO_TLS
endif

WARN = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
       -Wshadow -Wpointer-arith -Wformat-security -Wsign-compare -Wno-missing-field-initializers
EM_CPPFLAGS = -D_GNU_SOURCE -DEM_VERSION=\"$(VERSION)\" -I. -Iagent -Iagent/bus -Iagent/dataset -Iagent/queue -Iagent/conf -Iagent/ops -Iagent/features -Idrivers -Idrivers/regmap \
              -Ipublishers $(EM_MQTT_TLS_FLAG)
EM_CFLAGS   = -std=c11 $(WARN) -pthread -MMD -MP -ffunction-sections -fdata-sections
EM_LDFLAGS  = -pthread -Wl,--gc-sections -Wl,--as-needed
EM_LIBS     = $(PKG_LIBS) -lm

PUB_SRC :=
ifeq ($(WITH_MQTT),yes)
EM_CPPFLAGS += -DWITH_MQTT
PUB_SRC     += $(wildcard publishers/mqtt/*.c)
endif
ifeq ($(WITH_REDIS_PUB),yes)
EM_CPPFLAGS += -DWITH_REDIS_PUB
PUB_SRC     += $(wildcard publishers/redis/*.c)
endif
ifeq ($(WITH_KUBEMQ),yes)
EM_CPPFLAGS += -DWITH_KUBEMQ
PUB_SRC     += $(wildcard publishers/kubemq/*.c)
endif
ifeq ($(WITH_HTTP),yes)
EM_CPPFLAGS += -DWITH_HTTP
PUB_SRC     += $(wildcard publishers/http/*.c)
endif
ifneq ($(WITH_KUBEMQ)$(WITH_HTTP),nono)
EM_CPPFLAGS += -DWITH_CURL
PUB_SRC     += $(wildcard publishers/curl/*.c)
endif
ifeq ($(WITH_KAFKA),yes)
EM_CPPFLAGS += -DWITH_KAFKA
PUB_SRC     += $(wildcard publishers/kafka/*.c)
endif
ifeq ($(WITH_NATS),yes)
EM_CPPFLAGS += -DWITH_NATS
PUB_SRC     += $(wildcard publishers/nats/*.c)
# The message ids and seq parsing of publishers/curl/wire.c (no libcurl in it).
PUB_SRC     += $(filter-out $(PUB_SRC),publishers/curl/wire.c)
endif
ifeq ($(WITH_HTTPD),yes)
EM_CPPFLAGS += -DWITH_HTTPD
endif
# Run-time loading (paho and the libraries above) needs libdl on glibc < 2.34.
EM_LIBS     += $(MQTT_LIBS)
PUB_SRC += $(wildcard publishers/*.c)

ifneq ($(SANITIZE),)
EM_CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
EM_LDFLAGS += -fsanitize=$(SANITIZE)
endif
ifeq ($(WERROR),yes)
EM_CFLAGS += -Werror
endif

# SMALL=yes: the firmware build (the OpenWrt package's): size over speed and no
# unwind tables, which C without pthread_cancel never uses (about 13 % of the binary),
# library calls through the GOT rather than a PLT stub each (1.5 KB), and the PIE's
# relative relocations packed as DT_RELR (4 KB: 24 bytes each become a bit in a
# bitmap). DT_RELR needs musl >= 1.2.4 (OpenWrt 23.05 and later) or glibc >= 2.36;
# RELR=no builds for an older libc. Code shares its pages with the read-only data
# (-z noseparate-code: ld's default on ARM and MIPS, not on x86-64, where the page
# padding around a separate code segment costs up to 8 KB of flash).
RELR ?= yes
ifeq ($(SMALL),yes)
EM_SMALL_FLAGS = -Os -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-plt
EM_LDFLAGS += -Wl,-z,noseparate-code
ifeq ($(RELR),yes)
EM_LDFLAGS += -Wl,-z,pack-relative-relocs
endif
endif
ALL_CFLAGS  = $(EM_CPPFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(EM_CFLAGS) $(CFLAGS) $(EM_SMALL_FLAGS)
ALL_LDFLAGS = $(EM_LDFLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

PROFILES   := $(sort $(wildcard conf/profiles/*.json))
LIB_SRC    := $(filter-out agent/main.c, $(wildcard agent/*.c agent/*/*.c)) \
              $(wildcard drivers/*.c) $(wildcard drivers/regmap/*.c) $(wildcard drivers/pms/*.c) \
              $(wildcard drivers/mppt/*.c) $(wildcard drivers/inverter/*.c) $(PUB_SRC)
ifneq ($(WITH_HTTPD),yes)
LIB_SRC    := $(filter-out agent/ops/httpd.c,$(LIB_SRC))
endif
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/profiles.o
ifeq ($(WITH_HTTPD),yes)
LIB_OBJ    += $(B)/gen/page.o
endif
MAIN_OBJ   := $(B)/agent/main.o
SIM_SRC    := $(wildcard tests/sim/*.c)
SIM_OBJ    := $(SIM_SRC:%.c=$(B)/%.o)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_BIN   := $(B)/tools/jsoncmp $(B)/tools/fill
BENCH_SRC  := $(wildcard tests/bench/*.c)
BENCH_BIN  := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)

.PHONY: all test unit check deps demo bench install uninstall clean size valgrind valgrind-agent asan fuzz \
        hiredis1-test chaos

all: $(OUT)edgemon $(OUT)edgemon-sim

$(OUT)edgemon: $(MAIN_OBJ) $(B)/libedgemon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(B)/libedgemon.a $(EM_LIBS) $(LDLIBS)

$(OUT)edgemon-sim: $(SIM_OBJ) $(B)/libedgemon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(SIM_OBJ) $(B)/libedgemon.a $(EM_LIBS) $(LDLIBS)

$(B)/libedgemon.a: $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Built-in profiles: the JSON files become C string constants.
$(B)/gen/profiles.c: $(PROFILES) conf/profiles/embed.sh
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)sh conf/profiles/embed.sh $(PROFILES) > $@.tmp && mv $@.tmp $@

$(B)/gen/profiles.o: $(B)/gen/profiles.c
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The status page is kept in flash gzipped (7.4 KB become 2.9 KB) and sent as it is
# (agent/ops/httpd.c): less flash, and less to pay on a metered link.
$(B)/gen/page.c: agent/ops/page.html
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)gzip -9n <$< >$@.gz && { \
	    echo '/* generated from agent/ops/page.html (gzip -9n) - do not edit */'; \
	    echo '#include <stddef.h>'; \
	    echo 'const unsigned char em_ops_page_gz[] = {'; \
	    od -An -v -tx1 $@.gz | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo '};'; \
	    echo 'const size_t em_ops_page_gz_len = sizeof em_ops_page_gz;'; \
	} >$@.tmp && rm -f $@.gz && mv $@.tmp $@

$(B)/gen/page.o: $(B)/gen/page.c
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libedgemon.a tests/harness.h
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) -o $@ $< $(B)/libedgemon.a $(EM_LIBS) $(LDLIBS)

$(B)/tools/%: tests/tools/%.c $(B)/libedgemon.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libedgemon.a $(EM_LIBS) $(LDLIBS)

$(B)/bench/%: tests/bench/%.c $(B)/libedgemon.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) -o $@ $< $(B)/libedgemon.a $(EM_LIBS) $(LDLIBS)

# librdkafka's mock cluster (a Kafka protocol server) for the Kafka tests only.
ifeq ($(WITH_KAFKA),yes)
TOOL_BIN += $(B)/tools/kafka_mock
endif
$(B)/tools/kafka_mock: LDLIBS += -lrdkafka
$(B)/bench/bench_kafka: LDLIBS += -lrdkafka
ifeq ($(WITH_KAFKA),yes)
$(B)/tests/test_pub_kafka: LDLIBS += -lrdkafka
endif

# libnats for the NATS tests' own stream reader (tests/tools/nats_read.c) only.
ifeq ($(WITH_NATS),yes)
TOOL_BIN += $(B)/tools/nats_read
$(B)/tests/test_pub_nats: LDLIBS += -lnats
endif
$(B)/tools/nats_read: LDLIBS += -lnats

# paho's own ceiling, through its synchronous client as well (bench only).
$(B)/bench/bench_paho: LDLIBS += -lpaho-mqtt3c -lpaho-mqtt3a

# Installs missing Debian packages (apt-get as root, else prints the command).
deps:
	@sh tests/deps.sh

unit: all $(UNIT_BIN) $(TOOL_BIN)
	@sh tests/run.sh --unit-only

# The README's test command: every unit, simulator and integration test.
test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(TOOL_BIN)
	@sh tests/run.sh

check: test

# The sanitizer build replaces the programs at the top of the tree (the integration
# tests run those); the tests run without this make's flags, so the packaging tests'
# own `make B=build ...` builds stay plain.
asan: deps
	@$(MAKE) --no-print-directory B=build-asan OUT= SANITIZE=address,undefined all \
	  $(UNIT_BIN:$(B)/%=build-asan/%) $(TOOL_BIN:$(B)/%=build-asan/%)
	@MAKEFLAGS= B=build-asan SAN_LOGS=1 sh tests/run.sh; rc=$$?; rm -f edgemon edgemon-sim; exit $$rc

valgrind: all $(UNIT_BIN)
	@VALGRIND=1 sh tests/run.sh --unit-only

# The integration tests that exercise the delivery paths, with the agent under
# valgrind (about 3 minutes; not in .ci/run, which runs the ASan build's tests).
VG_AGENT_TESTS ?= t100-*|t101-*|t104-*|t105-*|t110-*|t170-*
valgrind-agent: all $(TOOL_BIN)
	@VALGRIND_AGENT=1 ONLY='$(VG_AGENT_TESTS)' sh tests/run.sh

bench:
	@EXTRA_DEPS="python3-pymodbus python3-serial-asyncio python3-paho-mqtt" sh tests/deps.sh
	@$(MAKE) --no-print-directory all $(BENCH_BIN) $(TOOL_BIN)
	@bash tests/bench/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@bash tests/demo.sh

size: all
	@bash tests/size.sh

# Random faults against a running site, then zero loss proven: CHAOS_S=600 by default.
chaos: deps
	@$(MAKE) --no-print-directory all $(TOOL_BIN)
	@bash tests/chaos.sh

# The Redis code against hiredis 1.x (OpenWrt's), built from Debian's source.
hiredis1-test: deps
	@sh tests/hiredis1.sh

# libFuzzer harnesses (tests/fuzz/fuzz_*.c), built with clang and ASan/UBSan into
# build-fuzz/ (the library with coverage instrumentation), each run for FUZZ_S
# seconds (default 60); fuzz-smoke runs each for a few seconds. Not part of
# `make test`; tests/deps.sh installs clang when missing (EXTRA_DEPS).
FUZZ_S       ?= 60
FUZZ_CC      ?= clang
FUZZ_DEPS    ?= clang libclang-rt-14-dev
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build:
	@EXTRA_DEPS="$(FUZZ_DEPS)" sh tests/deps.sh
	@$(MAKE) --no-print-directory B=build-fuzz CC=$(FUZZ_CC) \
	  SANITIZE=fuzzer-no-link,address,undefined $(FUZZ_BIN)

fuzz: fuzz-build
	@FUZZ_S=$(FUZZ_S) sh tests/fuzz/run.sh

fuzz-smoke: fuzz-build
	@FUZZ_S=$${FUZZ_SMOKE_S:-5} sh tests/fuzz/run.sh

$(B)/fuzz_%: tests/fuzz/fuzz_%.c $(B)/libedgemon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< \
	  $(B)/libedgemon.a $(EM_LIBS) $(LDLIBS)

# The demo site at 100 ms intervals for SOAK_S seconds (default 600): RSS, fds,
# CPU and state_dir writes over time. Not part of `make test`.
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory all
	@bash tests/soak.sh

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/profiles $(DESTDIR)$(SYSCONFDIR)/edgemon
	$(INSTALL) -m 0755 $(OUT)edgemon $(DESTDIR)$(BINDIR)/edgemon
	$(INSTALL) -m 0644 $(PROFILES) $(DESTDIR)$(DATADIR)/profiles/
	$(INSTALL) -m 0644 conf/edgemon.example.json $(DESTDIR)$(DATADIR)/edgemon.example.json
	test -e $(DESTDIR)$(SYSCONFDIR)/edgemon/edgemon.json || \
	  $(INSTALL) -m 0640 conf/edgemon.example.json $(DESTDIR)$(SYSCONFDIR)/edgemon/edgemon.json
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0644 conf/edgemon.1 $(DESTDIR)$(MANDIR)/man1/edgemon.1
	sed 's|/usr/bin/edgemon|$(BINDIR)/edgemon|g' conf/systemd/edgemon.service \
	  > $(DESTDIR)$(SYSTEMDUNITDIR)/edgemon.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/edgemon.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/edgemon $(DESTDIR)$(MANDIR)/man1/edgemon.1
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/edgemon.service
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf $(B) build-asan build-hiredis1 build-fuzz build-small build-min $(OUT)edgemon $(OUT)edgemon-sim

-include $(shell find $(B) -name '*.d' 2>/dev/null)
-include tests/cross/cross.mk
